use crate::support::server::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::support::{TestServer, both_engines, input_value};

both_engines!(tabs_pages_and_their_content, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let client = server.admin_client().await;
    assert_eq!(client.get("/").await.location(), "/users");
    let devices = client.get("/devices").await;
    assert!(
        devices.body.contains("This browser"),
        "the current session is listed"
    );
    assert!(devices.body.contains("aria-current=\"page\""));
    let account = client.get("/account").await;
    assert!(account.body.contains("Operator"));
    let management = client.get("/management").await;
    assert_eq!(management.status, 200);
    assert!(management.body.contains("System status"));
    assert!(management.body.contains(match engine {
        crate::support::Engine::Sqlite => "SQLite",
        crate::support::Engine::Postgres => "PostgreSQL",
    }));
    assert!(
        management.body.contains("sign-in"),
        "recent events list the sign-in"
    );
    let missing = client.get("/no-such-page").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("This page does not exist"));
});

both_engines!(language_switch_persists, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let client = server.admin_client().await;
    let page = client.get("/users").await;
    assert!(page.body.contains("<html lang=\"en\">"));
    let res = client
        .post_form(
            "/language",
            &page.body,
            &[("lang", "nl"), ("back", "/users")],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/users");
    let dutch = client.get("/users").await;
    assert!(dutch.body.contains("<html lang=\"nl\">"));
    assert!(
        dutch.body.contains("Gebruikers") && dutch.body.contains("Uitloggen"),
        "{}",
        dutch.body
    );
    assert_eq!(server.user(ADMIN_EMAIL).await.language, "nl");
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.update'")
            .await,
        1
    );

    // Stored on the user: a new browser, another Accept-Language, still Dutch after sign-in.
    let elsewhere = server.client();
    let form = elsewhere
        .get_with("/signin", &[("accept-language", "sv")])
        .await;
    assert!(
        form.body.contains("Logga in"),
        "signed out, the browser's language: Swedish"
    );
    let res = elsewhere
        .post_form(
            "/signin",
            &form.body,
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 303);
    let again = elsewhere
        .get_with("/devices", &[("accept-language", "sv")])
        .await;
    assert!(again.body.contains("Apparaten"), "{}", again.body);

    // An unknown language is refused and changes nothing.
    let bad = client
        .post_form(
            "/language",
            &dutch.body,
            &[("lang", "xx"), ("back", "/users")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(server.user(ADMIN_EMAIL).await.language, "nl");
});

both_engines!(
    anonymous_pages_follow_accept_language_and_the_choice_cookie,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let client = server.client();
        let sv = client
            .get_with("/signin", &[("accept-language", "sv-SE,sv;q=0.9")])
            .await;
        assert!(sv.body.contains("<html lang=\"sv\">") && sv.body.contains("Lösenord"));
        let nl = client
            .get_with("/signin", &[("accept-language", "nl")])
            .await;
        assert!(nl.body.contains("Wachtwoord"));
        let other = client
            .get_with("/signin", &[("accept-language", "fr-FR")])
            .await;
        assert!(other.body.contains("Password"));
        // Choosing a language signed out keeps it for this browser.
        let csrf = input_value(&other.body, "csrf").unwrap();
        let res = client
            .post_raw(
                "/language",
                &[("csrf", &csrf), ("lang", "nl"), ("back", "/signin")],
                &[],
            )
            .await;
        assert_eq!(res.status, 303);
        let chosen = client
            .get_with("/signin", &[("accept-language", "sv")])
            .await;
        assert!(chosen.body.contains("Wachtwoord"), "{}", chosen.body);
    }
);
