use crate::support::server::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::support::{TestServer, both_engines, input_value};

both_engines!(setup_link_works_once_and_only_once, |engine| async move {
    let server = TestServer::builder(engine).start().await;
    let link = server
        .setup_link
        .clone()
        .expect("a fresh database prints a set-up link");
    assert!(
        link.starts_with(&format!("{}/setup?token=", server.url)),
        "absolute link on the public address: {link}"
    );
    let token = link.rsplit('=').next().unwrap();
    assert!(token.len() >= 22, "at least 128 bits");
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM link_tokens WHERE purpose = 'setup'")
            .await,
        1
    );
    let stored = server
        .count("SELECT COUNT(*) FROM link_tokens WHERE used_at IS NULL")
        .await;
    assert_eq!(stored, 1);

    let client = server.client();
    let form = client.get_url(&link).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("name=\"password_repeat\""));
    // Opening the page consumes nothing.
    let again = client.get_url(&link).await;
    assert_eq!(again.status, 200);

    server.create_first_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(server.count("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM grants").await, 1);
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.create'")
            .await,
        1
    );
    let hash = server.text("SELECT password_hash FROM users").await;
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");

    // Second use: the page says so, and a replayed POST creates nobody.
    let used = client.get_url(&link).await;
    assert_eq!(used.status, 410);
    assert!(used.body.contains("already been used"), "{}", used.body);
    let replay = client
        .post_form(
            "/setup",
            &form.body,
            &[
                ("token", token),
                ("first_name", "Eve"),
                ("last_name", "X"),
                ("email", "eve@roster.test"),
                ("password", "another long passphrase"),
                ("password_repeat", "another long passphrase"),
            ],
        )
        .await;
    assert_eq!(replay.status, 410);
    assert_eq!(server.count("SELECT COUNT(*) FROM users").await, 1);

    // The administrator signs in.
    let admin = server.client();
    assert_eq!(admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.status, 303);
});

both_engines!(setup_link_expires, |engine| async move {
    let server = TestServer::builder(engine).start().await;
    let link = server.setup_link.clone().unwrap();
    server.clock.advance(24 * 3600 + 1);
    let page = server.client().get_url(&link).await;
    assert_eq!(page.status, 410);
    assert!(page.body.contains("expired"), "{}", page.body);
});

both_engines!(
    setup_link_with_a_wrong_token_shows_a_clear_page,
    |engine| async move {
        let server = TestServer::builder(engine).start().await;
        let page = server.client().get("/setup?token=not-a-real-token").await;
        assert_eq!(page.status, 404);
        assert!(
            page.body.contains("This link is not valid"),
            "{}",
            page.body
        );
    }
);

both_engines!(
    setup_form_names_each_bad_field_and_creates_nothing,
    |engine| async move {
        let server = TestServer::builder(engine).start().await;
        let link = server.setup_link.clone().unwrap();
        let client = server.client();
        let form = client.get_url(&link).await;
        let token = input_value(&form.body, "token").unwrap();
        let cases: [(&str, &str, &str, &str); 4] = [
            (
                "not-an-email",
                "correct horse battery staple",
                "correct horse battery staple",
                "Enter an email address",
            ),
            (
                "a@roster.test",
                "short",
                "short",
                "Use at least 8 characters",
            ),
            (
                "a@roster.test",
                "password1234",
                "password1234",
                "too common",
            ),
            (
                "a@roster.test",
                "correct horse battery staple",
                "different words here",
                "not the same",
            ),
        ];
        for (email, pw, repeat, message) in cases {
            let res = client
                .post_form(
                    "/setup",
                    &form.body,
                    &[
                        ("token", &token),
                        ("first_name", "A"),
                        ("last_name", "B"),
                        ("email", email),
                        ("password", pw),
                        ("password_repeat", repeat),
                    ],
                )
                .await;
            assert_eq!(res.status, 422, "{email} {pw}");
            assert!(res.body.contains(message), "{message} not in {}", res.body);
            assert!(res.body.contains("aria-invalid=\"true\""));
            assert!(
                !res.body.contains("correct horse battery staple"),
                "a password was echoed"
            );
        }
        assert_eq!(server.count("SELECT COUNT(*) FROM users").await, 0);
        // The link still works after failed attempts.
        assert_eq!(client.get_url(&link).await.status, 200);
    }
);

both_engines!(setup_form_in_the_browsers_language, |engine| async move {
    let server = TestServer::builder(engine).start().await;
    let link = server.setup_link.clone().unwrap();
    let path = link.trim_start_matches(&server.url);
    let page = server
        .client()
        .get_with(path, &[("accept-language", "nl-NL,nl;q=0.9,en;q=0.5")])
        .await;
    assert!(page.body.contains("Roster instellen"), "{}", page.body);
    assert!(page.body.contains("<html lang=\"nl\">"));
});
