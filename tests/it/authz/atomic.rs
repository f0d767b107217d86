//! One change, one transaction: on every surface, a change refused for any one reason — a bad
//! field, a missing right, a stale version, the last administrator — leaves nothing written.

use reqwest::Method;
use roster_core::domain::{api_token, node, scim, user};
use serde_json::{Value, json};

use crate::support::json::{Answer, send};
use crate::support::org::{Org, person, root_actor, signed_in};
use crate::support::{TestServer, both_engines};

async fn api_token(server: &TestServer, who: roster_core::model::UserId) -> String {
    let t = api_token::create_token(
        &server.ctx,
        &root_actor(server),
        &api_token::NewToken {
            user: who,
            name: "t".into(),
            node: None,
            read_only: false,
            scope: api_token::TokenScope::Admin,
            expires_days: None,
        },
    )
    .await
    .unwrap();
    format!("Bearer {}", t.token)
}

async fn call(
    server: &TestServer,
    m: Method,
    path: &str,
    auth: &str,
    body: Value,
    tag: &str,
) -> Answer {
    let headers: Vec<(&str, &str)> = if tag.is_empty() {
        vec![]
    } else {
        vec![("if-match", tag)]
    };
    send(
        server,
        m,
        path,
        auth,
        Some((body, "application/json")),
        &headers,
    )
    .await
}

async fn version(server: &TestServer, id: roster_core::model::UserId) -> i64 {
    user::get_user(&server.ctx, &root_actor(server), id)
        .await
        .unwrap()
        .version
}

both_engines!(
    an_api_patch_refused_for_one_field_changes_nothing,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let auth = api_token(&server, org.account_admin).await;
        let path = format!("/api/v1/users/{}", org.target);
        let tag = format!("\"v{}\"", version(&server, org.target).await);
        // A unit that does not exist, with a new name and a new status in the same request.
        let before = server.fingerprint().await;
        let res = call(&server, Method::PATCH, &path, &auth,
        json!({"first_name": "Changed3", "status": "disabled", "node_id": uuid::Uuid::now_v7()}), &tag).await;
        // A unit the caller cannot see is a clash with what is stored: 409, naming the field.
        assert_eq!(res.status, 409, "{}", res.body);
        assert_eq!(res.body["error"]["fields"][0]["field"], "node_id");
        assert_eq!(server.fingerprint().await, before);
        let d = user::get_user(&server.ctx, &root_actor(&server), org.target)
            .await
            .unwrap();
        assert_eq!(d.first_name, "target");
        assert_eq!(d.status.as_str(), "active");
        // A stale version: 412, nothing written.
        let res = call(
            &server,
            Method::PATCH,
            &path,
            &auth,
            json!({"first_name": "X"}),
            "\"v999\"",
        )
        .await;
        assert_eq!(res.status, 412);
        assert_eq!(server.fingerprint().await, before);
        // Two changes racing on the same version: one wins whole, the other is refused whole.
        let (a, b) = tokio::join!(
            call(
                &server,
                Method::PATCH,
                &path,
                &auth,
                json!({"first_name": "A", "services": ["sms"]}),
                &tag
            ),
            call(
                &server,
                Method::PATCH,
                &path,
                &auth,
                json!({"first_name": "B", "services": ["fax"]}),
                &tag
            ),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert!(matches!(statuses, [200, 409] | [200, 412]), "{statuses:?}");
        let d = user::get_user(&server.ctx, &root_actor(&server), org.target)
            .await
            .unwrap();
        let pair = (d.first_name.as_str(), d.services.as_slice());
        assert!(
            pair == ("A", &["sms".to_string()][..]) || pair == ("B", &["fax".to_string()][..]),
            "one change whole: {pair:?}"
        );
    }
);

both_engines!(
    a_delegates_change_with_one_forbidden_part_changes_nothing,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        // The delegate may rename their user (settings), never disable them: one form at a time in
        // the portal; through the API, both in one PATCH, as a token of the delegate.
        let delegate_id = api_token::find_user(&server.ctx, "delegate@a.test")
            .await
            .unwrap();
        let auth = api_token(&server, delegate_id).await;
        let tag = format!("\"v{}\"", version(&server, org.target).await);
        let before = server.fingerprint().await;
        let res = call(
            &server,
            Method::PATCH,
            &format!("/api/v1/users/{}", org.target),
            &auth,
            json!({"first_name": "Mallory", "status": "disabled"}),
            &tag,
        )
        .await;
        assert_eq!(res.status, 403, "{}", res.body);
        assert_eq!(server.fingerprint().await, before);
    }
);

both_engines!(scim_changes_are_whole_or_nothing, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let secret = scim::create_token(&server.ctx, &root_actor(&server), org.a, "IdP")
        .await
        .unwrap();
    let auth = format!("Bearer {secret}");
    let scim_json = "application/scim+json";
    // The account's only Administrator loses the role and a name in one PUT: refused (the last
    // administrator), and the name stays too.
    let path = format!("/scim/v2/Users/{}", org.account_admin);
    let got = send(&server, Method::GET, &path, &auth, None, &[]).await;
    let mut body = got.body.clone();
    body["userType"] = json!("User");
    body["name"]["givenName"] = json!("Changed");
    body["emails"] = json!([{"value": "boss-new@a.test", "primary": true}]);
    let before = server.fingerprint().await;
    let res = send(
        &server,
        Method::PUT,
        &path,
        &auth,
        Some((body, scim_json)),
        &[],
    )
    .await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert_eq!(server.fingerprint().await, before);
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM users WHERE email = 'acct@a.test'")
            .await,
        1
    );

    // Created with active: false: disabled from its insert, and no invitation goes out.
    let outbox = server.count("SELECT COUNT(*) FROM outbox").await;
    let res = send(
        &server,
        Method::POST,
        "/scim/v2/Users",
        &auth,
        Some((
            json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "off@a.test", "active": false}),
            scim_json,
        )),
        &[],
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["active"], false);
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM users WHERE email = 'off@a.test' AND status = 'disabled'")
            .await,
        1
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM outbox").await, outbox);

    // A group PATCH that adds a member the token may move and one it may not (an
    // Administrator of the account who sits in a unit): nothing moves.
    let op = root_actor(&server);
    let boss = person(&server, &op, org.u, "boss@a.test", true).await;
    let unit_token = scim::create_token(&server.ctx, &op, org.u, "unit IdP")
        .await
        .unwrap();
    let unit_auth = format!("Bearer {unit_token}");
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members",
                        "value": [{"value": org.plain.to_string()}, {"value": boss.to_string()}]}]});
    let before = server.fingerprint().await;
    let res = send(
        &server,
        Method::PATCH,
        &format!("/scim/v2/Groups/{}", org.u2),
        &unit_auth,
        Some((patch, scim_json)),
        &[],
    )
    .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(
        server.fingerprint().await,
        before,
        "the first member did not move either"
    );
    // A PATCH path that is not one: 400, never a dropped connection.
    let res = send(
        &server,
        Method::PATCH,
        &format!("/scim/v2/Users/{}", org.plain),
        &auth,
        Some((
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "remove", "path": "a]b[c"}]}),
            scim_json,
        )),
        &[],
    )
    .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body["scimType"], "invalidPath");
});

both_engines!(
    moving_or_deleting_a_unit_needs_rank_over_what_it_carries,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let op = root_actor(&server);
        // An Administrator of the account sits in a unit below U1 (whose administrator is unit@).
        let kista = node::create_unit(&server.ctx, &op, org.u2, "Kista")
            .await
            .unwrap();
        person(&server, &op, kista, "boss@a.test", true).await;
        let other = node::create_unit(&server.ctx, &op, org.u1, "Malmo")
            .await
            .unwrap();
        server
            .exec("UPDATE users SET password_must_change = FALSE")
            .await;
        let unit = signed_in(&server, "unit@a.test").await;
        let page = unit.get(&format!("/units/{kista}")).await;
        let v = crate::support::input_value(&page.body, "version").unwrap();
        let before = server.fingerprint().await;
        let res = unit
            .post_form(
                &format!("/units/{kista}/move"),
                &page.body,
                &[("parent", &other.to_string()), ("version", &v)],
            )
            .await;
        assert_eq!(
            res.status, 403,
            "the unit carries an Administrator: {}",
            res.body
        );
        assert_eq!(server.fingerprint().await, before);
        // An empty unit that still gives someone rights stays.
        let empty = node::create_unit(&server.ctx, &op, org.u2, "Empty")
            .await
            .unwrap();
        person(&server, &op, org.u2, "keeper@a.test", false).await;
        user::add_node_admin(&server.ctx, &op, empty, "keeper@a.test")
            .await
            .unwrap();
        let before = server.fingerprint().await;
        let page = unit.get(&format!("/units/{empty}")).await;
        let res = unit
            .post_form(&format!("/units/{empty}/delete"), &page.body, &[])
            .await;
        assert_eq!(res.status, 409, "{}", res.body);
        assert!(
            res.body.contains("still gives someone rights"),
            "{}",
            res.body
        );
        assert_eq!(server.fingerprint().await, before);
    }
);

both_engines!(
    a_narrowed_token_cannot_revoke_a_wider_one,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let op = root_actor(&server);
        let wide = api_token::create_token(
            &server.ctx,
            &op,
            &api_token::NewToken {
                user: org.account_admin,
                name: "wide".into(),
                node: None,
                read_only: false,
                scope: api_token::TokenScope::Admin,
                expires_days: None,
            },
        )
        .await
        .unwrap();
        let narrow = api_token::create_token(
            &server.ctx,
            &op,
            &api_token::NewToken {
                user: org.account_admin,
                name: "narrow".into(),
                node: Some(org.u2),
                read_only: false,
                scope: api_token::TokenScope::Admin,
                expires_days: None,
            },
        )
        .await
        .unwrap();
        let before = server.fingerprint().await;
        let res = send(
            &server,
            Method::DELETE,
            &format!("/api/v1/tokens/{}", wide.id),
            &format!("Bearer {}", narrow.token),
            None,
            &[],
        )
        .await;
        assert_eq!(res.status, 403, "{}", res.body);
        assert_eq!(server.fingerprint().await, before);
        // It may revoke itself.
        let res = send(
            &server,
            Method::DELETE,
            &format!("/api/v1/tokens/{}", narrow.id),
            &format!("Bearer {}", narrow.token),
            None,
            &[],
        )
        .await;
        assert_eq!(res.status, 204);
    }
);
