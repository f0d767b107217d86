//! The password reset: it never says whether an address exists, its links expire within the
//! hour, and it never skips the second factor.

use crate::support::org::{Org, signed_in};
use crate::support::server::ADMIN_EMAIL;
use crate::support::{TestServer, both_engines};

use super::{add_totp, answer, now, password_step, totp_at};

both_engines!(
    a_password_reset_never_skips_the_second_factor,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        let admin = server.admin_client().await;
        let (secret, _) = add_totp(&server, &admin, "/toolbox").await;
        admin.sign_out().await;
        // The user is told: a factor was added (V6.3.7).
        let mails = server.mails(1).await;
        assert!(
            mails[0].data.contains("second factors changed"),
            "{}",
            mails[0].data
        );

        let client = server.client();
        let form = client.get("/reset").await;
        client
            .post_form("/reset", &form.body, &[("email", ADMIN_EMAIL)])
            .await;
        let mails = server.mails(2).await;
        let link = mails[1]
            .link(&format!("{}/reset/confirm?token=", server.url))
            .expect("a reset link");
        let token = link.rsplit('=').next().unwrap().to_string();
        let page = client.get_url(&link).await;
        let new = "the harbour at noon";
        let done = client
            .post_form(
                "/reset/confirm",
                &page.body,
                &[
                    ("token", &token),
                    ("password", new),
                    ("password_repeat", new),
                ],
            )
            .await;
        assert_eq!(done.location(), "/signin?notice=reset-done");
        assert_eq!(client.get("/users").await.status, 303, "no sign-in");
        // The next sign-in still asks for the app's code.
        let (next, step) = password_step(&server, ADMIN_EMAIL, new).await;
        assert!(step.starts_with("/signin/verify"), "{step}");
        server.clock.advance(30);
        let ok = answer(&next, "totp", &totp_at(&secret, now(&server))).await;
        assert_eq!(ok.status, 303);
    }
);

both_engines!(
    a_password_reset_never_says_whether_an_address_exists_and_signs_nobody_in,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        Org::build(&server).await;
        let elsewhere = signed_in(&server, "plain@a.test").await;
        let strip = |body: &str| {
            body.lines()
                .filter(|l| {
                    !l.contains("csrf")
                        && !l.contains("X-CSRF-Token")
                        && !l.contains("name=\"email\"")
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let known = server.client();
        let form = known.get("/reset").await;
        // The link host comes from configuration, whatever the request says.
        let csrf = crate::support::input_value(&form.body, "csrf").unwrap();
        let a = known
            .post_raw(
                "/reset",
                &[("csrf", &csrf), ("email", "plain@a.test")],
                &[
                    ("host", "evil.test"),
                    ("x-forwarded-host", "evil.test"),
                    ("forwarded", "host=evil.test"),
                ],
            )
            .await;
        let unknown = server.client();
        let form2 = unknown.get("/reset").await;
        let b = unknown
            .post_form("/reset", &form2.body, &[("email", "nobody@a.test")])
            .await;
        assert_eq!((a.status, b.status), (200, 200));
        assert_eq!(strip(&a.body), strip(&b.body));
        assert!(
            a.body
                .contains("If this address belongs to a user, a link is on its way.")
        );
        let mails = server.mails(1).await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to, vec!["plain@a.test".to_string()]);
        let link = mails[0]
            .link(&format!("{}/reset/confirm?token=", server.url))
            .unwrap();
        let token = link.rsplit('=').next().unwrap().to_string();

        let page = known.get_url(&link).await;
        assert_eq!(page.status, 200);
        let new = "the harbour at noon";
        let done = known
            .post_form(
                "/reset/confirm",
                &page.body,
                &[
                    ("token", &token),
                    ("password", new),
                    ("password_repeat", new),
                ],
            )
            .await;
        assert_eq!(
            (done.status, done.location().as_str()),
            (303, "/signin?notice=reset-done")
        );
        assert!(
            !done
                .set_cookies()
                .iter()
                .any(|c| c.starts_with("roster=") && !c.contains("Max-Age=0")),
            "no sign-in cookie"
        );
        assert_eq!(
            elsewhere.get("/devices").await.status,
            303,
            "every other session ended"
        );
        assert_eq!(
            server
                .client()
                .sign_in("plain@a.test", crate::support::org::PW)
                .await
                .status,
            401
        );
        assert_eq!(
            server.client().sign_in("plain@a.test", new).await.status,
            303
        );
        assert_eq!(
            server.client().get_url(&link).await.status,
            410,
            "used once"
        );
    }
);

both_engines!(reset_links_expire_within_the_hour, |engine| async move {
    let server = TestServer::builder(engine).admin().mail().start().await;
    Org::build(&server).await;
    let client = server.client();
    let form = client.get("/reset").await;
    client
        .post_form("/reset", &form.body, &[("email", "plain@a.test")])
        .await;
    let link = server.mails(1).await[0].link(&server.url).unwrap();
    server.clock.advance(3600 + 1);
    let page = server.client().get_url(&link).await;
    assert_eq!(page.status, 410);
    assert!(page.body.contains("This link has expired."));
});
