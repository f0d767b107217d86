//! The attacks that worked before authority was measured by rank: each is tried from outside,
//! against the real server, and must now be refused with nothing changed.

use reqwest::Method;
use roster_core::domain::{api_token, scim, user};
use roster_core::model::NodeId;
use serde_json::{Value, json};

use crate::sign_in::add_totp;
use crate::support::json::send;
use crate::support::org::{PW, person, root_actor, signed_in};
use crate::support::{TestServer, both_engines, input_value};

/// Acme with Sales ⊃ Nordics; an account Administrator whose home unit is Sales, and a user of
/// Sales who administers Sales only.
struct Takeover {
    account: NodeId,
    sales: NodeId,
    nordics: NodeId,
    admin: roster_core::model::UserId,
}

async fn takeover_fixture(server: &TestServer) -> Takeover {
    let op = root_actor(server);
    let account = roster_core::domain::node::create_account(
        &server.ctx,
        &op,
        &roster_core::domain::node::AccountInput {
            name: "Acme".into(),
            default_language: "en".into(),
            default_country: "SE".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let sales = roster_core::domain::node::create_unit(&server.ctx, &op, account, "Sales")
        .await
        .unwrap();
    let nordics = roster_core::domain::node::create_unit(&server.ctx, &op, sales, "Nordics")
        .await
        .unwrap();
    let admin = person(server, &op, sales, "boss@a.test", true).await;
    person(server, &op, sales, "unit@a.test", false).await;
    user::add_node_admin(&server.ctx, &op, sales, "unit@a.test")
        .await
        .unwrap();
    server
        .exec("UPDATE users SET password_must_change = FALSE")
        .await;
    Takeover {
        account,
        sales,
        nordics,
        admin,
    }
}

/// What is tried, on which route, with which form fields.
type Attempt<'a> = (&'a str, String, Vec<(&'a str, &'a str)>);

both_engines!(
    a_unit_administrator_cannot_take_over_an_account_administrator,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let t = takeover_fixture(&server).await;
        let boss = signed_in(&server, "boss@a.test").await;
        add_totp(&server, &boss, "/toolbox").await;
        let unit = signed_in(&server, "unit@a.test").await;
        let path = format!("/users/{}", t.admin);

        // Reading stays allowed: the Administrator is listed in the unit and has a page.
        let page = unit.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let v = input_value(&page.body, "version").expect("version");
        let nordics = t.nordics.to_string();
        let attempts: Vec<Attempt> = vec![
            ("reset second factors", format!("{path}/mfa/reset"), vec![]),
            (
                "new password",
                format!("{path}/password"),
                vec![("password", "a brand new passphrase"), ("version", &v)],
            ),
            (
                "new email",
                format!("{path}/email"),
                vec![("email", "mine@evil.test"), ("version", &v)],
            ),
            (
                "new phone",
                format!("{path}/settings"),
                vec![
                    ("version", &v),
                    ("first_name", "boss"),
                    ("last_name", "Test"),
                    ("user_type", "administrator"),
                    ("language", "en"),
                    ("phone_country", "SE"),
                    ("phone_number", "070 123 45 67"),
                ],
            ),
            (
                "disable",
                format!("{path}/status"),
                vec![("active", "false"), ("version", &v)],
            ),
            ("delete", format!("{path}/delete"), vec![]),
            (
                "move",
                format!("{path}/move"),
                vec![("node", &nordics), ("version", &v)],
            ),
            (
                "notes",
                format!("{path}/notes"),
                vec![("notes", "mine now"), ("version", &v)],
            ),
            (
                "services",
                format!("{path}/services"),
                vec![("services", "sms"), ("version", &v)],
            ),
            ("photo removed", format!("{path}/photo/remove"), vec![]),
            (
                "Access to the Administrator",
                format!("{path}/access"),
                vec![("email", "unit@a.test")],
            ),
        ];
        for (what, route, fields) in attempts {
            let before = server.fingerprint().await;
            let factors = server.count("SELECT COUNT(*) FROM factors").await;
            let res = unit.post_form(&route, &page.body, &fields).await;
            assert_eq!(res.status, 403, "{what}: {}", res.body);
            assert_eq!(server.fingerprint().await, before, "{what} changed nothing");
            assert_eq!(
                server.count("SELECT COUNT(*) FROM factors").await,
                factors,
                "{what}: the factors stay"
            );
        }
        // The Administrator's password is still their own, and they still need their factor.
        let again = server.client();
        assert_eq!(
            again
                .sign_in("boss@a.test", "a brand new passphrase")
                .await
                .status,
            401
        );
        let res = again.sign_in("boss@a.test", PW).await;
        assert!(
            res.location().starts_with("/signin/verify"),
            "{}",
            res.location()
        );
        // The unit administrator still administers their own unit's plain users.
        let plain = person(
            &server,
            &root_actor(&server),
            t.sales,
            "plain@a.test",
            false,
        )
        .await;
        let page = unit.get(&format!("/users/{plain}")).await;
        let v = input_value(&page.body, "version").unwrap();
        let res = unit
            .post_form(
                &format!("/users/{plain}/notes"),
                &page.body,
                &[("notes", "fine"), ("version", &v)],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
        // The account tab stays closed to them.
        assert_eq!(
            unit.get(&format!("/account?node={}", t.account))
                .await
                .status,
            404
        );
    }
);

both_engines!(
    a_delegate_never_administers_someone_who_holds_grants,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let t = takeover_fixture(&server).await;
        let op = root_actor(&server);
        // The delegate was given Access to a plain user, who later became an administrator
        // of Nordics (Access is never given to someone who administers already).
        person(&server, &op, t.nordics, "delegate@a.test", false).await;
        let unit_id = person(&server, &op, t.nordics, "later@a.test", false).await;
        user::add_access(&server.ctx, &op, unit_id, "delegate@a.test")
            .await
            .unwrap();
        user::add_node_admin(&server.ctx, &op, t.nordics, "later@a.test")
            .await
            .unwrap();
        let refused = user::add_access(&server.ctx, &op, t.admin, "delegate@a.test").await;
        assert!(
            matches!(&refused, Err(roster_core::Error::Invalid(f)) if f[0].code == "access-target-administers"),
            "{refused:?}"
        );
        server
            .exec("UPDATE users SET password_must_change = FALSE")
            .await;
        let delegate = signed_in(&server, "delegate@a.test").await;
        let path = format!("/users/{unit_id}");
        let page = delegate.get(&path).await;
        assert_eq!(page.status, 200, "the delegate still reads their user");
        let v = input_value(&page.body, "version").unwrap();
        for (what, route, fields) in [
            (
                "password",
                format!("{path}/password"),
                vec![
                    ("password", "a brand new passphrase"),
                    ("version", v.as_str()),
                ],
            ),
            (
                "email",
                format!("{path}/email"),
                vec![("email", "mine@evil.test"), ("version", v.as_str())],
            ),
            (
                "notes",
                format!("{path}/notes"),
                vec![("notes", "x"), ("version", v.as_str())],
            ),
        ] {
            let before = server.fingerprint().await;
            let res = delegate.post_form(&route, &page.body, &fields).await;
            assert_eq!(res.status, 403, "{what}: {}", res.body);
            assert_eq!(server.fingerprint().await, before, "{what}");
        }
    }
);

both_engines!(
    a_units_scim_token_cannot_change_an_administrators_address,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let t = takeover_fixture(&server).await;
        let token = scim::create_token(&server.ctx, &root_actor(&server), t.sales, "IdP")
            .await
            .unwrap();
        let auth = format!("Bearer {token}");
        let path = format!("/scim/v2/Users/{}", t.admin);
        let got = send(&server, Method::GET, &path, &auth, None, &[]).await;
        assert_eq!(got.status, 200, "reading stays allowed");
        let mut body = got.body.clone();
        body["emails"] = json!([{"value": "mine@evil.test", "primary": true}]);
        let patch = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "emails", "value": [{"value": "mine@evil.test"}]}]
        });
        let scim_json = "application/scim+json";
        for (method, body) in [
            (Method::PUT, Some(body)),
            (Method::PATCH, Some(patch)),
            (Method::DELETE, None),
        ] {
            let before = server.fingerprint().await;
            let res = send(
                &server,
                method.clone(),
                &path,
                &auth,
                body.map(|b| (b, scim_json)),
                &[],
            )
            .await;
            assert_eq!(res.status, 403, "{method}: {}", res.body);
            assert_eq!(server.fingerprint().await, before, "{method}");
        }
        assert_eq!(
            server
                .text("SELECT email FROM users WHERE email = 'boss@a.test'")
                .await,
            "boss@a.test"
        );
    }
);

async fn api(
    server: &TestServer,
    method: Method,
    path: &str,
    auth: &str,
    body: Option<Value>,
) -> crate::support::json::Answer {
    send(
        server,
        method,
        path,
        auth,
        body.map(|b| (b, "application/json")),
        &[],
    )
    .await
}

both_engines!(
    a_narrowed_token_never_mints_a_wider_one,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let t = takeover_fixture(&server).await;
        let created = api_token::create_token(
            &server.ctx,
            &root_actor(&server),
            &api_token::NewToken {
                user: t.admin,
                name: "narrow".into(),
                node: Some(t.sales),
                read_only: false,
                scope: api_token::TokenScope::Admin,
                expires_days: Some(1),
            },
        )
        .await
        .unwrap();
        let narrow = format!("Bearer {}", created.token);
        let account = format!("/api/v1/nodes/{}", t.account);
        assert_eq!(
            api(&server, Method::GET, &account, &narrow, None)
                .await
                .status,
            404
        );

        // Wider, longer-lived or unlimited children are refused, naming the field.
        for (body, field) in [
            (
                json!({"name": "x", "node_id": t.account.to_string()}),
                "node_id",
            ),
            (json!({"name": "x", "expires_days": 30}), "expires_days"),
        ] {
            let before = server.fingerprint().await;
            let res = api(&server, Method::POST, "/api/v1/tokens", &narrow, Some(body)).await;
            assert_eq!(res.status, 409, "wider than the token: {}", res.body);
            assert_eq!(
                res.body["error"]["fields"][0]["field"], field,
                "{}",
                res.body
            );
            assert_eq!(server.fingerprint().await, before);
        }
        // A token made without limits inherits the parent's: as narrow, as short-lived.
        let res = api(
            &server,
            Method::POST,
            "/api/v1/tokens",
            &narrow,
            Some(json!({"name": "x"})),
        )
        .await;
        assert_eq!(res.status, 201, "{}", res.body);
        assert_eq!(res.body["node_id"], t.sales.to_string());
        assert!(res.body["expires_at"].is_string(), "{}", res.body);
        let parent = created_expiry(&server, &created).await;
        assert!(
            res.body["expires_at"].as_str() <= parent.as_deref(),
            "{}",
            res.body
        );
        let child = format!("Bearer {}", res.body["secret"].as_str().unwrap());
        assert_eq!(
            api(&server, Method::GET, &account, &child, None)
                .await
                .status,
            404
        );
        // Narrower still is fine.
        let res = api(
            &server,
            Method::POST,
            "/api/v1/tokens",
            &narrow,
            Some(json!({"name": "y", "node_id": t.nordics.to_string(), "read_only": true})),
        )
        .await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
);

/// The parent token's expiry, as the API shows it.
async fn created_expiry(server: &TestServer, created: &api_token::CreatedToken) -> Option<String> {
    let views = api_token::list_tokens(
        &server.ctx,
        &root_actor(server),
        api_token::find_user(&server.ctx, "boss@a.test")
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    views
        .into_iter()
        .find(|v| v.id == created.id)
        .and_then(|v| v.expires_at)
        .map(|t| t.to_rfc3339())
}

both_engines!(
    one_scim_request_cannot_stop_the_server,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let t = takeover_fixture(&server).await;
        let token = scim::create_token(&server.ctx, &root_actor(&server), t.nordics, "small unit")
            .await
            .unwrap();
        let auth = format!("Bearer {token}");
        let scim_json = "application/scim+json";
        let long_or = vec!["userName pr"; 60_000].join(" or ");
        let deep_not = "not (".repeat(10_000) + "userName pr" + &")".repeat(10_000);
        let search = |filter: String| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": filter});
        for (what, body) in [
            ("60,000 clauses", search(long_or)),
            ("10,000 nots", search(deep_not)),
        ] {
            let res = send(
                &server,
                Method::POST,
                "/scim/v2/Users/.search",
                &auth,
                Some((body, scim_json)),
                &[],
            )
            .await;
            assert_eq!(res.status, 400, "{what}");
            assert_eq!(
                res.body["scimType"], "invalidFilter",
                "{what}: {}",
                res.body
            );
            assert_eq!(
                send(&server, Method::GET, "/healthz", "", None, &[])
                    .await
                    .status,
                200
            );
        }
        // A 100 KB PATCH path reaches the same parser: refused too.
        let me = user::create_user(
            &server.ctx,
            &root_actor(&server),
            t.nordics,
            &user::NewUser {
                profile: user::ProfileInput {
                    user_type: "user".into(),
                    language: "en".into(),
                    ..Default::default()
                },
                email: "p@a.test".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
        let path = format!("emails[{}]", vec!["value pr"; 12_000].join(" or "));
        let patch = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "remove", "path": path}]
        });
        let before = server.fingerprint().await;
        let res = send(
            &server,
            Method::PATCH,
            &format!("/scim/v2/Users/{me}"),
            &auth,
            Some((patch, scim_json)),
            &[],
        )
        .await;
        assert_eq!(res.status, 400, "{}", res.body);
        assert_eq!(server.fingerprint().await, before);
        assert_eq!(
            send(&server, Method::GET, "/healthz", "", None, &[])
                .await
                .status,
            200
        );
    }
);
