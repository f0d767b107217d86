//! SCIM users: what an identity provider provisions, the provider's userName and attributes
//! kept, and an outside SCIM tester.

use reqwest::Method;
use serde_json::json;

use crate::support::org::Org;
use crate::support::{TestServer, both_engines};

use super::{barbara, bjensen, call, token_for};

both_engines!(an_identity_provider_provisions_users, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let token = token_for(&server, org.a).await;

    // Discovery.
    let config = call(
        &server,
        Method::GET,
        "/ServiceProviderConfig",
        "",
        None,
        &[],
    )
    .await;
    assert_eq!(config.status, 200);
    assert_eq!(config.body["patch"]["supported"], true);
    assert!(
        config
            .header("content-type")
            .starts_with("application/scim+json")
    );
    let schemas = call(&server, Method::GET, "/Schemas", "", None, &[]).await;
    assert_eq!(schemas.body["totalResults"], 3);
    let types = call(&server, Method::GET, "/ResourceTypes", "", None, &[]).await;
    assert_eq!(types.body["Resources"][0]["endpoint"], "/Users");
    let one = call(
        &server,
        Method::GET,
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        "",
        None,
        &[],
    )
    .await;
    assert_eq!(one.body["name"], "User");
    let nowhere = call(&server, Method::GET, "/Nowhere", &token, None, &[]).await;
    assert_eq!(nowhere.status, 404);
    assert_eq!(nowhere.body["status"], "404");

    // Without a token: the RFC 7644 error body.
    let none = call(&server, Method::GET, "/Users", "", None, &[]).await;
    assert_eq!(none.status, 401);
    assert_eq!(
        none.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(none.body["status"], "401");

    let created = call(
        &server,
        Method::POST,
        "/Users",
        &token,
        Some(barbara()),
        &[],
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        created.header("location"),
        created.body["meta"]["location"].as_str().unwrap()
    );
    assert!(created.header("etag").starts_with("W/\"v"));
    // The provider's userName and representation stay as sent; the address (from userName,
    // as no `emails` came) is Roster's, in lower case.
    assert_eq!(created.body["userName"], "Barbara.Jensen@A.test");
    assert_eq!(created.body["emails"][0]["value"], "barbara.jensen@a.test");
    assert_eq!(created.body["externalId"], "okta-0001");
    assert_eq!(created.body["preferredLanguage"], "sv-SE");
    assert_eq!(created.body["phoneNumbers"][0]["value"], "+46701234567");
    assert_eq!(
        created.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        json!({"employeeNumber": "701984", "department": "Tour Operations"})
    );
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM users WHERE email = 'barbara.jensen@a.test' AND language = 'sv' AND phone = '+46701234567'")
            .await,
        1,
        "mapped to Roster's fields"
    );
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation' AND recipient = 'barbara.jensen@a.test'")
            .await,
        1,
        "invited through the outbox"
    );
    // The same address again: 409 uniqueness; an external id taken: 409 too.
    let again = call(
        &server,
        Method::POST,
        "/Users",
        &token,
        Some(barbara()),
        &[],
    )
    .await;
    assert_eq!(again.status, 409, "{:?}", again.body);
    assert_eq!(again.body["scimType"], "uniqueness");
    // Bad input names the attribute.
    let bad = call(
        &server,
        Method::POST,
        "/Users",
        &token,
        Some(json!({"schemas": [], "name": {"givenName": "X"}})),
        &[],
    )
    .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body["detail"].as_str().unwrap().contains("userName"));

    // attributes / excludedAttributes: id and schemas always stay.
    let some = call(
        &server,
        Method::GET,
        &format!("/Users/{id}?attributes=userName,name.givenName"),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(some.status, 200);
    assert_eq!(some.body["id"], id.as_str());
    assert_eq!(some.body["name"], json!({"givenName": "Barbara"}));
    assert!(some.body.get("emails").is_none() && some.body.get("meta").is_none());
    let less = call(
        &server,
        Method::GET,
        &format!("/Users/{id}?excludedAttributes=emails,meta,id"),
        &token,
        None,
        &[],
    )
    .await;
    assert!(less.body.get("emails").is_none() && less.body.get("meta").is_none());
    assert_eq!(less.body["id"], id.as_str());
    assert_eq!(less.body["userName"], "Barbara.Jensen@A.test");
    // Sorting.
    let sorted = call(
        &server,
        Method::GET,
        "/Users?sortBy=userName&sortOrder=descending&count=3&attributes=userName",
        &token,
        None,
        &[],
    )
    .await;
    let names: Vec<String> = sorted.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 3);
    let mut expected = names.clone();
    expected.sort();
    expected.reverse();
    assert_eq!(names, expected);
    assert_eq!(names[0], "unit@a.test", "{names:?}");

    // Filters.
    let by_name = call(
        &server,
        Method::GET,
        "/Users?filter=userName%20eq%20%22BARBARA.jensen%40a.test%22",
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(by_name.status, 200);
    assert_eq!(by_name.body["totalResults"], 1);
    assert_eq!(by_name.body["Resources"][0]["id"], id.as_str());
    let starts = call(
        &server,
        Method::GET,
        "/Users?filter=name.familyName%20sw%20%22jen%22%20and%20active%20eq%20true",
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(starts.body["totalResults"], 1);
    let all = call(
        &server,
        Method::GET,
        "/Users?startIndex=1&count=2",
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(all.body["itemsPerPage"], 2);
    assert!(all.body["totalResults"].as_u64().unwrap() >= 6);
    let invalid = call(
        &server,
        Method::GET,
        "/Users?filter=userName%20zz%20x",
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.body["scimType"], "invalidFilter");

    // PATCH: deactivate and rename; the answer is the resource.
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "replace", "path": "active", "value": false},
            {"op": "replace", "path": "name.givenName", "value": "Babs"},
            {"op": "add", "value": {"displayName": "Babs J"}}
        ]
    });
    let patched = call(
        &server,
        Method::PATCH,
        &format!("/Users/{id}"),
        &token,
        Some(patch),
        &[],
    )
    .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(patched.body["active"], false);
    assert_eq!(patched.body["name"]["givenName"], "Babs");
    assert_eq!(patched.body["displayName"], "Babs J");
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM users WHERE email = 'barbara.jensen@a.test' AND status = 'disabled'")
            .await,
        1
    );
    // A stale ETag: 412, nothing changes.
    let stale = call(
        &server,
        Method::PUT,
        &format!("/Users/{id}"),
        &token,
        Some(barbara()),
        &[("if-match", "W/\"v1\"")],
    )
    .await;
    assert_eq!(stale.status, 412);
    // PUT replaces (and reactivates).
    let put = call(
        &server,
        Method::PUT,
        &format!("/Users/{id}"),
        &token,
        Some(barbara()),
        &[("if-match", &patched.header("etag"))],
    )
    .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!(put.body["active"], true);
    assert_eq!(put.body["name"]["givenName"], "Barbara");

    // Another account's token sees nothing of this one.
    let other = token_for(&server, org.b).await;
    let hidden = call(
        &server,
        Method::GET,
        &format!("/Users/{id}"),
        &other,
        None,
        &[],
    )
    .await;
    assert_eq!(hidden.status, 404);
    let listed = call(
        &server,
        Method::GET,
        "/Users?filter=userName%20eq%20%22barbara.jensen%40a.test%22",
        &other,
        None,
        &[],
    )
    .await;
    assert_eq!(listed.body["totalResults"], 0);
    let removed = call(
        &server,
        Method::DELETE,
        &format!("/Users/{id}"),
        &other,
        None,
        &[],
    )
    .await;
    assert_eq!(removed.status, 404);
    let before = server.fingerprint().await;
    let changed = call(
        &server,
        Method::PATCH,
        &format!("/Users/{id}"),
        &other,
        Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "active", "value": false}]}),
        ),
        &[],
    )
    .await;
    assert_eq!(changed.status, 404);
    let replaced = call(
        &server,
        Method::PUT,
        &format!("/Users/{id}"),
        &other,
        Some(barbara()),
        &[],
    )
    .await;
    assert_eq!(replaced.status, 404);
    assert_eq!(server.fingerprint().await, before, "nothing changed");

    let deleted = call(
        &server,
        Method::DELETE,
        &format!("/Users/{id}"),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(deleted.status, 204);
    let gone = call(
        &server,
        Method::GET,
        &format!("/Users/{id}"),
        &token,
        None,
        &[],
    )
    .await;
    assert_eq!(gone.status, 404);
});

both_engines!(
    the_providers_user_name_and_attributes_are_kept,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let token = token_for(&server, org.a).await;

        // A userName that is no address; the address comes from `emails`; every attribute
        // comes back as sent; Roster's fields are mapped (the national mobile number read in
        // the account's country, SE); the password is never kept.
        let made = call(
            &server,
            Method::POST,
            "/Users",
            &token,
            Some(bjensen()),
            &[],
        )
        .await;
        assert_eq!(made.status, 201, "{:?}", made.body);
        let id = made.body["id"].as_str().unwrap().to_string();
        let sent = bjensen();
        assert_eq!(made.body["userName"], "bjensen");
        for attr in ["emails", "phoneNumbers", "title", "addresses"] {
            assert_eq!(made.body[attr], sent[attr], "{attr}");
        }
        let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        assert_eq!(made.body[ext], sent[ext]);
        assert!(made.body.get("password").is_none());
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM users WHERE email = 'babs@a.test' AND phone = '+46701234567'")
                .await,
            1
        );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM scim_users WHERE document LIKE '%t1meMa%'")
                .await,
            0,
            "a password is never stored"
        );

        // userName is unique per account, without case, also against the addresses of users
        // no provider named; nothing is created.
        let mut twin = bjensen();
        twin["userName"] = json!("BJensen");
        twin["emails"] = json!([{"value": "twin@a.test"}]);
        let taken = call(&server, Method::POST, "/Users", &token, Some(twin), &[]).await;
        assert_eq!(taken.status, 409, "{:?}", taken.body);
        assert_eq!(taken.body["scimType"], "uniqueness");
        assert!(taken.body["detail"].as_str().unwrap().contains("userName"));
        let mut named = bjensen();
        named["userName"] = json!("Plain@A.test");
        named["emails"] = json!([{"value": "other@a.test"}]);
        let clash = call(&server, Method::POST, "/Users", &token, Some(named), &[]).await;
        assert_eq!(clash.status, 409, "{:?}", clash.body);
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM users WHERE email IN ('twin@a.test', 'other@a.test')")
                .await,
            0
        );
        // Without an address: 400 naming emails.
        let bare = call(
            &server,
            Method::POST,
            "/Users",
            &token,
            Some(json!({"userName": "noaddress"})),
            &[],
        )
        .await;
        assert_eq!(bare.status, 400);
        assert!(bare.body["detail"].as_str().unwrap().contains("emails"));
        // Too much provider data: 400 naming it, nothing created.
        let big = call(
            &server,
            Method::POST,
            "/Users",
            &token,
            Some(
                json!({"userName": "big", "emails": [{"value": "big@a.test"}],
                        "title": "x".repeat(40_000)}),
            ),
            &[],
        )
        .await;
        assert_eq!(big.status, 400, "{:?}", big.body);
        assert!(big.body["detail"].as_str().unwrap().contains("attributes"));
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM users WHERE email = 'big@a.test'")
                .await,
            0
        );

        // Lookups by userName (eq without case, sw) and by externalId.
        for (filter, n) in [
            ("userName%20eq%20%22BJENSEN%22", 1),
            ("userName%20sw%20%22bj%22", 1),
            ("userName%20sw%20%22plain%22", 1),
            (
                "userName%20sw%20%22bj%22%20and%20title%20eq%20%22Tour%20Guide%22",
                1,
            ),
            (
                "userName%20sw%20%22bj%22%20and%20title%20eq%20%22Chef%22",
                0,
            ),
            ("externalId%20eq%20%22okta-0001%22", 0),
        ] {
            let found = call(
                &server,
                Method::GET,
                &format!("/Users?filter={filter}"),
                &token,
                None,
                &[],
            )
            .await;
            assert_eq!(found.status, 200, "{filter}: {:?}", found.body);
            assert_eq!(found.body["totalResults"], n, "{filter}");
        }
        // A token of a unit sees no user outside its subtree, by any lookup.
        let unit_token = token_for(&server, org.u1).await;
        for filter in ["userName%20eq%20%22bjensen%22", "userName%20sw%20%22b%22"] {
            let hidden = call(
                &server,
                Method::GET,
                &format!("/Users?filter={filter}"),
                &unit_token,
                None,
                &[],
            )
            .await;
            assert_eq!(hidden.body["totalResults"], 0, "{filter}");
        }

        // An unusable mobile number stays the provider's; Roster's number goes.
        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "phoneNumbers",
                            "value": [{"value": "12345", "type": "mobile"}]}]});
        let patched = call(
            &server,
            Method::PATCH,
            &format!("/Users/{id}"),
            &token,
            Some(patch),
            &[],
        )
        .await;
        assert_eq!(patched.status, 200, "{:?}", patched.body);
        assert_eq!(
            patched.body["phoneNumbers"],
            json!([{"value": "12345", "type": "mobile"}])
        );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM users WHERE email = 'babs@a.test' AND (phone IS NULL OR phone = '')")
                .await,
            1
        );

        // A new address from the provider applies at once; the old one is told.
        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "emails[type eq \"work\"].value",
                            "value": "barbara@a.test"}]});
        let moved = call(
            &server,
            Method::PATCH,
            &format!("/Users/{id}"),
            &token,
            Some(patch),
            &[],
        )
        .await;
        assert_eq!(moved.status, 200, "{:?}", moved.body);
        assert_eq!(moved.body["emails"][0]["value"], "barbara@a.test");
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM users WHERE email = 'barbara@a.test'")
                .await,
            1
        );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM outbox WHERE kind = 'email-changed' AND recipient = 'babs@a.test'")
                .await,
            1
        );
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.email.set'")
                .await,
            1
        );
        // Another user's address: 409; not an address: 400 naming emails. Nothing changes,
        // not even the other attributes of the same request.
        for (address, status) in [("plain@a.test", 409), ("not-an-address", 400)] {
            let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "name.givenName", "value": "Mallory"},
                               {"op": "replace", "path": "emails",
                                "value": [{"value": address, "primary": true}]}]});
            let refused = call(
                &server,
                Method::PATCH,
                &format!("/Users/{id}"),
                &token,
                Some(patch),
                &[],
            )
            .await;
            assert_eq!(refused.status, status, "{:?}", refused.body);
            assert!(refused.body["detail"].as_str().unwrap().contains("emails"));
            assert_eq!(
                server
                    .count("SELECT COUNT(*) FROM users WHERE email = 'barbara@a.test' AND first_name <> 'Mallory'")
                    .await,
                1
            );
        }

        // POST /Users/.search and POST /.search (users and groups).
        let search = call(
            &server,
            Method::POST,
            "/Users/.search",
            &token,
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                        "filter": "userName eq \"bjensen\"", "attributes": ["userName"]}),
            ),
            &[],
        )
        .await;
        assert_eq!(search.status, 200, "{:?}", search.body);
        assert_eq!(search.body["totalResults"], 1);
        assert!(search.body["Resources"][0].get("emails").is_none());
        let everything = call(
            &server,
            Method::POST,
            "/.search",
            &token,
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                        "filter": "userName eq \"bjensen\" or displayName eq \"Sales\""}),
            ),
            &[],
        )
        .await;
        assert_eq!(everything.status, 200, "{:?}", everything.body);
        let kinds: Vec<&str> = everything.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["meta"]["resourceType"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["User", "Group"]);
        // Another account's token finds nothing of this one, by search either.
        let other = token_for(&server, org.b).await;
        let foreign = call(
            &server,
            Method::POST,
            "/.search",
            &other,
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                        "filter": "userName eq \"bjensen\" or displayName eq \"Sales\""}),
            ),
            &[],
        )
        .await;
        assert_eq!(foreign.status, 200);
        assert_eq!(foreign.body["totalResults"], 0);
    }
);

// scim2-tester (pinned by `scripts/test`) runs every check it has against the real server:
// discovery, create/read/replace/delete, attribute projection on GET, list and POST /.search,
// and PATCH add/replace/remove of every attribute the published schemas name, for users and
// groups. It must report no failure.
both_engines!(scim2_tester_reports_no_failure, |engine| async move {
    let python = std::env::var("ROSTER_TEST_PYTHON")
        .unwrap_or_else(|_| "/opt/roster-test-venv/bin/python".into());
    assert!(
        std::path::Path::new(&python).exists(),
        "{python} is missing: scripts/test installs scim2-tester"
    );
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let token = token_for(&server, org.a).await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/scim_check.py"
    );
    let out = tokio::process::Command::new(&python)
        .args([script, &format!("{}/scim/v2", server.url), &token])
        .current_dir(crate::support::database::temp_dir("roster-scim2-tester"))
        .output()
        .await
        .expect("run scim2-tester");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains(" checks, 0 failed"), "{report}");
    // It really ran: users and groups were created and checked.
    assert!(report.contains("User object_creation"), "{report}");
    assert!(report.contains("Group check_add_attribute"), "{report}");
});
