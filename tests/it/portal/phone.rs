//! The phone number in the Toolbox: verified with the code sent by SMS; codes expire, die after
//! five tries and have a cool-down.

use crate::support::org::{Org, signed_in};
use crate::support::{TestServer, both_engines, input_value};

async fn with_phone(server: &TestServer, email: &str) -> crate::support::Client {
    let user = signed_in(server, email).await;
    let page = user.get("/toolbox").await;
    let v = input_value(&page.body, "version").unwrap();
    let res = user
        .post_form(
            "/toolbox/profile",
            &page.body,
            &[
                ("version", &v),
                ("first_name", "P"),
                ("language", "en"),
                ("country_code", "SE"),
                ("phone_country", "SE"),
                ("phone_number", "070-123 45 67"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    user
}

both_engines!(
    a_phone_is_verified_with_the_code_sent_by_sms,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        Org::build(&server).await;
        let user = with_phone(&server, "plain@a.test").await;
        let page = user.get("/toolbox").await;
        assert!(page.body.contains("Not verified"));
        let sent = user
            .post_form("/toolbox/phone/send-code", &page.body, &[])
            .await;
        assert_eq!(sent.status, 303);
        let sms = server.texts(1).await;
        assert_eq!(sms[0].to, "+46701234567");
        assert_eq!(sms[0].authorization, "Bearer gateway-secret");
        assert!(!sms[0].id.is_empty());
        let code = sms[0].code();
        assert_eq!(code.len(), 6, "{}", sms[0].text);
        // Nothing of the code is stored in the clear.
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM sms_codes WHERE code_hash LIKE '$argon2id$%'")
                .await,
            1
        );
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let page = user.get("/toolbox").await;
        let bad = user
            .post_form("/toolbox/phone/verify", &page.body, &[("code", wrong)])
            .await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("This code is not right."));
        let ok = user
            .post_form("/toolbox/phone/verify", &page.body, &[("code", &code)])
            .await;
        assert_eq!(ok.status, 303);
        assert!(user.get("/toolbox").await.body.contains("Verified"));
        assert!(server.factors("plain@a.test").await.phone_verified);
        // Used once.
        let again = user
            .post_form("/toolbox/phone/verify", &page.body, &[("code", &code)])
            .await;
        assert_eq!(again.status, 422);
        // A new number is not verified.
        let page = user.get("/toolbox").await;
        let v = input_value(&page.body, "version").unwrap();
        user.post_form(
            "/toolbox/profile",
            &page.body,
            &[
                ("version", &v),
                ("first_name", "P"),
                ("language", "en"),
                ("phone_country", "NL"),
                ("phone_number", "06 12345678"),
            ],
        )
        .await;
        assert!(!server.factors("plain@a.test").await.phone_verified);
    }
);

both_engines!(
    codes_expire_die_after_five_tries_and_have_a_cool_down,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        Org::build(&server).await;
        let user = with_phone(&server, "plain@a.test").await;
        let page = user.get("/toolbox").await;
        assert_eq!(
            user.post_form("/toolbox/phone/send-code", &page.body, &[])
                .await
                .status,
            303
        );
        let first = server.texts(1).await[0].code();
        // A second code within the minute: refused, with the wait.
        let soon = user
            .post_form("/toolbox/phone/send-code", &page.body, &[])
            .await;
        assert_eq!(soon.status, 429);
        assert!(!soon.header("retry-after").is_empty());
        // Expired after ten minutes.
        server.clock.advance(10 * 60 + 1);
        let user = signed_in(&server, "plain@a.test").await;
        let page = user.get("/toolbox").await;
        let late = user
            .post_form("/toolbox/phone/verify", &page.body, &[("code", &first)])
            .await;
        assert!(
            late.body.contains("This code has expired."),
            "{}",
            late.body
        );
        // Five wrong tries kill a code, even the right one after them.
        assert_eq!(
            user.post_form("/toolbox/phone/send-code", &page.body, &[])
                .await
                .status,
            303
        );
        let code = server.texts(2).await[1].code();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..5 {
            assert_eq!(
                user.post_form("/toolbox/phone/verify", &page.body, &[("code", wrong)])
                    .await
                    .status,
                422
            );
        }
        let dead = user
            .post_form("/toolbox/phone/verify", &page.body, &[("code", &code)])
            .await;
        assert!(dead.body.contains("Too many wrong tries."), "{}", dead.body);
        assert!(!server.factors("plain@a.test").await.phone_verified);
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'phone.verify.failed'")
                .await,
            5
        );
    }
);

both_engines!(a_failing_gateway_is_retried, |engine| async move {
    let server = TestServer::builder(engine).admin().mail().start().await;
    Org::build(&server).await;
    let user = with_phone(&server, "plain@a.test").await;
    server.gateway().refuse(true);
    let page = user.get("/toolbox").await;
    user.post_form("/toolbox/phone/send-code", &page.body, &[])
        .await;
    server.wait_count("SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND attempts = 1 AND state = 'queued'", 1).await;
    assert!(
        server
            .text("SELECT last_error FROM outbox WHERE channel = 'sms'")
            .await
            .contains("503")
    );
    server.gateway().refuse(false);
    server.clock.advance(30);
    let sms = server.texts(1).await;
    assert_eq!(sms[0].to, "+46701234567");
});
