//! SCIM `/Bulk`: operations in order with bulk ids, and runs of creates.

use reqwest::Method;
use serde_json::json;

use crate::support::org::Org;
use crate::support::{TestServer, both_engines};

use super::{call, token_for};

both_engines!(
    bulk_runs_operations_in_order_with_bulk_ids,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let token = token_for(&server, org.a).await;
        let request = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "failOnErrors": 1,
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "kim",
                 "data": {"userName": "kim@a.test", "name": {"givenName": "Kim"}}},
                {"method": "POST", "path": "/Groups", "bulkId": "team",
                 "data": {"displayName": "Tampere", "members": [{"value": "bulkId:kim"}]}},
                {"method": "PATCH", "path": "/Users/bulkId:kim",
                 "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                          "Operations": [{"op": "replace", "path": "active", "value": false}]}},
                {"method": "POST", "path": "/Users", "data": {"userName": "not an address"}},
                {"method": "POST", "path": "/Users", "data": {"userName": "never@a.test"}}
            ]
        });
        let res = call(&server, Method::POST, "/Bulk", &token, Some(request), &[]).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        let ops = res.body["Operations"].as_array().unwrap();
        assert_eq!(
            ops.len(),
            4,
            "failOnErrors 1 stops after the first error: {ops:?}"
        );
        assert_eq!(ops[0]["status"], "201");
        assert_eq!(ops[0]["bulkId"], "kim");
        assert!(ops[0]["location"].as_str().unwrap().contains("/Users/"));
        assert_eq!(ops[1]["status"], "201");
        assert_eq!(ops[2]["status"], "200");
        assert_eq!(ops[3]["status"], "400");
        assert_eq!(ops[3]["response"]["scimType"], "invalidValue");
        assert_eq!(
        server
            .count("SELECT COUNT(*) FROM users u JOIN nodes n ON n.id = u.node_id WHERE u.email = 'kim@a.test' AND n.name = 'Tampere' AND u.status = 'disabled'")
            .await,
        1
    );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM users WHERE email = 'never@a.test'")
                .await,
            0
        );
        // Without a token, nothing runs.
        let anonymous = call(
            &server,
            Method::POST,
            "/Bulk",
            "",
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                    "Operations": [{"method": "POST", "path": "/Users",
                                    "data": {"userName": "sneak@a.test"}}]}),
            ),
            &[],
        )
        .await;
        assert_eq!(anonymous.status, 401);
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM users WHERE email = 'sneak@a.test'")
                .await,
            0
        );
    }
);

// A run of user creates in /Bulk goes in one transaction when all of them succeed; when one
// would fail, each runs on its own: the others are created, the failure is told on its own
// operation, and nothing of it is written.
both_engines!(bulk_runs_of_creates, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let token = token_for(&server, org.a).await;
    let create = |name: &str, bulk: &str| {
        json!({"method": "POST", "path": "/Users", "bulkId": bulk,
               "data": {"userName": name, "emails": [{"value": format!("{name}@a.test")}],
                        "externalId": format!("x-{name}")}})
    };
    let all_good = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [create("ann", "a"), create("bob", "b"), create("cid", "c"),
            {"method": "PATCH", "path": "/Users/bulkId:b",
             "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations": [{"op": "replace", "path": "title", "value": "Chef"}]}}]
    });
    let res = call(&server, Method::POST, "/Bulk", &token, Some(all_good), &[]).await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    let ops = res.body["Operations"].as_array().unwrap();
    let statuses: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201", "201", "201", "200"], "{ops:?}");
    let bob = call(
        &server,
        Method::GET,
        "/Users?filter=userName%20eq%20%22bob%22",
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(bob.body["Resources"][0]["title"], "Chef");
    assert_eq!(bob.body["Resources"][0]["externalId"], "x-bob");
    assert_eq!(
        ops[1]["location"].as_str().unwrap(),
        bob.body["Resources"][0]["meta"]["location"]
            .as_str()
            .unwrap()
    );
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation' AND recipient IN ('ann@a.test', 'bob@a.test', 'cid@a.test')")
            .await,
        3
    );

    // The same userName twice in a run, and one taken already: each told on its own.
    let mixed = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [create("dan", "d"), create("ANN", "a2"), create("eve", "e"),
                       create("eve", "e2")]
    });
    let res = call(&server, Method::POST, "/Bulk", &token, Some(mixed), &[]).await;
    let ops = res.body["Operations"].as_array().unwrap();
    let statuses: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201", "409", "201", "409"], "{ops:?}");
    assert_eq!(ops[1]["response"]["scimType"], "uniqueness");
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM users WHERE email IN ('dan@a.test', 'eve@a.test')")
            .await,
        2
    );
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM scim_users WHERE user_name_key IN ('ann', 'dan', 'eve')")
            .await,
        3
    );
    // A run of creates adjusts its unit's count once, by as many as it made (and a run that
    // failed and went one by one, by those that were made).
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM nodes n WHERE n.user_count <> (SELECT COUNT(*) FROM users u WHERE u.node_id = n.id)")
            .await,
        0,
        "every unit's count is the number of its users"
    );
});
