//! SCIM groups are units: members move, groups nest and keep the provider's id.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::org::{Org, root_actor};
use crate::support::{TestServer, both_engines};

use super::{call, token_for};

both_engines!(groups_are_units_and_members_move, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let token = token_for(&server, org.a).await;
    // The existing units are groups; members are the users directly in them.
    let all = call(&server, Method::GET, "/Groups", &token, None, &[]).await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    assert_eq!(all.body["totalResults"], 3, "Sales, Nordics, Stockholm");
    let stockholm = call(
        &server,
        Method::GET,
        "/Groups?filter=displayName%20eq%20%22Stockholm%22",
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(
        stockholm.body["Resources"][0]["members"][0]["value"],
        org.target.0.to_string()
    );

    let made = call(
        &server,
        Method::POST,
        "/Groups",
        &token,
        Some(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": "Helsinki",
                    "members": [{"value": org.target.0.to_string()}]}),
        ),
        &[],
    )
    .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let gid = made.body["id"].as_str().unwrap().to_string();
    assert_eq!(made.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM users u JOIN nodes n ON n.id = u.node_id WHERE u.email = 'target@a.test' AND n.name = 'Helsinki'")
            .await,
        1,
        "a member is a user in the unit"
    );
    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    let added = call(
        &server,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        &token,
        Some(patch(json!([
            {"op": "add", "path": "members", "value": [{"value": org.plain.0.to_string()}]},
            {"op": "replace", "path": "displayName", "value": "Espoo"}
        ]))),
        &[],
    )
    .await;
    assert_eq!(added.status, 200, "{:?}", added.body);
    assert_eq!(added.body["displayName"], "Espoo");
    assert_eq!(added.body["members"].as_array().unwrap().len(), 2);
    let removed = call(
        &server,
        Method::PATCH,
        &format!("/Groups/{gid}"),
        &token,
        Some(patch(json!([
            {"op": "remove", "path": format!("members[value eq \"{}\"]", org.target.0)}
        ]))),
        &[],
    )
    .await;
    assert_eq!(removed.status, 200, "{:?}", removed.body);
    assert_eq!(removed.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM users u JOIN nodes n ON n.id = u.node_id WHERE u.email = 'target@a.test' AND n.name = 'Acme'")
            .await,
        1,
        "a removed member moves up to the group's parent"
    );
    // Another account's token: nothing to see or change.
    let other = token_for(&server, org.b).await;
    let hidden = call(
        &server,
        Method::GET,
        &format!("/Groups/{gid}"),
        &other,
        None,
        &[],
    )
    .await;
    assert_eq!(hidden.status, 404);
    // Deleting the group moves its members up and removes the unit.
    let gone = call(
        &server,
        Method::DELETE,
        &format!("/Groups/{gid}"),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(gone.status, 204);
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM nodes WHERE name = 'Espoo'")
            .await,
        0
    );
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM users u JOIN nodes n ON n.id = u.node_id WHERE u.email = 'plain@a.test' AND n.name = 'Acme'")
            .await,
        1
    );
    let bad = call(
        &server,
        Method::POST,
        "/Groups",
        &token,
        Some(json!({"displayName": "", "members": []})),
        &[],
    )
    .await;
    assert_eq!(bad.status, 400);
});

both_engines!(groups_nest_and_keep_the_providers_id, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let token = token_for(&server, org.a).await;
    let stockholm = org.u2.0.to_string();
    let sales = org.u.0.to_string();

    // A new group with a group member: the unit moves under it.
    let made = call(
        &server,
        Method::POST,
        "/Groups",
        &token,
        Some(json!({"displayName": "Region", "externalId": "entra-77",
                        "members": [{"value": stockholm, "type": "Group"}]})),
        &[],
    )
    .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let region = made.body["id"].as_str().unwrap().to_string();
    assert_eq!(made.body["externalId"], "entra-77");
    assert_eq!(made.body["members"][0]["value"], stockholm.as_str());
    assert_eq!(made.body["members"][0]["type"], "Group");
    let sales_now = call(
        &server,
        Method::GET,
        &format!("/Groups/{sales}"),
        &token,
        None,
        &[],
    )
    .await;
    let nordics = org.u1.0.to_string();
    let nordics_now = call(
        &server,
        Method::GET,
        &format!("/Groups/{nordics}"),
        &token,
        None,
        &[],
    )
    .await;
    assert!(
        !nordics_now.body["members"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m["value"] == stockholm.as_str()),
        "Stockholm left Nordics"
    );
    assert!(
        sales_now.body["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["value"] == nordics.as_str())
    );
    // The external id is the account's: another group cannot take it (409).
    let twin = call(
        &server,
        Method::POST,
        "/Groups",
        &token,
        Some(json!({"displayName": "Twin", "externalId": "entra-77"})),
        &[],
    )
    .await;
    assert_eq!(twin.status, 409, "{:?}", twin.body);
    let found = call(
        &server,
        Method::GET,
        "/Groups?filter=externalId%20eq%20%22entra-77%22",
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(found.body["totalResults"], 1);
    // A unit cannot become a member of its own descendant: 400, nothing moves.
    let cycle = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members",
                            "value": [{"value": sales, "type": "Group"}]}]});
    let refused = call(
        &server,
        Method::PATCH,
        &format!("/Groups/{nordics}"),
        &token,
        Some(cycle),
        &[],
    )
    .await;
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    assert!(refused.body["detail"].as_str().unwrap().contains("members"));
    // Removing the group member moves the unit up to the group's parent (the account).
    let out = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "remove", "path": format!("members[value eq \"{stockholm}\"]")},
                           {"op": "remove", "path": "externalId"}]});
    let removed = call(
        &server,
        Method::PATCH,
        &format!("/Groups/{region}"),
        &token,
        Some(out),
        &[],
    )
    .await;
    assert_eq!(removed.status, 200, "{:?}", removed.body);
    assert!(removed.body.get("members").is_none());
    assert!(removed.body.get("externalId").is_none());
    let stockholm_now =
        roster_core::domain::node::get_node(&server.ctx, &root_actor(&server), org.u2)
            .await
            .unwrap();
    assert_eq!(stockholm_now.parent_id, Some(org.a));
    // Another account's token: 404, nothing changes.
    let other = token_for(&server, org.b).await;
    let rename = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": "Taken"}]});
    let foreign = call(
        &server,
        Method::PATCH,
        &format!("/Groups/{region}"),
        &other,
        Some(rename),
        &[],
    )
    .await;
    assert_eq!(foreign.status, 404);
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM nodes WHERE name = 'Region'")
            .await,
        1
    );
    // Deleting a group moves its members up first, units included.
    let back = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members",
                        "value": [{"value": stockholm, "type": "Group"}]}]});
    let added = call(
        &server,
        Method::PATCH,
        &format!("/Groups/{region}"),
        &token,
        Some(back),
        &[],
    )
    .await;
    assert_eq!(added.status, 200, "{:?}", added.body);
    let gone = call(
        &server,
        Method::DELETE,
        &format!("/Groups/{region}"),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(gone.status, 204);
    let stockholm_now =
        roster_core::domain::node::get_node(&server.ctx, &root_actor(&server), org.u2)
            .await
            .unwrap();
    assert_eq!(stockholm_now.parent_id, Some(org.a));
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM nodes WHERE name = 'Region'")
            .await,
        0
    );
});
