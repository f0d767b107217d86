//! The services' lookup: only a lookup token asks, and a lookup token does nothing else; it
//! hears the user with their entitlements and effective settings (each with its source), an
//! Administered account's contact for an unknown sender of its domain, or 404; never anything
//! outside what its user administers. Lookups are counted for the audit trail, not written
//! one by one.

use reqwest::Method;
use roster_core::domain::{administered, service, user};
use serde_json::{Map, json};

use super::{bearer, call, get, lookup_bearer};
use crate::support::org::{Org, root_actor};
use crate::support::{TestServer, both_engines};

both_engines!(
    the_lookup_answers_with_effective_settings,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let op = root_actor(&server);
        let t = server.user("target@a.test").await;
        user::update_user(
            &server.ctx,
            &op,
            t.id,
            t.version,
            &user::UserChange {
                services: Some(vec!["sms".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let mut set = Map::new();
        set.insert("sender_id".into(), json!("ACME"));
        service::set_node_settings(&server.ctx, &op, org.a, "sms", None, &set)
            .await
            .unwrap();
        set.insert("sender_id".into(), json!("NORDICS"));
        service::set_node_settings(&server.ctx, &op, org.u1, "sms", None, &set)
            .await
            .unwrap();
        let lookup = lookup_bearer(&server, org.a, "smsgateway").await;

        let res = get(&server, "/api/v1/lookup?email=Target@A.test", &lookup).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["kind"], "user");
        assert_eq!(res.body["matched"], "email");
        assert_eq!(res.body["user"]["active"], true);
        assert_eq!(res.body["user"]["language"], "en");
        let services = res.body["services"].as_array().unwrap();
        let sms = services.iter().find(|s| s["service"] == "sms").unwrap();
        let fax = services.iter().find(|s| s["service"] == "fax").unwrap();
        assert_eq!(sms["entitled"], true);
        assert_eq!(fax["entitled"], false);
        assert!(fax["settings"].is_null());
        let sender = sms["settings"]["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "sender_id")
            .unwrap();
        assert_eq!(sender["value"], "NORDICS");
        assert_eq!(sender["source"]["kind"], "unit");
        assert_eq!(sender["source"]["name"], "Nordics");

        // By login: the system user itself is in the account.
        let res = get(&server, "/api/v1/lookup?login=SmsGateway", &lookup).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["matched"], "login");

        // One question at a time, and a bad one names its field.
        let res = get(&server, "/api/v1/lookup?email=a@a.test&login=x", &lookup).await;
        assert_eq!(res.status, 400);
        let res = get(&server, "/api/v1/lookup?email=nonsense", &lookup).await;
        assert_eq!(res.status, 422);
        assert_eq!(res.body["error"]["fields"][0]["field"], "email");
        let res = get(&server, "/api/v1/lookup?number=abc", &lookup).await;
        assert_eq!(res.status, 422);
        assert_eq!(res.body["error"]["fields"][0]["field"], "number");
    }
);

both_engines!(a_lookup_token_does_only_lookups, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let lookup = lookup_bearer(&server, org.a, "smsgateway").await;
    let admin = bearer(&server, org.account_admin, None, false, None).await;
    let before = server.fingerprint().await;
    let res = get(&server, "/api/v1/lookup?email=target@a.test", &admin).await;
    assert_eq!(res.status, 403, "an admin token does not look up");
    assert_eq!(res.body["error"]["code"], "api-lookup-scope");
    for (method, path, body) in [
        (Method::GET, "/api/v1/me".to_string(), None),
        (Method::GET, format!("/api/v1/users/{}", org.target), None),
        (
            Method::PATCH,
            format!("/api/v1/users/{}", org.target),
            Some(json!({"first_name": "X"})),
        ),
        (
            Method::POST,
            "/api/v1/tokens".to_string(),
            Some(json!({"name": "wider"})),
        ),
    ] {
        let res = call(
            &server,
            method,
            &path,
            &lookup,
            body,
            &[("if-match", "\"1\"")],
        )
        .await;
        assert_eq!(res.status, 403, "{path}: {:?}", res.body);
        assert_eq!(res.body["error"]["code"], "api-lookup-only");
    }
    assert_eq!(before, server.fingerprint().await);
    // A person gets no lookup token.
    let res = call(
        &server,
        Method::POST,
        "/api/v1/tokens",
        &admin,
        Some(json!({"name": "mine", "scope": "lookup"})),
        &[],
    )
    .await;
    assert_eq!(res.status, 409, "{:?}", res.body);
    assert_eq!(res.body["error"]["fields"][0]["field"], "scope");
    assert_eq!(before, server.fingerprint().await);
});

both_engines!(a_lookup_sees_only_its_account, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let op = root_actor(&server);
    let a_lookup = lookup_bearer(&server, org.a, "agateway").await;
    let operator = lookup_bearer(&server, server.root.clone().unwrap().0, "opgateway").await;
    // B's user is not A's to know about: the same 404 as nobody.
    let res = get(&server, "/api/v1/lookup?email=buser@b.test", &a_lookup).await;
    assert_eq!(res.status, 404);
    let nobody = get(&server, "/api/v1/lookup?email=nobody@b.test", &a_lookup).await;
    assert_eq!(nobody.status, 404);
    assert_eq!(res.body, nobody.body);
    let res = get(&server, "/api/v1/lookup?email=buser@b.test", &operator).await;
    assert_eq!(res.status, 200, "the operator's lookup sees every account");

    // An unknown sender from an Administered account's domain hears whom to ask.
    let version: i64 = server
        .text("SELECT CAST(version AS TEXT) FROM nodes WHERE name = 'Beta'")
        .await
        .parse()
        .unwrap();
    administered::set_administered(&server.ctx, &op, org.b, version, true, "b.test", "")
        .await
        .unwrap();
    server
        .exec("UPDATE nodes SET contact_name = 'Bea Boss', contact_email = 'bea@b.test', contact_phone = '+46701111111' WHERE name = 'Beta'")
        .await;
    let res = get(&server, "/api/v1/lookup?email=newcomer@b.test", &operator).await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    assert_eq!(res.body["kind"], "contact");
    assert_eq!(res.body["contact"]["name"], "Bea Boss");
    assert_eq!(res.body["contact"]["email"], "bea@b.test");
    // Not to A's lookup, and not for a domain that is not Administered.
    let res = get(&server, "/api/v1/lookup?email=newcomer@b.test", &a_lookup).await;
    assert_eq!(res.status, 404);
    let res = get(&server, "/api/v1/lookup?email=newcomer@a.test", &operator).await;
    assert_eq!(res.status, 404);
});

both_engines!(
    lookups_are_counted_not_written_one_by_one,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let lookup = lookup_bearer(&server, org.a, "smsgateway").await;
        let sql = "SELECT COUNT(*) FROM audit_events";
        let before = server.count(sql).await;
        for _ in 0..25 {
            let res = get(&server, "/api/v1/lookup?email=target@a.test", &lookup).await;
            assert_eq!(res.status, 200);
        }
        assert_eq!(server.count(sql).await, before, "no row per lookup");
        let written = roster_core::domain::lookup::flush_counts(&server.ctx, true)
            .await
            .unwrap();
        assert!(written >= 1);
        let events = server
            .count("SELECT COUNT(*) FROM audit_events WHERE action = 'lookup.count'")
            .await;
        // One event per token and minute (two if the lookups straddled a minute).
        assert!((1..=2).contains(&events), "{events}");
        if events == 1 {
            let after = server
                .text("SELECT after_data FROM audit_events WHERE action = 'lookup.count'")
                .await;
            assert!(after.contains("\"count\":25"), "{after}");
        }
    }
);

both_engines!(lookup_tokens_are_given_not_taken, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let op = root_actor(&server);
    // A system user of U1, whose own token may not make itself a lookup token.
    let sys = user::create_user(
        &server.ctx,
        &op,
        org.u1,
        &user::NewUser {
            system: true,
            login: "nordicsync".into(),
            profile: user::ProfileInput {
                user_type: "user".into(),
                language: "en".into(),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    let own = bearer(&server, sys, None, false, None).await;
    let unit_admin = server.user("unit@a.test").await.id;
    let admin = bearer(&server, unit_admin, None, false, None).await;
    let before = server.fingerprint().await;
    let res = call(
        &server,
        Method::POST,
        "/api/v1/tokens",
        &own,
        Some(json!({"name": "mine", "scope": "lookup"})),
        &[],
    )
    .await;
    assert_eq!(res.status, 409, "{:?}", res.body);
    assert_eq!(
        res.body["error"]["fields"][0]["code"],
        "token-lookup-by-administrator"
    );
    // An administrator over it may, but not wider than the system user's own subtree.
    let res = call(
        &server,
        Method::POST,
        "/api/v1/tokens",
        &admin,
        Some(json!({"name": "gw", "scope": "lookup", "user_id": sys.0, "node_id": org.a.0})),
        &[],
    )
    .await;
    assert_eq!(res.status, 409, "{:?}", res.body);
    assert_eq!(before, server.fingerprint().await);
    let res = call(
        &server,
        Method::POST,
        "/api/v1/tokens",
        &admin,
        Some(json!({"name": "gw", "scope": "lookup", "user_id": sys.0})),
        &[],
    )
    .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    assert_eq!(res.body["scope"], "lookup");
    let lookup = format!("Bearer {}", res.body["secret"].as_str().unwrap());
    // It answers for U1's subtree only.
    assert_eq!(
        get(&server, "/api/v1/lookup?email=target@a.test", &lookup)
            .await
            .status,
        200
    );
    assert_eq!(
        get(&server, "/api/v1/lookup?email=plain@a.test", &lookup)
            .await
            .status,
        404
    );
});
