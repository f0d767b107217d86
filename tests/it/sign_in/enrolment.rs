//! Enrolling second factors: who must, what the policy allows, the last required factor, the
//! phone verified first, and an administrator's reset.

use roster_core::domain::mfa::Require;

use crate::support::org::{Org, PW, signed_in};
use crate::support::server::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::support::{TestServer, both_engines, input_value};

use super::{add_totp, factor_id, password_step, recovery_codes, requiring};

both_engines!(
    an_administrator_without_a_factor_is_led_through_enrolment,
    |engine| async move {
        // The product's default: administrators must use a second factor.
        let server = TestServer::builder(engine)
            .admin()
            .options(requiring(Require::Administrators))
            .start()
            .await;
        let (client, next) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(next, "/mfa/enrol");
        // Nothing else opens before a factor is set up.
        for path in ["/users", "/toolbox", "/management", "/account"] {
            let res = client.get(path).await;
            assert_eq!(
                (res.status, res.location().as_str()),
                (303, "/mfa/enrol"),
                "{path}"
            );
        }
        let hx = client.get_with("/users", &[("hx-request", "true")]).await;
        assert_eq!(hx.header("hx-redirect"), "/mfa/enrol");
        let enrol = client.get("/mfa/enrol").await;
        assert!(enrol.body.contains("Set up a second factor"));
        let before = server.fingerprint().await;
        let add = client
            .post_form(
                "/users/add",
                &enrol.body,
                &[("email", "x@roster.test"), ("first_name", "X")],
            )
            .await;
        assert_eq!(add.status, 303);
        assert_eq!(server.fingerprint().await, before, "nothing changed");

        let (secret, done) = add_totp(&server, &client, "/mfa/enrol").await;
        let codes = recovery_codes(&done);
        assert_eq!(codes.len(), 10, "{done}");
        assert!(codes.iter().all(|c| c.len() == 14));
        // The seed is sealed at rest (24-byte nonce, 20-byte seed, 16-byte tag), never in clear.
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM factors WHERE kind = 'totp' AND confirmed AND LENGTH(secret) = 60")
                .await,
            1
        );
        assert!(!secret.is_empty());
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM recovery_codes WHERE code_hash LIKE '$argon2id$%'")
                .await,
            10
        );
        let old_cookie = client.session_cookie();
        let finished = client.post_form("/mfa/enrol/done", &done, &[]).await;
        assert_eq!(finished.status, 303, "{}", finished.body);
        assert_ne!(client.session_cookie(), old_cookie, "a new session id");
        assert_eq!(client.get("/users").await.status, 200);
        // The old id opens nothing.
        let stale = server.client();
        stale.set_session_cookie(&old_cookie);
        assert_eq!(
            stale.get("/users").await.location(),
            "/signin?next=%2Fusers"
        );
    }
);

both_engines!(
    the_policy_and_the_switch_decide_who_must_enrol,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        // Nobody is forced under the test default: plain users sign straight in.
        let (_, next) = password_step(&server, "plain@a.test", PW).await;
        assert_eq!(next, "/");

        // A unit administrator cannot set the account's policy; nothing changes.
        let unit_admin = signed_in(&server, "unit@a.test").await;
        let page = unit_admin.get("/toolbox").await;
        let refused = unit_admin
            .post_form(
                &format!("/nodes/{}/mfa", org.a),
                &page.body,
                &[
                    ("mfa_policy", "everyone"),
                    ("mfa_factors", "totp"),
                    ("back", "/account"),
                ],
            )
            .await;
        assert_eq!(refused.status, 404);
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM nodes WHERE mfa_policy IS NOT NULL")
                .await,
            0
        );

        // The account's administrator: bad input names the field and changes nothing.
        let admin = signed_in(&server, "acct@a.test").await;
        let account = admin.get("/account").await;
        assert!(account.body.contains("Users without a second factor"));
        let bad = admin
            .post_form(
                &format!("/nodes/{}/mfa", org.a),
                &account.body,
                &[
                    ("mfa_policy", "users"),
                    ("mfa_factors", "totp"),
                    ("back", "/account"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("Choose who must use a second factor."));
        let none = admin
            .post_form(
                &format!("/nodes/{}/mfa", org.a),
                &account.body,
                &[("mfa_policy", "everyone"), ("back", "/account")],
            )
            .await;
        assert_eq!(none.status, 422);
        assert!(none.body.contains("Allow at least one kind"));
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM nodes WHERE mfa_policy IS NOT NULL")
                .await,
            0
        );

        // Everyone, with authenticator apps only.
        let set = admin
            .post_form(
                &format!("/nodes/{}/mfa", org.a),
                &account.body,
                &[
                    ("mfa_policy", "everyone"),
                    ("mfa_factors", "totp"),
                    ("back", "/account"),
                ],
            )
            .await;
        assert_eq!(set.location(), "/account?saved=mfa#mfa");
        let account = admin.get("/account").await;
        assert!(
            account.body.contains("plain@a.test"),
            "listed as not enrolled"
        );
        let (plain, next) = password_step(&server, "plain@a.test", PW).await;
        assert_eq!(next, "/mfa/enrol");
        let enrol = plain.get("/mfa/enrol").await;
        assert!(enrol.body.contains("Set up an app") && !enrol.body.contains("Add a passkey"));
        let sms = plain
            .post_form("/toolbox/factors/sms", &enrol.body, &[])
            .await;
        assert_eq!(sms.status, 409, "SMS is not allowed here");
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'mfa.policy'")
                .await,
            1
        );
        // Users of account B are not affected.
        let (_, next) = password_step(&server, "buser@b.test", PW).await;
        assert_eq!(next, "/");

        // "Multifactor Authentication": the switch on one user, under account B's default policy.
        let b_admin = signed_in(&server, "badmin@b.test").await;
        let path = format!("/users/{}", org.b_user);
        let page = b_admin.get(&path).await;
        assert!(page.body.contains("Multifactor Authentication"));
        let v = input_value(&page.body, "version").unwrap();
        let on = b_admin
            .post_form(
                &format!("{path}/settings"),
                &page.body,
                &[
                    ("version", &v),
                    ("first_name", "buser"),
                    ("last_name", "Test"),
                    ("user_type", "user"),
                    ("language", "en"),
                    ("mfa_required", "on"),
                ],
            )
            .await;
        assert_eq!(on.status, 303, "{}", on.body);
        let (_, next) = password_step(&server, "buser@b.test", PW).await;
        assert_eq!(next, "/mfa/enrol");
    }
);

both_engines!(
    the_last_required_factor_stays_and_changes_need_a_recent_password,
    |engine| async move {
        let server = TestServer::builder(engine)
            .admin()
            .options(requiring(Require::Administrators))
            .start()
            .await;
        let (client, _) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (secret, done) = add_totp(&server, &client, "/mfa/enrol").await;
        client.post_form("/mfa/enrol/done", &done, &[]).await;
        let toolbox = client.get("/toolbox").await;
        let factor = factor_id(&toolbox.body);
        let removed = client
            .post_form(
                &format!("/toolbox/factors/{factor}/remove"),
                &toolbox.body,
                &[],
            )
            .await;
        assert_eq!(removed.status, 409);
        assert!(removed.body.contains("at least one second factor"));
        // A second app, then the first may go; after ten minutes a password is asked again.
        server.clock.advance(30);
        let (second, _) = add_totp(&server, &client, "/toolbox").await;
        assert_ne!(second, secret);
        server.clock.advance(11 * 60);
        let toolbox = client.get("/toolbox").await;
        let asked = client
            .post_form(
                &format!("/toolbox/factors/{factor}/remove"),
                &toolbox.body,
                &[],
            )
            .await;
        assert!(
            asked.location().starts_with("/reauth"),
            "{}",
            asked.location()
        );
        let reauth = client.get(&asked.location()).await;
        let ok = client
            .post_form(
                "/reauth",
                &reauth.body,
                &[("password", ADMIN_PASSWORD), ("next", "/toolbox")],
            )
            .await;
        assert_eq!(ok.status, 303);
        let toolbox = client.get("/toolbox").await;
        let removed = client
            .post_form(
                &format!("/toolbox/factors/{factor}/remove"),
                &toolbox.body,
                &[],
            )
            .await;
        assert_eq!(removed.status, 303, "{}", removed.body);
        assert_eq!(server.count("SELECT COUNT(*) FROM factors").await, 1);
    }
);

both_engines!(passkeys_need_a_host_name, |engine| async move {
    // The test server's public address is an IP address: passkeys are not offered.
    let server = TestServer::builder(engine).admin().start().await;
    let admin = server.admin_client().await;
    let toolbox = admin.get("/toolbox").await;
    assert!(!toolbox.body.contains("Add a passkey"));
    let res = admin
        .post_form("/toolbox/factors/passkey/options", &toolbox.body, &[])
        .await;
    assert_eq!(res.status, 409);
    assert!(res.body.contains("host name"), "{}", res.body);
});

both_engines!(
    enrolment_by_sms_verifies_the_number_first,
    |engine| async move {
        let server = TestServer::builder(engine)
            .admin()
            .mail()
            .options(requiring(Require::Everyone))
            .start()
            .await;
        let (client, next) = password_step(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(next, "/mfa/enrol");
        let page = client.get("/mfa/enrol").await;
        // Bad input names the field and changes nothing.
        let bad = client
            .post_form(
                "/mfa/enrol/phone",
                &page.body,
                &[("phone_country", "NL"), ("phone_number", "12")],
            )
            .await;
        assert_eq!(bad.status, 422);
        assert!(
            bad.body.contains("id=\"phone_number-error\""),
            "{}",
            bad.body
        );
        let saved = client
            .post_form(
                "/mfa/enrol/phone",
                &page.body,
                &[("phone_country", "NL"), ("phone_number", "06 12345678")],
            )
            .await;
        assert_eq!(saved.location(), "/mfa/enrol?saved=phone");
        let page = client.get("/mfa/enrol").await;
        // Not verified: no SMS factor yet, and no way past enrolment.
        let early = client
            .post_form("/toolbox/factors/sms", &page.body, &[])
            .await;
        assert_eq!(early.status, 409);
        let stuck = client.post_form("/mfa/enrol/done", &page.body, &[]).await;
        assert_eq!(stuck.status, 409);
        client
            .post_form("/mfa/enrol/phone/send", &page.body, &[])
            .await;
        let sms = server.texts(1).await;
        let verified = client
            .post_form(
                "/mfa/enrol/phone/verify",
                &page.body,
                &[("code", &sms[0].code())],
            )
            .await;
        assert_eq!(verified.location(), "/mfa/enrol?saved=phone-verified");
        let page = client.get("/mfa/enrol").await;
        assert!(page.body.contains("Send sign-in codes to this number"));
        let added = client
            .post_form("/toolbox/factors/sms", &page.body, &[])
            .await;
        assert_eq!(recovery_codes(&added.body).len(), 10);
        let done = client.post_form("/mfa/enrol/done", &added.body, &[]).await;
        assert_eq!(done.status, 303);
        assert_eq!(client.get("/users").await.status, 200);
        let mails = server.mails(1).await;
        assert!(
            mails[0].data.contains("second factors changed"),
            "{}",
            mails[0].data
        );
    }
);

both_engines!(
    an_administrator_resets_a_users_factors_in_scope_only,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let target = signed_in(&server, "target@a.test").await;
        add_totp(&server, &target, "/toolbox").await;
        assert_eq!(server.factors("target@a.test").await.factors.len(), 1);
        let path = format!("/users/{}", org.target);

        // Another account's administrator, and a plain user: refused, nothing changes.
        for who in ["badmin@b.test", "plain@a.test"] {
            let other = signed_in(&server, who).await;
            let page = other.get("/toolbox").await;
            let res = other
                .post_form(&format!("{path}/mfa/reset"), &page.body, &[])
                .await;
            assert!(matches!(res.status, 403 | 404), "{who}: {}", res.status);
            assert_eq!(
                server.factors("target@a.test").await.factors.len(),
                1,
                "{who}"
            );
        }
        // Someone else's factor cannot be removed through one's own toolbox.
        let factor = factor_id(&target.get("/toolbox").await.body);
        let plain = signed_in(&server, "plain@a.test").await;
        let page = plain.get("/toolbox").await;
        let res = plain
            .post_form(
                &format!("/toolbox/factors/{factor}/remove"),
                &page.body,
                &[],
            )
            .await;
        assert_eq!(res.status, 404);
        assert_eq!(server.factors("target@a.test").await.factors.len(), 1);

        // The account's administrator sees it (read-only toolbox too) and resets it.
        let admin = signed_in(&server, "acct@a.test").await;
        let page = admin.get(&path).await;
        assert!(page.body.contains("Second factors:"), "{}", page.body);
        let toolbox = admin.get(&format!("{path}/toolbox")).await;
        assert!(toolbox.body.contains("Phone") && !toolbox.body.contains("/remove"));
        let reset = admin
            .post_form(&format!("{path}/mfa/reset"), &page.body, &[])
            .await;
        assert_eq!(reset.location(), format!("{path}?saved=mfa#mfa"));
        assert_eq!(server.factors("target@a.test").await.factors.len(), 0);
        assert_eq!(server.factors("target@a.test").await.recovery_left, 0);
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'mfa.reset'")
                .await,
            1
        );
        // The user's sessions ended.
        assert_eq!(
            target.get("/toolbox").await.location(),
            "/signin?next=%2Ftoolbox"
        );
    }
);
