use crate::support::server::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::support::{TestServer, both_engines};

both_engines!(sign_in_and_out, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let client = server.client();
    // Signed out, a page sends to sign-in and comes back after.
    let before = client.get("/users").await;
    assert_eq!(before.status, 303);
    assert_eq!(before.location(), "/signin?next=%2Fusers");

    let res = client.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status, 303);
    let cookie = res
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("roster="))
        .expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain"), "{cookie}");
    let token = cookie
        .trim_start_matches("roster=")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(token.len() >= 22);
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 1);

    let users = client.get("/users").await;
    assert_eq!(users.status, 200);
    for tab in ["Devices", "Users", "Account", "Management", "Logout"] {
        assert!(users.body.contains(tab), "{tab} missing");
    }
    assert!(users.body.contains(ADMIN_EMAIL));
    assert_eq!(users.header("cache-control"), "no-store");
    assert!(
        !users.body.contains(&token),
        "the session id never appears in a page"
    );

    let out = client.sign_out().await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location(), "/signin?notice=signout-done");
    assert!(out.header("clear-site-data").contains("cache"));
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);

    // The old cookie replayed by another client is worth nothing now.
    let replay = server.client();
    let page = replay
        .get_with("/users", &[("cookie", &format!("roster={token}"))])
        .await;
    assert_eq!(page.status, 303);
    assert!(page.location().starts_with("/signin"));
});

both_engines!(
    wrong_password_and_unknown_email_get_the_same_answer,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let strip = |body: &str| {
            let mut out = String::new();
            for line in body.lines() {
                if !line.contains("csrf")
                    && !line.contains("X-CSRF-Token")
                    && !line.contains("name=\"email\"")
                {
                    out.push_str(line);
                }
            }
            out
        };
        let wrong = server
            .client()
            .sign_in(ADMIN_EMAIL, "not the password at all")
            .await;
        let unknown = server
            .client()
            .sign_in("nobody@roster.test", "not the password at all")
            .await;
        let empty = server.client().sign_in(ADMIN_EMAIL, "").await;
        assert_eq!(wrong.status, 401);
        assert_eq!(unknown.status, 401);
        assert_eq!(empty.status, 401);
        assert!(
            wrong
                .body
                .contains("The email address or password is not correct.")
        );
        assert_eq!(strip(&wrong.body), strip(&unknown.body));
        assert_eq!(strip(&wrong.body), strip(&empty.body));
        assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'sign-in.failed'")
                .await,
            3
        );
        // Other spellings of the password fail too.
        for (i, variant) in [
            "correct horse battery staple ",
            "Correct horse battery staple",
            "correct horse battery stapl",
        ]
        .iter()
        .enumerate()
        {
            let client = server.client_from(&format!("127.0.3.{}", i + 1));
            assert_eq!(
                client.sign_in(ADMIN_EMAIL, variant).await.status,
                401,
                "{variant:?}"
            );
        }
        // The address is found whatever its case and spaces (after the account's 1 s wait).
        server.clock.advance(1);
        assert_eq!(
            server
                .client_from("127.0.3.9")
                .sign_in("  OPS@Roster.TEST ", ADMIN_PASSWORD)
                .await
                .status,
            303
        );
    }
);

both_engines!(no_default_accounts, |engine| async move {
    let server = TestServer::builder(engine).start().await;
    for (user, pw) in [
        ("admin", "admin"),
        ("root", "root"),
        ("admin@localhost", "admin"),
    ] {
        assert_eq!(server.client().sign_in(user, pw).await.status, 401);
    }
});

both_engines!(throttling_slows_one_address, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let attacker = server.client_from("127.0.0.40");
    for i in 0..5 {
        let res = attacker
            .sign_in(&format!("guess{i}@roster.test"), "wrong password here")
            .await;
        assert_eq!(res.status, 401, "attempt {i}");
    }
    let blocked = attacker.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(
        blocked.status, 429,
        "the sixth try from one address waits, even with the right password"
    );
    assert!(
        blocked
            .body
            .contains("Too many attempts. Try again in 1 seconds."),
        "{}",
        blocked.body
    );
    assert_eq!(blocked.header("retry-after"), "1");
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM audit_events WHERE action = 'sign-in.throttled'")
            .await,
        1
    );

    // Another address is not slowed down by this one.
    assert_eq!(
        server
            .client_from("127.0.0.41")
            .sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .status,
        303
    );

    // Each further failure doubles the wait.
    server.clock.advance(1);
    assert_eq!(
        attacker
            .sign_in("x@roster.test", "wrong password here")
            .await
            .status,
        401
    );
    let longer = attacker
        .sign_in("x@roster.test", "wrong password here")
        .await;
    assert_eq!(longer.status, 429);
    assert_eq!(longer.header("retry-after"), "2");
    server.clock.advance(2);
    assert_eq!(
        attacker.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.status,
        303
    );
});

both_engines!(
    throttling_slows_one_account_but_never_locks_its_owner_out,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        // The owner has signed in from this browser before: it holds a device cookie.
        let owner = server.client_from("127.0.0.50");
        assert_eq!(owner.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, 303);
        owner.sign_out().await;

        // Guesses at the owner's password from many addresses.
        for i in 0..8 {
            let guesser = server.client_from(&format!("127.0.1.{}", 10 + i));
            let res = guesser
                .sign_in("Ops@Roster.test ", &format!("guess number {i}"))
                .await;
            assert!(
                res.status == 401 || res.status == 429,
                "attempt {i}: {}",
                res.status
            );
        }
        let fresh = server.client_from("127.0.2.1");
        let res = fresh.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(
            res.status, 429,
            "a new browser waits: the account is being guessed at"
        );

        // The owner's own browser is not locked out.
        assert_eq!(owner.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, 303);

        // Everyone else gets in after the delay (capped).
        server.clock.advance(60);
        assert_eq!(fresh.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, 303);
    }
);

both_engines!(sign_in_follows_only_local_next, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    for (next, expected) in [
        ("/account", "/account"),
        ("//evil.test", "/"),
        ("https://evil.test", "/"),
        ("/\\evil.test", "/"),
        ("javascript:x", "/"),
    ] {
        let client = server.client();
        let form = client.get("/signin").await;
        let res = client
            .post_form(
                "/signin",
                &form.body,
                &[
                    ("email", ADMIN_EMAIL),
                    ("password", ADMIN_PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(res.status, 303);
        assert_eq!(res.location(), expected, "next={next}");
    }
});

both_engines!(sign_in_rotates_the_session, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let client = server.client();
    let first = client.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let first_id = first
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("roster="))
        .unwrap();
    // Signing in again from a signed-in browser ends the old session and starts a new one.
    let form = client.get("/devices").await;
    let second = client
        .post_form(
            "/signin",
            &form.body,
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(second.status, 303);
    let second_id = second
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("roster="))
        .unwrap();
    assert_ne!(first_id, second_id);
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 1);
});

both_engines!(extra_form_fields_are_refused, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let client = server.client();
    let form = client.get("/signin").await;
    let res = client
        .post_form(
            "/signin",
            &form.body,
            &[
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("role", "administrator"),
            ],
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
});

both_engines!(
    forwarded_addresses_count_only_from_trusted_proxies,
    |engine| async move {
        // Nobody trusted: a rotating X-Forwarded-For is the same client, throttled as one.
        let server = TestServer::builder(engine).admin().start().await;
        let client = server.client_from("127.0.0.60");
        for i in 0..5 {
            let form = client.get("/signin").await;
            let csrf = crate::support::input_value(&form.body, "csrf").unwrap();
            let ip = format!("203.0.113.{i}");
            let res = client
                .post_raw(
                    "/signin",
                    &[
                        ("csrf", &csrf),
                        ("email", &format!("g{i}@roster.test")),
                        ("password", "wrong password here"),
                    ],
                    &[("x-forwarded-for", &ip)],
                )
                .await;
            assert_eq!(res.status, 401);
        }
        let form = client.get("/signin").await;
        let csrf = crate::support::input_value(&form.body, "csrf").unwrap();
        let res = client
            .post_raw(
                "/signin",
                &[
                    ("csrf", &csrf),
                    ("email", "x@roster.test"),
                    ("password", "wrong password here"),
                ],
                &[("x-forwarded-for", "198.51.100.9")],
            )
            .await;
        assert_eq!(res.status, 429, "the forwarded header changed nothing");
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE ip = '127.0.0.60'")
                .await,
            6,
            "the real address in the audit"
        );

        // Behind a trusted proxy, the forwarded address is the client's.
        let proxied = TestServer::builder(engine)
            .admin()
            .behind(&["127.0.0.61"])
            .start()
            .await;
        let proxy = proxied.client_from("127.0.0.61");
        let form = proxy.get("/signin").await;
        let csrf = crate::support::input_value(&form.body, "csrf").unwrap();
        let res = proxy
            .post_raw(
                "/signin",
                &[
                    ("csrf", &csrf),
                    ("email", ADMIN_EMAIL),
                    ("password", ADMIN_PASSWORD),
                ],
                &[("x-forwarded-for", "203.0.113.77, 127.0.0.61")],
            )
            .await;
        assert_eq!(res.status, 303);
        assert_eq!(proxied.count("SELECT COUNT(*) FROM audit_events WHERE action = 'sign-in' AND ip = '203.0.113.77'").await, 1);
    }
);

both_engines!(
    a_flood_of_sign_ins_waits_for_its_turn_then_is_refused_as_busy,
    |engine| async move {
        use roster_core::domain::auth;
        let server = TestServer::builder(engine).admin().start().await;
        // Every hashing turn taken: a sign-in waits its queue time, then is told to come back.
        let busy = server
            .ctx
            .clone()
            .with_hash_limit(0, std::time::Duration::from_millis(100));
        let attempt = auth::SignIn {
            email: ADMIN_EMAIL,
            password: ADMIN_PASSWORD,
            ip: "127.0.0.9",
            user_agent: "",
            device_token: None,
        };
        let refused = auth::sign_in(&busy, attempt).await;
        assert!(
            matches!(refused, Err(roster_core::Error::RateLimited { .. })),
            "{refused:?}"
        );
        assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
        // With turns free, the same sign-in goes through.
        let free = server
            .ctx
            .clone()
            .with_hash_limit(1, std::time::Duration::from_millis(100));
        let attempt = auth::SignIn {
            email: ADMIN_EMAIL,
            password: ADMIN_PASSWORD,
            ip: "127.0.0.9",
            user_agent: "",
            device_token: None,
        };
        assert!(auth::sign_in(&free, attempt).await.is_ok());
    }
);
