use crate::support::server::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::support::{TestServer, both_engines, input_value};

both_engines!(
    forged_form_posts_are_refused_and_change_nothing,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let victim = server.admin_client().await;
        let page = victim.get("/devices").await;
        let token = input_value(&page.body, "csrf").unwrap();

        // No token: logout refused, session intact.
        let res = victim.post_raw("/signout", &[], &[]).await;
        assert_eq!(res.status, 403);
        assert!(
            res.body
                .contains("This form has expired or did not come from Roster"),
            "{}",
            res.body
        );
        assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 1);

        // Another session's token.
        let other = server.admin_client().await;
        let other_page = other.get("/devices").await;
        let other_token = input_value(&other_page.body, "csrf").unwrap();
        assert_ne!(token, other_token);
        assert_eq!(
            victim
                .post_raw("/signout", &[("csrf", &other_token)], &[])
                .await
                .status,
            403
        );

        // The right token, but the browser says the post comes from another site.
        let cross = victim
            .post_raw(
                "/signout",
                &[("csrf", &token)],
                &[("origin", "https://evil.test")],
            )
            .await;
        assert_eq!(cross.status, 403);
        let cross_site = victim
            .post_raw(
                "/signout",
                &[("csrf", &token)],
                &[("sec-fetch-site", "cross-site")],
            )
            .await;
        assert_eq!(cross_site.status, 403);

        // A forged language change changes nothing.
        assert_eq!(
            victim
                .post_raw("/language", &[("lang", "sv")], &[])
                .await
                .status,
            403
        );
        assert_eq!(server.user(ADMIN_EMAIL).await.language, "en");
        assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 2);

        // Two tokens in one form are refused too.
        assert_eq!(
            victim
                .post_raw("/signout", &[("csrf", &token), ("csrf", &other_token)], &[])
                .await
                .status,
            403
        );

        // The token in a header (as htmx sends it) works, as does the form field.
        let ok = victim
            .post_raw("/signout", &[], &[("x-csrf-token", &token)])
            .await;
        assert_eq!(ok.status, 303);
        assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 1);
    }
);

both_engines!(sign_in_form_is_protected_too, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let client = server.client();
    // Without the double-submit cookie and field, no sign-in happens.
    let res = client
        .post_raw(
            "/signin",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
            &[],
        )
        .await;
    assert_eq!(res.status, 403);
    let form = client.get("/signin").await;
    let token = input_value(&form.body, "csrf").unwrap();
    let wrong = client
        .post_raw(
            "/signin",
            &[
                ("csrf", "A".repeat(43).as_str()),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
            &[],
        )
        .await;
    assert_eq!(wrong.status, 403);
    // A token from a page, without this browser's cookie, is worth nothing.
    let stranger = server.client();
    let forged = stranger
        .post_raw(
            "/signin",
            &[
                ("csrf", &token),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
            &[],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(server.count("SELECT COUNT(*) FROM sessions").await, 0);
    // Same origin as the public address is fine.
    let origin = server.url.clone();
    let ok = client
        .post_raw(
            "/signin",
            &[
                ("csrf", &token),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
            &[("origin", &origin)],
        )
        .await;
    assert_eq!(ok.status, 303);
});

both_engines!(get_requests_change_nothing, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let client = server.admin_client().await;
    let before = server.count("SELECT COUNT(*) FROM audit_events").await;
    for path in [
        "/",
        "/devices",
        "/users",
        "/account",
        "/management",
        "/signin",
        "/signout",
        "/language",
        "/setup",
        "/toolbox",
        "/reauth",
        "/reset",
        "/reset/confirm?token=x",
        "/invitation?token=x",
        "/email/confirm?token=x",
        "/email/cancel?token=x",
        "/management/deliveries",
        "/users/add",
        "/password",
        "/toolbox/sessions/end-others",
        "/users/00000000-0000-0000-0000-000000000000/delete",
    ] {
        let res = client.get(path).await;
        assert!(res.status < 500, "{path}: {}", res.status);
    }
    let fingerprint = server.fingerprint().await;
    for path in ["/users", "/toolbox", "/management/deliveries", "/account"] {
        client.get(path).await;
    }
    assert_eq!(
        server.fingerprint().await,
        fingerprint,
        "reading pages changes nothing"
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM sessions").await,
        1,
        "GET /signout signs nobody out"
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM audit_events").await,
        before
    );
});
