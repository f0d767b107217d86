//! Users in the portal: adding them (invitation, password now, system users), bad input, concurrent
//! edits, search and paging, escaping, and a password set by an administrator.

use roster_core::model::UserStatus;

use crate::support::org::{Org, person, root_actor, signed_in};
use crate::support::{TestServer, both_engines, input_value};

use super::{add_form, post_add};

both_engines!(
    add_user_with_an_invitation_queues_it_in_the_same_transaction,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        let mut form = add_form(&org.u2.to_string(), "Nina@A.test");
        form.push(("services", "sms".into()));
        form.push(("services", "fax".into()));
        form.push(("notifications_enabled", "on".into()));
        form.push(("notify_sms", "on".into()));
        let res = post_add(&admin, &form).await;
        assert_eq!(res.status, 201, "{}", res.body);
        assert!(res.body.contains("An invitation will be sent"));
        assert_eq!(
            server
                .text("SELECT status FROM users WHERE email = 'nina@a.test'")
                .await,
            "invited"
        );
        assert_eq!(
            server
                .text("SELECT phone FROM users WHERE email = 'nina@a.test'")
                .await,
            "+46701234567"
        );
        assert_eq!(
            server
                .text("SELECT invite_message FROM users WHERE email = 'nina@a.test'")
                .await,
            "Welcome aboard!"
        );
        assert_eq!(server.user("nina@a.test").await.services.len(), 2);
        assert_eq!(server.count("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation' AND recipient = 'nina@a.test'").await, 1);
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.create'")
                .await,
            9
        );
        // The same address again is refused on its field; so is an address of another
        // account, with the same words: an account's administrators never learn where an
        // address lives. Operator staff are told it is taken.
        let again = post_add(&admin, &add_form(&org.u2.to_string(), "nina@a.test")).await;
        assert_eq!(again.status, 422);
        let unusable = "This email address cannot be used. Choose another one.";
        assert!(again.body.contains(unusable), "{}", again.body);
        let before = server.fingerprint().await;
        let elsewhere = post_add(&admin, &add_form(&org.u2.to_string(), "buser@b.test")).await;
        assert_eq!(elsewhere.status, 422);
        assert!(elsewhere.body.contains(unusable));
        assert!(!elsewhere.body.contains("already in use"));
        assert_eq!(server.fingerprint().await, before);
        let operator = server.admin_client().await;
        let taken = post_add(&operator, &add_form(&org.u2.to_string(), "buser@b.test")).await;
        assert_eq!(taken.status, 422);
        assert!(taken.body.contains("This email address is already in use."));
    }
);

both_engines!(
    add_user_with_a_password_now_shows_it_once_and_the_user_signs_in,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        let form_page = admin.get(&format!("/users/add?node={}", org.u1)).await;
        let generated = input_value(&form_page.body, "password").expect("a generated password");
        assert_eq!(generated.len(), 19);
        let mut form = add_form(&org.u1.to_string(), "pia@a.test");
        form.retain(|(k, _)| *k != "access");
        form.push(("access", "password".into()));
        form.push(("password", generated.clone()));
        let res = post_add(&admin, &form).await;
        assert_eq!(res.status, 201, "{}", res.body);
        assert!(res.body.contains(&generated), "the password is shown once");
        assert_eq!(
            server.count("SELECT COUNT(*) FROM outbox").await,
            0,
            "never emailed"
        );
        let created = server.user("pia@a.test").await;
        assert!(created.password_must_change && created.status == UserStatus::Active);
        let pia = server.client();
        assert_eq!(pia.sign_in("pia@a.test", &generated).await.status, 303);
    }
);

both_engines!(
    system_users_get_a_secret_shown_once_and_never_a_portal_sign_in,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        let form = vec![
            ("node", org.a.to_string()),
            ("kind", "system".into()),
            ("login", "faxgw01".into()),
            ("user_type", "user".into()),
            ("language", "en".into()),
            ("access", "invite".into()),
            ("services", "fax".into()),
        ];
        let res = post_add(&admin, &form).await;
        assert_eq!(res.status, 201, "{}", res.body);
        let secret = res
            .body
            .split("id=\"shown-secret\"><code>")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap()
            .to_string();
        assert!(secret.len() >= 43);
        assert_eq!(server.count("SELECT COUNT(*) FROM outbox").await, 0);
        let stored = server
            .text("SELECT password_hash FROM users WHERE login = 'faxgw01'")
            .await;
        assert!(stored.starts_with("$argon2id$") && !stored.contains(&secret));
        assert_eq!(
            server.client().sign_in("faxgw01", &secret).await.status,
            401
        );
        // Logins are a–z and 0–9 only.
        for bad in ["Fax-GW", "fx", "fax gw"] {
            let mut f = form.clone();
            f[2] = ("login", bad.into());
            let res = post_add(&admin, &f).await;
            assert_eq!(res.status, 422, "{bad}");
            assert!(res.body.contains("Use 3 to 64 lower-case letters"));
        }
    }
);

both_engines!(
    bad_input_names_the_field_in_the_users_language_and_changes_nothing,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        let node = org.u.to_string();
        let cases: Vec<(&str, String, &str)> = vec![
            ("email", "not-an-email".into(), "Enter an email address"),
            (
                "email",
                "bob@x.test\r\nBcc: x@evil.test".into(),
                "Enter an email address",
            ),
            ("phone_number", "12".into(), "not a valid mobile number"),
            ("message", "x".repeat(1001), "This text is too long."),
            (
                "first_name",
                "Bob\r\nBcc: x@evil.test".into(),
                "Remove line breaks",
            ),
            ("language", "xx".into(), "Choose a language"),
            ("country_code", "XX".into(), "Choose a country"),
            ("services", "telex".into(), "Choose services from the list."),
        ];
        for (field, value, message) in cases {
            let before = server.fingerprint().await;
            let mut form = add_form(&node, "case@a.test");
            form.retain(|(k, _)| *k != field);
            form.push((field, value.clone()));
            let res = post_add(&admin, &form).await;
            assert_eq!(res.status, 422, "{field}");
            assert!(res.body.contains(message), "{field}: {message} missing");
            assert_eq!(
                server.fingerprint().await,
                before,
                "{field} changed something"
            );
        }
        // Invoices only for Administrators.
        let mut form = add_form(&node, "case@a.test");
        form.push(("receive_invoices", "on".into()));
        let res = post_add(&admin, &form).await;
        assert_eq!(res.status, 422);
        assert!(
            res.body
                .contains("Only administrators can receive paid invoices")
        );
        // In Dutch for a Dutch administrator.
        let page = admin.get("/devices").await;
        admin
            .post_form(
                "/language",
                &page.body,
                &[("lang", "nl"), ("back", "/devices")],
            )
            .await;
        let mut form = add_form(&node, "case@a.test");
        form.retain(|(k, _)| *k != "email");
        form.push(("email", "nope".into()));
        let res = post_add(&admin, &form).await;
        assert!(res.body.contains("Vul een e-mailadres in"), "{}", res.body);
        // Unknown fields are refused outright.
        let mut form = add_form(&node, "case@a.test");
        form.push(("account_id", org.b.to_string()));
        assert_eq!(post_add(&admin, &form).await.status, 400);
    }
);

both_engines!(
    concurrent_edits_are_detected_and_lose_nothing,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let first = server.admin_client().await;
        let second = signed_in(&server, "acct@a.test").await;
        let path = format!("/users/{}", org.target);
        let a = first.get(&path).await;
        let b = second.get(&path).await;
        let v = input_value(&a.body, "version").unwrap();
        let ok = first
            .post_form(
                &format!("{path}/settings"),
                &a.body,
                &[
                    ("version", &v),
                    ("first_name", "Alpha"),
                    ("last_name", "One"),
                    ("user_type", "user"),
                    ("language", "en"),
                ],
            )
            .await;
        assert_eq!(ok.status, 303);
        let late = second
            .post_form(
                &format!("{path}/settings"),
                &b.body,
                &[
                    ("version", &v),
                    ("first_name", "Bravo"),
                    ("last_name", "Two"),
                    ("user_type", "user"),
                    ("language", "en"),
                ],
            )
            .await;
        assert_eq!(late.status, 409);
        assert!(
            late.body
                .contains("Someone else changed this while you were editing")
        );
        assert!(
            late.body.contains("value=\"Bravo\""),
            "the second editor's input is kept in the form"
        );
        assert_eq!(
            server
                .text("SELECT first_name FROM users WHERE email = 'target@a.test'")
                .await,
            "Alpha"
        );
        // Saving again from the kept form (now with the current version) works.
        let v2 = input_value(&late.body, "version").unwrap();
        let again = second
            .post_form(
                &format!("{path}/settings"),
                &late.body,
                &[
                    ("version", &v2),
                    ("first_name", "Bravo"),
                    ("last_name", "Two"),
                    ("user_type", "user"),
                    ("language", "en"),
                ],
            )
            .await;
        assert_eq!(again.status, 303);
        assert_eq!(
            server
                .text("SELECT first_name FROM users WHERE email = 'target@a.test'")
                .await,
            "Bravo"
        );
    }
);

both_engines!(search_filters_and_paging, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let op = root_actor(&server);
    for i in 0..60 {
        person(&server, &op, org.u1, &format!("member{i:02}@a.test"), false).await;
    }
    let acct = signed_in(&server, "acct@a.test").await;
    let first = acct.get(&format!("/users?node={}", org.u1)).await;
    assert_eq!(
        first.body.matches("<tr>").count() - 1,
        50,
        "a page holds 50 users"
    );
    let next = first
        .body
        .split("rel=\"next\"")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap()
        .to_string();
    let next = next.split('"').next().unwrap().replace("&#38;", "&");
    let second = acct.get(&next).await;
    assert_eq!(
        second.body.matches("<tr>").count() - 1,
        62 - 50,
        "U1 holds 60 members, the unit admin and the target below"
    );
    assert!(!second.body.contains("rel=\"next\""));
    let found = acct.get(&format!("/users?node={}&q=MEMBER07", org.a)).await;
    assert!(found.body.contains("member07@a.test") && !found.body.contains("member08@a.test"));
    let admins = acct
        .get(&format!("/users?node={}&type=administrator", org.a))
        .await;
    assert!(admins.body.contains("acct@a.test") && !admins.body.contains("member01@a.test"));
    let literal = acct.get(&format!("/users?node={}&q=%25", org.a)).await;
    assert!(
        literal.body.contains("No users match."),
        "a % is matched literally"
    );
});

both_engines!(names_are_escaped_on_every_page, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let evil = "\"><img src=x onerror=alert(1)>";
    let admin = signed_in(&server, "acct@a.test").await;
    let mut form = add_form(&org.u.to_string(), "evil@a.test");
    form.retain(|(k, _)| *k != "first_name" && *k != "message");
    form.push(("first_name", evil.into()));
    form.push(("message", evil.into()));
    assert_eq!(post_add(&admin, &form).await.status, 201);
    let page = admin.get("/devices").await;
    let unit = admin
        .post_form(
            "/units",
            &page.body,
            &[("parent", &org.a.to_string()), ("name", evil)],
        )
        .await;
    assert_eq!(unit.status, 303);
    for path in [
        format!("/users?node={}", org.a),
        format!("/users?node={}&q=evil", org.a),
        format!("/account?node={}", org.a),
    ] {
        let page = admin.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            !page.body.contains("<img src=x"),
            "{path} renders the name as markup"
        );
    }
    let list = admin.get(&format!("/users?node={}", org.a)).await;
    assert!(
        list.body
            .contains("&#34;&#62;&#60;img src=x onerror=alert(1)&#62;"),
        "escaped, not dropped"
    );
});

both_engines!(
    an_administrator_sets_a_password_which_is_not_sent_but_announced,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let acct = signed_in(&server, "acct@a.test").await;
        let page = acct.get(&format!("/users/{}", org.plain)).await;
        let v = input_value(&page.body, "version").unwrap();
        let short = acct
            .post_form(
                &format!("/users/{}/password", org.plain),
                &page.body,
                &[("version", &v), ("password", "short")],
            )
            .await;
        assert_eq!(short.status, 422);
        assert!(short.body.contains("Use at least 8 characters."));
        let new = "a password from the admin";
        let ok = acct
            .post_form(
                &format!("/users/{}/password", org.plain),
                &page.body,
                &[("version", &v), ("password", new)],
            )
            .await;
        assert_eq!(ok.status, 303);
        let payload = server.text("SELECT payload FROM outbox WHERE kind = 'password-set-by-admin' AND recipient = 'plain@a.test'").await;
        assert!(!payload.contains(new), "the password is never in a message");
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.password.set'")
                .await,
            1
        );
        let plain = server.client();
        assert_eq!(plain.sign_in("plain@a.test", new).await.status, 303);
        assert_eq!(
            plain.get("/devices").await.location(),
            "/password",
            "must be changed at first sign-in"
        );
    }
);
