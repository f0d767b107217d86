use crate::support::org::{Org, PW, signed_in};
use crate::support::{TestServer, both_engines, input_value};

both_engines!(
    the_toolbox_is_the_owners_and_read_only_for_administrators,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let plain = signed_in(&server, "plain@a.test").await;
        assert_eq!(plain.get("/").await.location(), "/toolbox");
        let own = plain.get("/toolbox").await;
        assert_eq!(own.status, 200);
        assert!(
            own.body.contains("action=\"/toolbox/profile\"")
                && own.body.contains("action=\"/toolbox/password\"")
        );
        let admin = signed_in(&server, "acct@a.test").await;
        let seen = admin.get(&format!("/users/{}/toolbox", org.plain)).await;
        assert_eq!(seen.status, 200);
        assert!(seen.body.contains("You are looking at this user"));
        assert!(
            !seen.body.contains("action=\"/toolbox/"),
            "read-only: no forms"
        );
        assert!(
            !seen.body.contains("Notes"),
            "notes are not part of a toolbox"
        );
        let other = signed_in(&server, "badmin@b.test").await;
        assert_eq!(
            other
                .get(&format!("/users/{}/toolbox", org.plain))
                .await
                .status,
            404
        );
        assert_eq!(
            plain
                .get(&format!("/users/{}/toolbox", org.account_admin))
                .await
                .status,
            404
        );
    }
);

both_engines!(
    own_profile_changes_but_never_the_role,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        Org::build(&server).await;
        let plain = signed_in(&server, "plain@a.test").await;
        let page = plain.get("/toolbox").await;
        let v = input_value(&page.body, "version").unwrap();
        let before = server.fingerprint().await;
        let escalate = plain
            .post_form(
                "/toolbox/profile",
                &page.body,
                &[
                    ("version", &v),
                    ("first_name", "Plain"),
                    ("language", "en"),
                    ("user_type", "administrator"),
                ],
            )
            .await;
        assert_eq!(escalate.status, 400);
        let invoices = plain
            .post_form(
                "/toolbox/profile",
                &page.body,
                &[
                    ("version", &v),
                    ("first_name", "Plain"),
                    ("language", "en"),
                    ("receive_invoices", "on"),
                ],
            )
            .await;
        assert_eq!(invoices.status, 400);
        assert_eq!(server.fingerprint().await, before);
        let ok = plain
            .post_form(
                "/toolbox/profile",
                &page.body,
                &[
                    ("version", &v),
                    ("first_name", "Pia"),
                    ("last_name", "Plain"),
                    ("language", "nl"),
                    ("country_code", "NL"),
                    ("phone_country", "NL"),
                    ("phone_number", "06 12345678"),
                ],
            )
            .await;
        assert_eq!(ok.status, 303);
        assert_eq!(
            server
                .text("SELECT phone FROM users WHERE email = 'plain@a.test'")
                .await,
            "+31612345678"
        );
        assert_eq!(
            server
                .text("SELECT user_type FROM users WHERE email = 'plain@a.test'")
                .await,
            "user"
        );
        assert!(
            plain.get("/toolbox").await.body.contains("Mijn profiel"),
            "the new language at once"
        );
    }
);

both_engines!(
    changing_the_password_needs_the_current_one_and_can_end_other_sessions,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        Org::build(&server).await;
        let here = signed_in(&server, "plain@a.test").await;
        let elsewhere = signed_in(&server, "plain@a.test").await;
        let page = here.get("/toolbox").await;
        let hash = server
            .text("SELECT password_hash FROM users WHERE email = 'plain@a.test'")
            .await;
        let new = "a fresh passphrase for me";
        let wrong = here
            .post_form(
                "/toolbox/password",
                &page.body,
                &[
                    ("current_password", "not it at all"),
                    ("password", new),
                    ("password_repeat", new),
                    ("sign_out_others", "on"),
                ],
            )
            .await;
        assert_eq!(wrong.status, 422);
        assert!(wrong.body.contains("This is not your current password."));
        let missing = here
            .post_form(
                "/toolbox/password",
                &page.body,
                &[("password", new), ("password_repeat", new)],
            )
            .await;
        assert_eq!(missing.status, 422);
        assert_eq!(
            server
                .text("SELECT password_hash FROM users WHERE email = 'plain@a.test'")
                .await,
            hash,
            "unchanged"
        );
        assert_eq!(elsewhere.get("/toolbox").await.status, 200);
        let ok = here
            .post_form(
                "/toolbox/password",
                &page.body,
                &[
                    ("current_password", PW),
                    ("password", new),
                    ("password_repeat", new),
                    ("sign_out_others", "on"),
                ],
            )
            .await;
        assert_eq!(ok.status, 303);
        assert_eq!(here.get("/toolbox").await.status, 200, "this session stays");
        assert_eq!(
            elsewhere.get("/toolbox").await.status,
            303,
            "the other one ended"
        );
        assert_eq!(server.count("SELECT COUNT(*) FROM outbox WHERE kind = 'password-changed' AND recipient = 'plain@a.test'").await, 1);
        assert_eq!(
            server.client().sign_in("plain@a.test", new).await.status,
            303
        );
    }
);

both_engines!(
    ending_a_session_signs_that_browser_out,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        Org::build(&server).await;
        let laptop = signed_in(&server, "plain@a.test").await;
        let phone = signed_in(&server, "plain@a.test").await;
        let tablet = signed_in(&server, "plain@a.test").await;
        let page = laptop.get("/toolbox").await;
        let refs: Vec<String> = page
            .body
            .split("/toolbox/sessions/")
            .skip(1)
            .map(|s| s.split('/').next().unwrap().to_string())
            .filter(|s| s.len() == 36)
            .collect();
        assert_eq!(
            refs.len(),
            2,
            "the two other sessions can be ended, this one not: {refs:?}"
        );
        let res = laptop
            .post_form(
                &format!("/toolbox/sessions/{}/end", refs[0]),
                &page.body,
                &[],
            )
            .await;
        assert_eq!(res.status, 303);
        let ended = [
            phone.get("/toolbox").await.status,
            tablet.get("/toolbox").await.status,
        ];
        assert!(
            ended.contains(&303) && ended.contains(&200),
            "exactly one browser is out: {ended:?}"
        );
        // Another user's session handle is not mine to end.
        let other = signed_in(&server, "acct@a.test").await;
        let other_page = other.get("/toolbox").await;
        assert_eq!(
            other
                .post_form(
                    &format!("/toolbox/sessions/{}/end", refs[1]),
                    &other_page.body,
                    &[]
                )
                .await
                .status,
            404
        );
        // Sign out everywhere else.
        let page = laptop.get("/toolbox").await;
        assert_eq!(
            laptop
                .post_form("/toolbox/sessions/end-others", &page.body, &[])
                .await
                .status,
            303
        );
        assert_eq!(phone.get("/toolbox").await.status, 303);
        assert_eq!(tablet.get("/toolbox").await.status, 303);
        assert_eq!(laptop.get("/toolbox").await.status, 200);
    }
);

both_engines!(
    users_change_their_own_address_through_confirmation,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        Org::build(&server).await;
        let plain = signed_in(&server, "plain@a.test").await;
        let page = plain.get("/toolbox").await;
        let v = input_value(&page.body, "version").unwrap();
        let taken = plain
            .post_form(
                "/toolbox/email",
                &page.body,
                &[("version", &v), ("email", "acct@a.test")],
            )
            .await;
        assert_eq!(taken.status, 422);
        assert!(
            taken
                .body
                .contains("This email address cannot be used. Choose another one.")
        );
        let ok = plain
            .post_form(
                "/toolbox/email",
                &page.body,
                &[("version", &v), ("email", "pia@elsewhere.test")],
            )
            .await;
        assert_eq!(ok.status, 303);
        assert!(
            plain
                .get("/toolbox")
                .await
                .body
                .contains("Waiting for confirmation: pia@elsewhere.test")
        );
        assert_eq!(server.count("SELECT COUNT(*) FROM outbox WHERE kind = 'email-verify' AND recipient = 'pia@elsewhere.test'").await, 1);
        assert_eq!(server.count("SELECT COUNT(*) FROM outbox WHERE kind = 'email-change-notice' AND recipient = 'plain@a.test'").await, 1);
    }
);

both_engines!(
    a_sensitive_change_asks_for_the_password_again,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        Org::build(&server).await;
        let user = server.client();
        let first = user.sign_in("plain@a.test", PW).await;
        let first_cookie = first
            .set_cookies()
            .into_iter()
            .find(|c| c.starts_with("roster="))
            .unwrap();
        server.clock.advance(11 * 60);
        let page = user.get("/toolbox").await;
        let v = input_value(&page.body, "version").unwrap();
        let asked = user
            .post_form(
                "/toolbox/email",
                &page.body,
                &[("version", &v), ("email", "pia@elsewhere.test")],
            )
            .await;
        assert_eq!(
            (asked.status, asked.location().as_str()),
            (303, "/reauth?next=%2Ftoolbox%23email")
        );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM users WHERE email_pending IS NOT NULL")
                .await,
            0,
            "nothing changed"
        );
        let phone = user
            .post_form(
                "/toolbox/profile",
                &page.body,
                &[
                    ("version", &v),
                    ("first_name", "P"),
                    ("language", "en"),
                    ("phone_country", "SE"),
                    ("phone_number", "070-123 45 67"),
                ],
            )
            .await;
        assert!(
            phone.location().starts_with("/reauth"),
            "a new phone number asks too"
        );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM users WHERE phone IS NOT NULL")
                .await,
            0
        );

        let form = user.get("/reauth?next=%2Ftoolbox%23email").await;
        assert_eq!(form.status, 200);
        let wrong = user
            .post_form(
                "/reauth",
                &form.body,
                &[("password", "not my password"), ("next", "/toolbox#email")],
            )
            .await;
        assert_eq!(wrong.status, 401);
        assert!(wrong.body.contains("This is not your current password."));
        let ok = user
            .post_form(
                "/reauth",
                &form.body,
                &[("password", PW), ("next", "/toolbox#email")],
            )
            .await;
        assert_eq!((ok.status, ok.location().as_str()), (303, "/toolbox#email"));
        let new_cookie = ok
            .set_cookies()
            .into_iter()
            .find(|c| c.starts_with("roster="))
            .unwrap();
        assert_ne!(
            first_cookie, new_cookie,
            "a new session id after re-authentication"
        );
        let old = first_cookie.split(';').next().unwrap().to_string();
        assert_eq!(
            server
                .client()
                .get_with("/toolbox", &[("cookie", &old)])
                .await
                .status,
            303,
            "the old id is worth nothing"
        );
        let page = user.get("/toolbox").await;
        let v = input_value(&page.body, "version").unwrap();
        let done = user
            .post_form(
                "/toolbox/email",
                &page.body,
                &[("version", &v), ("email", "pia@elsewhere.test")],
            )
            .await;
        assert_eq!(done.location(), "/toolbox?saved=toolbox-email#email");
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'reauth'")
                .await,
            1
        );
    }
);

both_engines!(
    an_email_change_waits_for_the_new_address_and_the_old_one_can_cancel_it,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        let path = format!("/users/{}", org.target);
        let page = admin.get(&path).await;
        let version = crate::support::input_value(&page.body, "version").unwrap();
        let res = admin
            .post_form(
                &format!("{path}/email"),
                &page.body,
                &[("version", &version), ("email", "Target.New@a.test")],
            )
            .await;
        assert_eq!(res.status, 303);
        let page = admin.get(&path).await;
        assert!(
            page.body
                .contains("Waiting for confirmation: target.new@a.test")
        );
        let mails = server.mails(2).await;
        let verify = mails
            .iter()
            .find(|m| m.to == ["target.new@a.test"])
            .expect("to the new address");
        let notice = mails
            .iter()
            .find(|m| m.to == ["target@a.test"])
            .expect("to the old address");
        // Until confirmed, the old address stays in force.
        assert_eq!(
            server
                .client()
                .sign_in("target@a.test", crate::support::org::PW)
                .await
                .status,
            303
        );
        let confirm = verify
            .link(&format!("{}/email/confirm?token=", server.url))
            .unwrap();
        let cancel = notice
            .link(&format!("{}/email/cancel?token=", server.url))
            .unwrap();
        let owner = server.client();
        let shown = owner.get_url(&confirm).await;
        assert_eq!(shown.status, 200);
        assert!(shown.body.contains("target.new@a.test"));
        let token = confirm.rsplit('=').next().unwrap();
        let done = owner
            .post_form("/email/confirm", &shown.body, &[("token", token)])
            .await;
        assert_eq!(done.status, 303);
        assert_eq!(
            server
                .client()
                .sign_in("target.new@a.test", crate::support::org::PW)
                .await
                .status,
            303
        );
        assert_eq!(
            server
                .client()
                .sign_in("target@a.test", crate::support::org::PW)
                .await
                .status,
            401
        );
        assert_eq!(
            server.client().get_url(&cancel).await.status,
            410,
            "the cancel link dies with the confirmation"
        );

        // Another change, this time stopped from the old address.
        let page = admin.get(&path).await;
        let version = crate::support::input_value(&page.body, "version").unwrap();
        let again = admin
            .post_form(
                &format!("{path}/email"),
                &page.body,
                &[("version", &version), ("email", "third@a.test")],
            )
            .await;
        assert_eq!(again.status, 303, "the second change: {}", again.body);
        let mails = server.mails(4).await;
        let notice = mails
            .iter()
            .rev()
            .find(|m| m.to == ["target.new@a.test"])
            .unwrap();
        let verify = mails.iter().find(|m| m.to == ["third@a.test"]).unwrap();
        let cancel = notice
            .link(&format!("{}/email/cancel?token=", server.url))
            .unwrap();
        let shown = owner.get_url(&cancel).await;
        assert_eq!(shown.status, 200, "the cancel page: {}", shown.body);
        let token = cancel.rsplit('=').next().unwrap();
        let cancelled = owner
            .post_form("/email/cancel", &shown.body, &[("token", token)])
            .await;
        assert_eq!(cancelled.status, 303, "cancelled: {}", cancelled.body);
        let confirm = verify.link(&server.url).unwrap();
        assert_eq!(
            server.client().get_url(&confirm).await.status,
            410,
            "the confirmation link is void"
        );
        assert!(
            !admin
                .get(&path)
                .await
                .body
                .contains("Waiting for confirmation")
        );
        assert_eq!(
            server
                .text("SELECT email FROM users WHERE first_name = 'target'")
                .await,
            "target.new@a.test"
        );
    }
);
