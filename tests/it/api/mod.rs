//! The REST API, on SQLite and PostgreSQL: users and units, tokens and HTTP Basic, the error
//! body, ETag/If-Match, and the OpenAPI contract.

mod addresses;
mod contract;
mod lookup;
mod resources;
mod settings;
mod tokens;
mod usage;
mod users;

use reqwest::Method;
use roster_core::domain::api_token::{self, NewToken};
use roster_core::model::{NodeId, UserId};
use serde_json::Value;

use crate::support::TestServer;
use crate::support::json::{Answer, send};
use crate::support::org::root_actor;

/// One API call; `auth` is the whole `Authorization` value ("" sends none).
pub(super) async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    auth: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Answer {
    send(
        server,
        method,
        path,
        auth,
        body.map(|b| (b, "application/json")),
        headers,
    )
    .await
}

pub(super) async fn get(server: &TestServer, path: &str, auth: &str) -> Answer {
    call(server, Method::GET, path, auth, None, &[]).await
}

/// A bearer token for `user`, made as `roster token create` does.
pub(super) async fn bearer(
    server: &TestServer,
    user: UserId,
    node: Option<NodeId>,
    read_only: bool,
    expires_days: Option<i64>,
) -> String {
    let created = api_token::create_token(
        &server.ctx,
        &root_actor(server),
        &NewToken {
            user,
            name: "test".into(),
            node,
            read_only,
            scope: api_token::TokenScope::Admin,
            expires_days,
        },
    )
    .await
    .expect("token");
    assert!(created.token.starts_with("rst_"));
    format!("Bearer {}", created.token)
}

/// A system user of `node` with a lookup token, as the services connect.
pub(super) async fn lookup_bearer(server: &TestServer, node: NodeId, login: &str) -> String {
    crate::support::org::lookup_token(server, node, login).await
}
