//! SCIM 2.0 provisioning through `/scim/v2`, on SQLite and PostgreSQL.

mod bulk;
mod groups;
mod users;

use reqwest::Method;
use roster_core::domain::scim;
use roster_core::model::NodeId;
use serde_json::{Value, json};

use crate::support::TestServer;
use crate::support::json::{Answer, send};
use crate::support::org::root_actor;

pub(super) async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Answer {
    let auth = if token.is_empty() {
        String::new()
    } else {
        format!("Bearer {token}")
    };
    let body = body.map(|b| (b, "application/scim+json"));
    send(
        server,
        method,
        &format!("/scim/v2{path}"),
        &auth,
        body,
        headers,
    )
    .await
}

pub(super) async fn token_for(server: &TestServer, node: NodeId) -> String {
    let t = scim::create_token(&server.ctx, &root_actor(server), node, "IdP")
        .await
        .expect("SCIM token");
    assert!(t.starts_with("scim_"));
    t
}

pub(super) fn barbara() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "Barbara.Jensen@A.test",
        "externalId": "okta-0001",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "phoneNumbers": [{"value": "+46701234567", "type": "mobile", "primary": true}],
        "preferredLanguage": "sv-SE",
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
            {"employeeNumber": "701984", "department": "Tour Operations"}
    })
}

pub(super) fn bjensen() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "bjensen",
        "password": "t1meMa$heen-never-kept",
        "emails": [{"value": "Babs@A.test", "type": "work", "primary": true},
                   {"value": "babs@home.test", "type": "home"}],
        "phoneNumbers": [{"value": "555-0100", "type": "work"},
                         {"value": "070-123 45 67", "type": "mobile"}],
        "title": "Tour Guide",
        "addresses": [{"locality": "Hollywood", "type": "work"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
            {"employeeNumber": "701984", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}
    })
}
