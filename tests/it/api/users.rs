//! Users and units through the API: what a token reads, and writes checked for input, versions
//! and scope.

use reqwest::Method;
use roster_core::domain::api_token::{self};
use serde_json::json;

use crate::support::org::Org;
use crate::support::{TestServer, both_engines};

use super::{bearer, call, get};

both_engines!(
    a_token_reads_what_its_user_administers,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let auth = bearer(&server, org.account_admin, None, false, None).await;

        let me = get(&server, "/api/v1/me", &auth).await;
        assert_eq!(me.status, 200, "{:?}", me.body);
        assert_eq!(me.body["email"], "acct@a.test");

        let target = get(&server, &format!("/api/v1/users/{}", org.target), &auth).await;
        assert_eq!(target.status, 200);
        assert_eq!(target.body["email"], "target@a.test");
        assert_eq!(
            target.header("etag"),
            format!("\"v{}\"", target.body["version"])
        );

        // Another account's user does not exist for this token.
        let other = get(&server, &format!("/api/v1/users/{}", org.b_user), &auth).await;
        assert_eq!(other.status, 404);
        assert_eq!(other.code(), "error-not-found");
        let list = get(&server, &format!("/api/v1/users?node={}", org.b), &auth).await;
        assert_eq!(list.status, 404);
        let list = get(&server, &format!("/api/v1/users?node={}", org.a), &auth).await;
        assert_eq!(list.status, 200);
        let emails: Vec<&str> = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|u| u["email"].as_str())
            .collect();
        assert!(emails.contains(&"target@a.test") && !emails.contains(&"buser@b.test"));

        // No credentials, wrong credentials, a token in the query string: 401 and the one body.
        let none = get(&server, "/api/v1/me", "").await;
        assert_eq!((none.status, none.code()), (401, "api-auth-missing"));
        assert!(none.header("www-authenticate").starts_with("Bearer"));
        let wrong = get(&server, "/api/v1/me", "Bearer rst_nope").await;
        assert_eq!((wrong.status, wrong.code()), (401, "api-auth-failed"));
        let token = auth.trim_start_matches("Bearer ");
        let query = get(&server, &format!("/api/v1/me?access_token={token}"), "").await;
        assert_eq!(query.status, 401);
        // A portal session cookie opens nothing here.
        let portal = server.admin_client().await;
        let cookie = portal.get_with("/api/v1/me", &[]).await;
        assert_eq!(cookie.status, 401);
        // A malformed id is a resource that does not exist, in the same body.
        let bad = get(&server, "/api/v1/users/not-an-id", &auth).await;
        assert_eq!((bad.status, bad.code()), (404, "error-not-found"));
        // Failures are written once a minute per address, with their count.
        roster_core::domain::auth::flush_failures(&server.ctx, true)
            .await
            .unwrap();
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'api.auth.failed'")
                .await,
            1,
            "the wrong token (a missing one is no attempt)"
        );
        assert!(
            server
                .text("SELECT after_data FROM audit_events WHERE action = 'api.auth.failed'")
                .await
                .contains("\"count\":1")
        );
    }
);

both_engines!(writes_check_input_versions_and_scope, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let auth = bearer(&server, org.account_admin, None, false, None).await;
    let before = server.fingerprint().await;

    // Bad input names the field, in the language asked for, and changes nothing.
    let bad = call(
        &server,
        Method::POST,
        "/api/v1/users",
        &auth,
        Some(json!({"node_id": org.u1.0, "email": "not-an-address", "first_name": "N"})),
        &[("accept-language", "nl")],
    )
    .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
    assert_eq!(bad.body["error"]["fields"][0]["field"], "email");
    assert!(
        bad.body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("e-mailadres")
    );
    let unknown = call(
        &server,
        Method::POST,
        "/api/v1/users",
        &auth,
        Some(json!({"node_id": org.u1.0, "email": "n@a.test", "is_admin": true})),
        &[],
    )
    .await;
    assert_eq!((unknown.status, unknown.code()), (400, "api-json-invalid"));
    // Out of scope: another account's node.
    let elsewhere = call(
        &server,
        Method::POST,
        "/api/v1/users",
        &auth,
        Some(json!({"node_id": org.b.0, "email": "n@b.test", "first_name": "N"})),
        &[],
    )
    .await;
    assert_eq!(elsewhere.status, 404);
    assert_eq!(server.fingerprint().await, before, "nothing changed");

    let created = call(
        &server,
        Method::POST,
        "/api/v1/users",
        &auth,
        Some(
            json!({"node_id": org.u1.0, "email": "nina@a.test", "first_name": "Nina",
                    "language": "sv", "phone": "+46701234567"}),
        ),
        &[],
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(created.header("location"), format!("/api/v1/users/{id}"));
    assert_eq!(created.body["status"], "invited");
    assert_eq!(created.body["phone"], "+46701234567");
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation' AND recipient = 'nina@a.test'")
            .await,
        1,
        "the invitation goes through the outbox"
    );

    let path = format!("/api/v1/users/{id}");
    let change = json!({"first_name": "Nora", "notifications_enabled": true, "notify_sms": true});
    let missing = call(
        &server,
        Method::PATCH,
        &path,
        &auth,
        Some(change.clone()),
        &[],
    )
    .await;
    assert_eq!(
        (missing.status, missing.code()),
        (428, "api-if-match-required")
    );
    let stale = call(
        &server,
        Method::PATCH,
        &path,
        &auth,
        Some(change.clone()),
        &[("if-match", "\"v99\"")],
    )
    .await;
    assert_eq!((stale.status, stale.code()), (412, "api-if-match-stale"));
    let tag = created.header("etag");
    let changed = call(
        &server,
        Method::PATCH,
        &path,
        &auth,
        Some(change),
        &[("if-match", &tag)],
    )
    .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.body["first_name"], "Nora");
    assert_eq!(changed.body["last_name"], "", "absent fields stay");
    assert_ne!(changed.header("etag"), tag);
    // The same rules as the portal: SMS notifications need a phone.
    let no_phone = call(
        &server,
        Method::PATCH,
        &path,
        &auth,
        Some(json!({"phone": ""})),
        &[("if-match", &changed.header("etag"))],
    )
    .await;
    // A clash with what is stored (the user's SMS notifications) is 409, naming the field.
    assert_eq!(no_phone.status, 409);
    assert_eq!(no_phone.body["error"]["fields"][0]["field"], "phone");

    let gone = call(
        &server,
        Method::DELETE,
        &path,
        &auth,
        None,
        &[("if-match", &changed.header("etag"))],
    )
    .await;
    assert_eq!(gone.status, 204);
    assert_eq!(get(&server, &path, &auth).await.status, 404);
});

both_engines!(
    nodes_administrators_invitations_and_sessions,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let auth = bearer(&server, org.account_admin, None, false, None).await;

        // A unit under Sales, renamed, moved, its administrator added and removed, deleted.
        let made = call(
            &server,
            Method::POST,
            "/api/v1/nodes",
            &auth,
            Some(json!({"kind": "unit", "parent_id": org.u.0, "name": "Oslo"})),
            &[],
        )
        .await;
        assert_eq!(made.status, 201, "{:?}", made.body);
        let id = made.body["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/nodes/{id}");
        let renamed = call(
            &server,
            Method::PATCH,
            &path,
            &auth,
            Some(json!({"name": "Bergen", "parent_id": org.u1.0})),
            &[("if-match", &made.header("etag"))],
        )
        .await;
        assert_eq!(renamed.status, 200, "{:?}", renamed.body);
        assert_eq!(renamed.body["name"], "Bergen");
        assert_eq!(renamed.body["parent_id"], org.u1.0.to_string());
        // An account's fields on a unit name the field.
        let wrong = call(
            &server,
            Method::PATCH,
            &path,
            &auth,
            Some(json!({"contact_email": "x@a.test"})),
            &[("if-match", &renamed.header("etag"))],
        )
        .await;
        // Account fields on a unit: a clash with what the node is (409), naming the field.
        assert_eq!(wrong.status, 409, "{}", wrong.body);
        assert_eq!(wrong.body["error"]["fields"][0]["field"], "contact_email");
        assert_eq!(
            wrong.body["error"]["fields"][0]["code"],
            "api-field-not-for-kind"
        );
        // Only operators create accounts.
        let account = call(
            &server,
            Method::POST,
            "/api/v1/nodes",
            &auth,
            Some(json!({"kind": "account", "name": "Rival"})),
            &[],
        )
        .await;
        assert!(matches!(account.status, 403 | 404), "{}", account.status);

        // Another account's administrator: every write on this unit is 404, nothing changes.
        let b_admin = api_token::find_user(&server.ctx, "badmin@b.test")
            .await
            .unwrap();
        let stranger = bearer(&server, b_admin, None, false, None).await;
        let before = server.fingerprint().await;
        let tag = renamed.header("etag");
        for (method, target, body) in [
            (Method::PATCH, path.clone(), Some(json!({"name": "Taken"}))),
            (Method::DELETE, path.clone(), None),
            (
                Method::POST,
                format!("{path}/administrators"),
                Some(json!({"email": "badmin@b.test"})),
            ),
            (
                Method::DELETE,
                format!("{path}/administrators/{}", org.account_admin),
                None,
            ),
        ] {
            let res = call(
                &server,
                method,
                &target,
                &stranger,
                body,
                &[("if-match", &tag)],
            )
            .await;
            assert_eq!(res.status, 404, "{target}");
        }
        assert_eq!(server.fingerprint().await, before);

        let admins = format!("{path}/administrators");
        let added = call(
            &server,
            Method::POST,
            &admins,
            &auth,
            Some(json!({"email": "plain@a.test"})),
            &[],
        )
        .await;
        assert_eq!(added.status, 204, "{:?}", added.body);
        let list = get(&server, &admins, &auth).await;
        assert_eq!(list.body["items"][0]["email"], "plain@a.test");
        let removed = call(
            &server,
            Method::DELETE,
            &format!("{admins}/{}", org.plain),
            &auth,
            None,
            &[],
        )
        .await;
        assert_eq!(removed.status, 204);
        let gone = call(
            &server,
            Method::DELETE,
            &path,
            &auth,
            None,
            &[("if-match", &get(&server, &path, &auth).await.header("etag"))],
        )
        .await;
        assert_eq!(gone.status, 204);
        assert_eq!(get(&server, &path, &auth).await.status, 404);

        // A user: services, disabled, moved; their sessions listed and ended.
        let user_path = format!("/api/v1/users/{}", org.target);
        let tag = get(&server, &user_path, &auth).await.header("etag");
        let changed = call(
            &server,
            Method::PATCH,
            &user_path,
            &auth,
            Some(json!({"services": ["sms"], "status": "disabled", "node_id": org.u.0})),
            &[("if-match", &tag)],
        )
        .await;
        assert_eq!(changed.status, 200, "{:?}", changed.body);
        assert_eq!(changed.body["services"], json!(["sms"]));
        assert_eq!(changed.body["status"], "disabled");
        assert_eq!(changed.body["node_id"], org.u.0.to_string());
        let unknown = call(
            &server,
            Method::PATCH,
            &user_path,
            &auth,
            Some(json!({"services": ["telex"]})),
            &[("if-match", &changed.header("etag"))],
        )
        .await;
        assert_eq!(unknown.status, 422);

        let plain = crate::support::org::signed_in(&server, "plain@a.test").await;
        let sessions = get(
            &server,
            &format!("/api/v1/users/{}/sessions", org.plain),
            &auth,
        )
        .await;
        assert_eq!(sessions.status, 200);
        let ref_id = sessions.body["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let ended = call(
            &server,
            Method::DELETE,
            &format!("/api/v1/users/{}/sessions/{ref_id}", org.plain),
            &auth,
            None,
            &[],
        )
        .await;
        assert_eq!(ended.status, 204);
        assert_eq!(
            plain.get("/toolbox").await.status,
            303,
            "that browser is signed out"
        );
        // Another account's user: nothing to see.
        let other = get(
            &server,
            &format!("/api/v1/users/{}/sessions", org.b_user),
            &auth,
        )
        .await;
        assert_eq!(other.status, 404);

        // An invitation again for an invited user; none for an active one.
        let invited = call(
            &server,
            Method::POST,
            "/api/v1/users",
            &auth,
            Some(json!({"node_id": org.u1.0, "email": "ivo@a.test", "first_name": "Ivo"})),
            &[],
        )
        .await;
        let again = call(
            &server,
            Method::POST,
            &format!(
                "/api/v1/users/{}/invitations",
                invited.body["id"].as_str().unwrap()
            ),
            &auth,
            None,
            &[],
        )
        .await;
        assert_eq!(again.status, 202);
        let active = call(
            &server,
            Method::POST,
            &format!("/api/v1/users/{}/invitations", org.plain),
            &auth,
            None,
            &[],
        )
        .await;
        assert_eq!(active.status, 409);
    }
);

both_engines!(an_idempotency_key_creates_once, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let auth = bearer(&server, org.account_admin, None, false, None).await;
    let body = json!({"node_id": org.a.0, "kind": "system", "login": "printer7"});
    let key = [("idempotency-key", "create-printer-7")];
    let first = call(
        &server,
        Method::POST,
        "/api/v1/users",
        &auth,
        Some(body.clone()),
        &key,
    )
    .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert!(first.body["secret"].is_string());
    let again = call(
        &server,
        Method::POST,
        "/api/v1/users",
        &auth,
        Some(body.clone()),
        &key,
    )
    .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), "true");
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.header("location"), first.header("location"));
    assert!(again.body.get("secret").is_none(), "a secret is shown once");
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM users WHERE login = 'printer7'")
            .await,
        1
    );
    // The same key for another request is refused; nothing is created.
    let other = call(
        &server,
        Method::POST,
        "/api/v1/users",
        &auth,
        Some(json!({"node_id": org.a.0, "kind": "system", "login": "printer8"})),
        &key,
    )
    .await;
    assert_eq!(
        (other.status, other.code()),
        (422, "idempotency-key-reused")
    );
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM users WHERE login = 'printer8'")
            .await,
        0
    );
    // Another credential has its own keys.
    let second = bearer(&server, org.account_admin, None, false, None).await;
    let theirs = call(
        &server,
        Method::POST,
        "/api/v1/users",
        &second,
        Some(json!({"node_id": org.a.0, "kind": "system", "login": "printer9"})),
        &key,
    )
    .await;
    assert_eq!(theirs.status, 201);
    // A key that is not one: 400 naming the header.
    let bad = call(
        &server,
        Method::POST,
        "/api/v1/users",
        &auth,
        Some(body),
        &[("idempotency-key", "")],
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["error"]["fields"][0]["field"], "Idempotency-Key");
});
