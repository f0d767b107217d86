//! The second step of signing in: app codes, SMS codes and recovery codes, each bound to its
//! purpose, attempt and time, and refused when wrong or replayed.

use crate::support::server::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::support::{TestServer, both_engines};

use super::{add_sms, add_totp, answer, now, password_step, recovery_codes, totp_at};

both_engines!(
    totp_sign_in_refuses_wrong_and_replayed_codes,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let admin = server.admin_client().await;
        let (secret, done) = add_totp(&server, &admin, "/toolbox").await;
        assert_eq!(recovery_codes(&done).len(), 10);
        let toolbox = admin.get("/toolbox").await;
        assert!(
            toolbox.body.contains("Authenticator app"),
            "{}",
            toolbox.body
        );
        admin.sign_out().await;

        let (client, next) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert!(next.starts_with("/signin/verify"), "{next}");
        // A password alone opens nothing.
        assert_eq!(client.get("/users").await.location(), "/signin/verify");
        let wrong = answer(&client, "totp", "123456").await;
        assert_eq!(wrong.status, 401);
        assert!(wrong.body.contains("This code is not right."));
        // The code the first sign-in's step used is refused: skew back one step, still fresh.
        let code = totp_at(&secret, now(&server));
        let used = answer(&client, "totp", &code).await;
        assert_eq!(used.status, 401, "the enrolment used this time step");
        assert!(used.body.contains("used already"), "{}", used.body);
        server.clock.advance(30);
        let code = totp_at(&secret, now(&server));
        let ok = answer(&client, "totp", &code).await;
        assert_eq!((ok.status, ok.location().as_str()), (303, "/users"));
        assert_eq!(client.get("/users").await.status, 200);
        client.sign_out().await;
        // The same code again, in a new sign-in: replay refused.
        let (again, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let replay = answer(&again, "totp", &code).await;
        assert_eq!(replay.status, 401);
        assert!(replay.body.contains("used already"));
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'sign-in.mfa.failed'")
                .await,
            3
        );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'sign-in.mfa'")
                .await,
            1
        );
    }
);

both_engines!(
    wrong_answers_end_the_half_signed_in_session_then_wait,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let admin = server.admin_client().await;
        add_totp(&server, &admin, "/toolbox").await;
        admin.sign_out().await;
        let (client, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        for _ in 0..4 {
            assert_eq!(answer(&client, "totp", "000000").await.status, 401);
        }
        let last = answer(&client, "totp", "000000").await;
        assert_eq!(
            (last.status, last.location().as_str()),
            (303, "/signin?notice=mfa-too-many")
        );
        assert_eq!(
            client.get("/signin/verify").await.location(),
            "/signin?next=%2Fsignin%2Fverify"
        );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'sign-in.mfa.locked'")
                .await,
            1
        );
        // The user's count carries over to the next sign-in: it now waits.
        let (next, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let waiting = answer(&next, "totp", "000000").await;
        assert_eq!(waiting.status, 429);
        assert!(!waiting.header("retry-after").is_empty());
    }
);

both_engines!(a_recovery_code_works_once, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let admin = server.admin_client().await;
    let (_, done) = add_totp(&server, &admin, "/toolbox").await;
    let codes = recovery_codes(&done);
    admin.sign_out().await;
    let (client, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // Typed in lower case with spaces: the same code.
    let typed = codes[3].to_lowercase().replace('-', " ");
    let ok = answer(&client, "recovery", &typed).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let toolbox = client.get("/toolbox").await;
    assert!(
        toolbox.body.contains("Recovery codes left: 9"),
        "{}",
        toolbox.body
    );
    client.sign_out().await;
    let (again, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let twice = answer(&again, "recovery", &codes[3]).await;
    assert_eq!(twice.status, 401);
    // New codes replace the old ones.
    let ok = answer(&again, "recovery", &codes[4]).await;
    assert_eq!(ok.status, 303);
    let toolbox = again.get("/toolbox").await;
    let renewed = again
        .post_form("/toolbox/factors/recovery", &toolbox.body, &[])
        .await;
    let fresh = recovery_codes(&renewed.body);
    assert_eq!(fresh.len(), 10);
    again.sign_out().await;
    let (third, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(answer(&third, "recovery", &codes[5]).await.status, 401);
    assert_eq!(answer(&third, "recovery", &fresh[0]).await.status, 303);
});

both_engines!(sign_in_with_a_code_sent_by_sms, |engine| async move {
    let server = TestServer::builder(engine).admin().mail().start().await;
    let admin = server.admin_client().await;
    add_sms(&server, &admin).await;
    admin.sign_out().await;

    // SMS is the only factor: the code goes out with the password step.
    let (client, next) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(next.starts_with("/signin/verify"));
    let sms = server.texts(2).await;
    assert_eq!(sms[1].to, "+31612345678");
    assert!(sms[1].text.contains("sign-in code"), "{}", sms[1].text);
    let code = sms[1].code();
    let page = client.get("/signin/verify").await;
    assert!(page.body.contains("••78"), "the number, masked");
    // A new code at most once a minute.
    let resend = client
        .post_form("/signin/verify/sms", &page.body, &[])
        .await;
    assert_eq!(resend.status, 429);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(answer(&client, "sms", wrong).await.status, 401);
    // Expired after five minutes.
    server.clock.advance(5 * 60 + 1);
    let late = answer(&client, "sms", &code).await;
    assert_eq!(late.status, 401);
    assert!(late.body.contains("expired"), "{}", late.body);
    let resend = client
        .post_form("/signin/verify/sms", &page.body, &[])
        .await;
    assert_eq!(resend.status, 303);
    let sms = server.texts(3).await;
    let ok = answer(&client, "sms", &sms[2].code()).await;
    assert_eq!((ok.status, ok.location().as_str()), (303, "/users"));
    // Used once.
    client.sign_out().await;
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM sms_codes WHERE purpose = 'sign-in-code' AND used_at IS NOT NULL")
            .await,
        2,
        "the first code was voided by the second, the second used"
    );
});

both_engines!(
    codes_are_bound_to_their_purpose_attempt_and_time,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        let admin = server.admin_client().await;
        add_sms(&server, &admin).await;
        let (secret, _) = add_totp(&server, &admin, "/toolbox").await;
        admin.sign_out().await;

        // A TOTP code from 90 s ago is refused; one from 30 s ago still counts.
        server.clock.advance(120);
        let (client, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let old = totp_at(&secret, now(&server) - 90_000);
        let late = answer(&client, "totp", &old).await;
        assert_eq!(late.status, 401);

        // The phone-verification code is no sign-in code.
        let first = server.texts(1).await;
        assert_eq!(answer(&client, "sms", &first[0].code()).await.status, 401);

        // A code asked for in attempt A does not open attempt B.
        let page = client.get("/signin/verify").await;
        let sent = client
            .post_form("/signin/verify/sms", &page.body, &[])
            .await;
        assert_eq!(sent.status, 303);
        let sms = server.texts(2).await;
        let (other, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(answer(&other, "sms", &sms[1].code()).await.status, 401);
        let ok = answer(&client, "sms", &sms[1].code()).await;
        assert_eq!(ok.status, 303, "{}", ok.body);
        // A new session id at the second step.
        let before = other.session_cookie();
        server.clock.advance(30);
        let ok = answer(&other, "totp", &totp_at(&secret, now(&server))).await;
        assert_eq!(ok.status, 303);
        assert_ne!(other.session_cookie(), before);
        let stale = server.client();
        stale.set_session_cookie(&before);
        assert_eq!(stale.get("/signin/verify").await.status, 303);

        // A removed factor stops working at once.
        let toolbox = other.get("/toolbox").await;
        let totp_id = toolbox
            .body
            .split("action=\"/toolbox/factors/")
            .filter_map(|s| s.split_once("/rename\""))
            .map(|(id, _)| id.to_string())
            .nth(1)
            .expect("the app, listed second");
        let removed = other
            .post_form(
                &format!("/toolbox/factors/{totp_id}/remove"),
                &toolbox.body,
                &[],
            )
            .await;
        assert_eq!(removed.status, 303, "{}", removed.body);
        other.sign_out().await;
        let (third, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        server.clock.advance(30);
        let gone = answer(&third, "totp", &totp_at(&secret, now(&server))).await;
        assert_eq!(gone.status, 401);
        let told = server.mails(3).await;
        assert_eq!(
            told.iter()
                .filter(|m| m.data.contains("second factors changed"))
                .count(),
            3,
            "added SMS, added app, removed app"
        );
    }
);
