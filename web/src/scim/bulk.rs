//! `/Bulk` (RFC 7644 §3.7): the operations run in order, each through the same resource
//! operation as a single request (same provider, same rules); `bulkId:` references are replaced
//! by the ids the earlier operations created. A run of user creates goes in one transaction
//! when none of them fails; a run that would fail goes one operation at a time, so each failure
//! is told on its own operation.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use roster_core::domain::Actor;
use roster_core::domain::scim::{self, ScimUserInput};
use serde_json::{Value, json};
use uuid::Uuid;

use super::error::ScimError;
use super::extract::{Provider, json_body, parse_id, version_of};
use super::groups::Groups;
use super::resource::{self, Resource};
use super::users::Users;
use super::{Done, ScimResult, base, scim_response};
use crate::state::AppState;

const BULK_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// Operations in one request at most, and its size.
pub(super) const MAX_BULK_OPERATIONS: usize = 1000;
pub(super) const MAX_BULK_BYTES: usize = 1024 * 1024;

fn substitute(v: &mut Value, ids: &HashMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:").and_then(|k| ids.get(k)) {
                *s = id.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| substitute(i, ids)),
        Value::Object(map) => map.values_mut().for_each(|i| substitute(i, ids)),
        _ => {}
    }
}
fn creates_user(op: &Value) -> bool {
    op["method"]
        .as_str()
        .is_some_and(|m| m.eq_ignore_ascii_case("POST"))
        && op["path"].as_str() == Some("/Users")
        && op["data"].is_object()
}
fn mentions_bulk_id(v: &Value) -> bool {
    match v {
        Value::String(s) => s.starts_with("bulkId:"),
        Value::Array(items) => items.iter().any(mentions_bulk_id),
        Value::Object(map) => map.values().any(mentions_bulk_id),
        _ => false,
    }
}

/// A run of user creates at once, in one transaction: their results, or None when any of them
/// would fail (they then run one by one).
async fn create_run(
    state: &AppState,
    actor: &Actor,
    run: &[Value],
    ids: &HashMap<String, String>,
) -> Option<Vec<(Option<String>, Uuid)>> {
    let mut inputs = Vec::with_capacity(run.len());
    for op in run {
        let mut data = op["data"].clone();
        substitute(&mut data, ids);
        if mentions_bulk_id(&data) {
            return None;
        }
        inputs.push(ScimUserInput::from_json(&data).ok()?);
    }
    let created = scim::create_users(&state.ctx, actor, &inputs).await.ok()?;
    Some(
        run.iter()
            .zip(created)
            .map(|(op, id)| (op["bulkId"].as_str().map(str::to_string), id.0))
            .collect(),
    )
}

fn refused(status: StatusCode, scim_type: &'static str, detail: &str) -> ScimError {
    ScimError::new(status, Some(scim_type), detail.to_string())
}

/// One operation on a resource type: `/Users` or `/Groups` (create), or one of them by id.
async fn on<R: Resource>(
    state: &AppState,
    actor: &Actor,
    method: &str,
    id: Option<&str>,
    version: Option<i64>,
    data: &Value,
) -> Result<Done, ScimError> {
    let id = id.map(parse_id).transpose()?;
    match (method, id) {
        ("POST", None) => resource::create::<R>(state, actor, data).await,
        ("PUT", Some(id)) => resource::replace::<R>(state, actor, id, version, data).await,
        ("PATCH", Some(id)) => resource::patch::<R>(state, actor, id, version, data).await,
        ("DELETE", Some(id)) => resource::delete::<R>(state, actor, id).await,
        _ => Err(refused(
            StatusCode::BAD_REQUEST,
            "invalidSyntax",
            "method and path of an operation",
        )),
    }
}

/// One operation of the request, with `bulkId:` references replaced.
async fn run_operation(
    state: &AppState,
    actor: &Actor,
    op: &Value,
    ids: &HashMap<String, String>,
) -> Result<Done, ScimError> {
    let method = op["method"].as_str().unwrap_or("").to_ascii_uppercase();
    let mut path = op["path"].as_str().unwrap_or("").to_string();
    if let Some(rest) = path.split('/').find_map(|seg| seg.strip_prefix("bulkId:"))
        && let Some(id) = ids.get(rest)
    {
        path = path.replace(&format!("bulkId:{rest}"), id);
    }
    let mut data = op.get("data").cloned().unwrap_or(Value::Null);
    substitute(&mut data, ids);
    let version = match op["version"].as_str() {
        Some(v) => version_of(v)?,
        None => None,
    };
    // Writes only: a search inside a bulk request would multiply its cost by the operations.
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    match (parts.next(), parts.next()) {
        (Some("Users"), id) => on::<Users>(state, actor, &method, id, version, &data).await,
        (Some("Groups"), id) => on::<Groups>(state, actor, &method, id, version, &data).await,
        _ => Err(refused(
            StatusCode::BAD_REQUEST,
            "invalidSyntax",
            "method and path of an operation",
        )),
    }
}

pub(super) async fn bulk(
    State(state): State<AppState>,
    Provider(actor): Provider,
    body: Bytes,
) -> ScimResult {
    if body.len() > MAX_BULK_BYTES {
        return Err(refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "tooLarge",
            "Bulk payload too large",
        ));
    }
    let v = json_body(&body)?;
    let ok_schema = v["schemas"]
        .as_array()
        .is_some_and(|s| s.iter().any(|x| x == BULK_SCHEMA));
    let Some(ops) = v["Operations"].as_array().filter(|_| ok_schema) else {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            "invalidSyntax",
            "A BulkRequest with Operations is expected",
        ));
    };
    if ops.len() > MAX_BULK_OPERATIONS {
        return Err(refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "tooMany",
            "Too many operations",
        ));
    }
    let fail_on = v["failOnErrors"].as_u64().map(|n| n as usize);
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut results = vec![];
    let mut errors = 0;
    let base = base(&state);
    let mut one_by_one_until = 0;
    let mut i = 0;
    while i < ops.len() {
        if fail_on.is_some_and(|n| n > 0 && errors >= n) {
            break;
        }
        let run = ops[i..].iter().take_while(|op| creates_user(op)).count();
        if run >= 2 && i >= one_by_one_until {
            if let Some(created) = create_run(&state, &actor, &ops[i..i + run], &ids).await {
                for (bulk_id, id) in created {
                    let mut r = json!({"method": "POST", "status": "201",
                                       "location": format!("{base}/Users/{id}")});
                    if let Some(b) = bulk_id {
                        r["bulkId"] = json!(b);
                        ids.insert(b, id.to_string());
                    }
                    results.push(r);
                }
                i += run;
                continue;
            }
            one_by_one_until = i + run;
        }
        let op = &ops[i];
        let method = op["method"].as_str().unwrap_or("").to_ascii_uppercase();
        let mut r = json!({"method": method});
        if let Some(b) = op["bulkId"].as_str() {
            r["bulkId"] = json!(b);
        }
        match run_operation(&state, &actor, op, &ids).await {
            Ok(done) => {
                r["status"] = json!(done.status.as_u16().to_string());
                if let Some(location) = done.location() {
                    if let (Some(b), Some(id)) = (
                        op["bulkId"]
                            .as_str()
                            .filter(|_| done.status == StatusCode::CREATED),
                        location.rsplit('/').next(),
                    ) {
                        ids.insert(b.to_string(), id.to_string());
                    }
                    r["location"] = json!(location);
                }
            }
            Err(e) => {
                errors += 1;
                r["status"] = json!(e.status().as_u16().to_string());
                r["response"] = e.body();
            }
        }
        results.push(r);
        i += 1;
    }
    Ok(scim_response(
        StatusCode::OK,
        json!({"schemas": [BULK_RESPONSE], "Operations": results}),
    ))
}
