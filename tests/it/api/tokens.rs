//! API credentials: read-only, expired, revoked and narrowed tokens, HTTP Basic for system
//! users, tokens made in the pages, and each credential's rate limit.

use reqwest::Method;
use serde_json::json;

use crate::support::org::Org;
use crate::support::{TestServer, both_engines};

use super::{bearer, call, get};

both_engines!(
    read_only_expired_revoked_and_narrowed_tokens,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let read_only = bearer(&server, org.account_admin, None, true, None).await;
        let before = server.fingerprint().await;
        assert_eq!(get(&server, "/api/v1/me", &read_only).await.status, 200);
        let refused = call(
            &server,
            Method::POST,
            "/api/v1/users",
            &read_only,
            Some(json!({"node_id": org.u1.0, "email": "ro@a.test"})),
            &[],
        )
        .await;
        assert_eq!((refused.status, refused.code()), (403, "api-read-only"));
        assert_eq!(server.fingerprint().await, before);

        // Narrowed to Nordics: Stockholm's user is in, Sales' plain user is not.
        let narrow = bearer(&server, org.account_admin, Some(org.u1), false, None).await;
        assert_eq!(
            get(&server, &format!("/api/v1/users/{}", org.target), &narrow)
                .await
                .status,
            200
        );
        assert_eq!(
            get(&server, &format!("/api/v1/users/{}", org.plain), &narrow)
                .await
                .status,
            404
        );
        assert_eq!(
            get(&server, &format!("/api/v1/nodes/{}", org.a), &narrow)
                .await
                .status,
            404
        );

        let expiring = bearer(&server, org.account_admin, None, false, Some(1)).await;
        assert_eq!(get(&server, "/api/v1/me", &expiring).await.status, 200);
        server.clock.advance(86_400 + 1);
        assert_eq!(get(&server, "/api/v1/me", &expiring).await.status, 401);

        // Tokens through the API: shown once, stored hashed, revoked at once.
        let made = call(
            &server,
            Method::POST,
            "/api/v1/tokens",
            &narrow,
            Some(json!({"name": "CI"})),
            &[],
        )
        .await;
        assert_eq!(made.status, 201, "{:?}", made.body);
        let secret = made.body["secret"].as_str().unwrap().to_string();
        let auth = format!("Bearer {secret}");
        assert_eq!(get(&server, "/api/v1/me", &auth).await.status, 200);
        let listed = get(&server, "/api/v1/tokens", &auth).await;
        assert!(listed.body["items"].as_array().unwrap().len() >= 2);
        assert!(
            !listed.body.to_string().contains(&secret),
            "never shown again"
        );
        let bad_name = call(
            &server,
            Method::POST,
            "/api/v1/tokens",
            &auth,
            Some(json!({"name": "", "expires_days": 0})),
            &[],
        )
        .await;
        assert_eq!(bad_name.status, 422);
        let revoked = call(
            &server,
            Method::DELETE,
            &format!("/api/v1/tokens/{}", made.body["id"].as_str().unwrap()),
            &auth,
            None,
            &[],
        )
        .await;
        assert_eq!(revoked.status, 204);
        assert_eq!(get(&server, "/api/v1/me", &auth).await.status, 401);
        // Someone else's token cannot be revoked (it does not exist for them).
        let b_admin = bearer(&server, org.b_user, None, false, None).await;
        let theirs = call(
            &server,
            Method::DELETE,
            &format!("/api/v1/tokens/{}", made.body["id"].as_str().unwrap()),
            &b_admin,
            None,
            &[],
        )
        .await;
        assert_eq!(theirs.status, 404);
    }
);

both_engines!(system_users_use_http_basic, |engine| async move {
    use base64::Engine as _;
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let auth = bearer(&server, org.account_admin, None, false, None).await;
    let created = call(
        &server,
        Method::POST,
        "/api/v1/users",
        &auth,
        Some(
            json!({"node_id": org.a.0, "kind": "system", "login": "smsgateway1",
                    "first_name": "SMS"}),
        ),
        &[],
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let secret = created.body["secret"].as_str().unwrap().to_string();
    let basic = |login: &str, secret: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{login}:{secret}"))
        )
    };
    let me = get(&server, "/api/v1/me", &basic("smsgateway1", &secret)).await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(me.body["login"], "smsgateway1");
    assert_eq!(me.body["kind"], "system");
    // Persons do not use Basic; wrong secrets are refused, then slowed down.
    let person = get(
        &server,
        "/api/v1/me",
        &basic("acct@a.test", crate::support::org::PW),
    )
    .await;
    assert_eq!(person.status, 401);
    for _ in 0..9 {
        let wrong = get(&server, "/api/v1/me", &basic("smsgateway1", "wrong")).await;
        assert_eq!(wrong.status, 401);
    }
    let slowed = get(&server, "/api/v1/me", &basic("smsgateway1", &secret)).await;
    assert_eq!(slowed.status, 429);
    assert!(!slowed.header("retry-after").is_empty());
});

fn shown_token(html: &str) -> String {
    html.split("<code id=\"new-token\">")
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .expect("the new token, shown once")
        .to_string()
}

both_engines!(
    tokens_are_made_and_revoked_in_the_pages,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let admin = crate::support::org::signed_in(&server, "acct@a.test").await;
        let page = admin.get("/toolbox").await;
        let bad = admin
            .post_form(
                "/toolbox/tokens",
                &page.body,
                &[("name", "CI"), ("expires_days", "0")],
            )
            .await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("Choose between 1 and 3650 days."));
        let made = admin
            .post_form(
                "/toolbox/tokens",
                &page.body,
                &[("name", "CI"), ("expires_days", "30"), ("read_only", "on")],
            )
            .await;
        assert_eq!(made.status, 200, "{}", made.body);
        let secret = shown_token(&made.body);
        let auth = format!("Bearer {secret}");
        assert_eq!(get(&server, "/api/v1/me", &auth).await.status, 200);
        // Shown once: the next page has the name, not the token.
        let again = admin.get("/toolbox").await;
        assert!(again.body.contains("Read only") && !again.body.contains(&secret));
        let id = again
            .body
            .split("action=\"/tokens/")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .unwrap()
            .to_string();
        // Another account's administrator cannot revoke it.
        let other = crate::support::org::signed_in(&server, "badmin@b.test").await;
        let page = other.get("/toolbox").await;
        let refused = other
            .post_form(
                &format!("/tokens/{id}/revoke"),
                &page.body,
                &[("back", "/toolbox")],
            )
            .await;
        assert_eq!(refused.status, 404);
        assert_eq!(get(&server, "/api/v1/me", &auth).await.status, 200);
        let revoked = admin
            .post_form(
                &format!("/tokens/{id}/revoke"),
                &again.body,
                &[("back", "/toolbox")],
            )
            .await;
        assert_eq!(revoked.location(), "/toolbox?saved=token-revoked#tokens");
        assert_eq!(get(&server, "/api/v1/me", &auth).await.status, 401);

        // A system user's token, made by its administrator on the user page.
        let write = bearer(&server, org.account_admin, None, false, None).await;
        let system = call(
            &server,
            Method::POST,
            "/api/v1/users",
            &write,
            Some(json!({"node_id": org.a.0, "kind": "system", "login": "faxgw"})),
            &[],
        )
        .await;
        let sys_id = system.body["id"].as_str().unwrap().to_string();
        let page = admin.get(&format!("/users/{sys_id}")).await;
        assert!(page.body.contains("API tokens"));
        let made = admin
            .post_form(
                &format!("/users/{sys_id}/tokens"),
                &page.body,
                &[("name", "gateway")],
            )
            .await;
        assert_eq!(made.status, 200, "{}", made.body);
        let me = get(
            &server,
            "/api/v1/me",
            &format!("Bearer {}", shown_token(&made.body)),
        )
        .await;
        assert_eq!(me.body["login"], "faxgw");
        // Not for a person: their tokens are their own.
        let page = admin.get(&format!("/users/{}", org.target)).await;
        let person = admin
            .post_form(
                &format!("/users/{}/tokens", org.target),
                &page.body,
                &[("name", "x")],
            )
            .await;
        assert_eq!(person.status, 403);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_credential_has_its_rate_limit() {
    let server = TestServer::builder(crate::support::Engine::Sqlite)
        .admin()
        .options(crate::support::server::Options {
            api_rate_per_minute: 5,
            ..Default::default()
        })
        .start()
        .await;
    let org = Org::build(&server).await;
    let auth = bearer(&server, org.account_admin, None, false, None).await;
    for left in (0..5).rev() {
        let res = get(&server, "/api/v1/me", &auth).await;
        assert_eq!(res.status, 200);
        assert_eq!(res.header("ratelimit-limit"), "5");
        assert_eq!(res.header("ratelimit-remaining"), left.to_string());
        assert!(!res.header("ratelimit-reset").is_empty());
    }
    let over = get(&server, "/api/v1/me", &auth).await;
    assert_eq!((over.status, over.code()), (429, "error-rate-limited"));
    assert!(!over.header("retry-after").is_empty());
    // Another token has its own window; the next minute opens a new one.
    let other = bearer(&server, org.b_user, None, false, None).await;
    assert_eq!(get(&server, "/api/v1/me", &other).await.status, 200);
    server.clock.advance(60);
    assert_eq!(get(&server, "/api/v1/me", &auth).await.status, 200);
}
