//! `/api/v1/nodes/{id}`: an account or unit the caller administers.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use roster_core::domain::{node, user};
use roster_core::model::{NodeId, NodeKind, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{Caller, Writer};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::{ApiJson, ApiPath, ApiPathPair, etag, expected_version, if_match, stale_version};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct NodeOut {
    pub id: Uuid,
    /// `operator`, `account` or `unit`.
    pub kind: String,
    pub name: String,
    pub parent_id: Option<Uuid>,
    /// The customer account the node belongs to.
    pub account_id: Uuid,
    pub default_language: String,
    pub default_country: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    /// Users directly in this node.
    pub user_count: i64,
    pub version: i64,
    pub created_at: String,
}

#[utoipa::path(operation_id = "nodes_get", get, path = "/api/v1/nodes/{id}", tag = "nodes",
    params(("id" = Uuid, Path, description = "The account's or unit's id")),
    responses((status = 200, body = NodeOut, headers(("ETag" = String, description = "\"v<version>\""))),
              (status = 404, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath,
) -> ApiResult<Response> {
    answer(&state, &caller, NodeId(id), StatusCode::OK).await
}

fn node_out(n: node::NodeView) -> NodeOut {
    NodeOut {
        id: n.id.0,
        kind: n.kind.as_str().into(),
        name: n.name,
        parent_id: n.parent_id.map(|p| p.0),
        account_id: n.account_id.0,
        default_language: n.default_language,
        default_country: n.default_country,
        contact_name: n.contact_name,
        contact_email: n.contact_email,
        contact_phone: n.contact_phone,
        user_count: n.user_count,
        version: n.version,
        created_at: n.created_at.to_rfc3339(),
    }
}

async fn answer(
    state: &AppState,
    caller: &Caller,
    id: NodeId,
    status: StatusCode,
) -> ApiResult<Response> {
    let n = node::get_node(&state.ctx, &caller.actor, id)
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    let tag = etag(n.version);
    let mut res = (status, Json(node_out(n))).into_response();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED
        && let Ok(v) = HeaderValue::from_str(&format!("/api/v1/nodes/{}", id.0))
    {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// A new customer account (operators), or a unit under a node the caller administers.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeCreate {
    /// `account` or `unit`.
    pub kind: String,
    pub name: String,
    /// The node above a new unit.
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_email: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub default_language: Option<String>,
    #[serde(default)]
    pub default_country: String,
}

#[utoipa::path(operation_id = "nodes_create", post, path = "/api/v1/nodes", tag = "nodes", request_body = NodeCreate,
    responses((status = 201, body = NodeOut), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiJson(b): ApiJson<NodeCreate>,
) -> ApiResult<Response> {
    let lang = caller.lang;
    let core = |e| ApiError::from_core(e, lang);
    let id = match b.kind.as_str() {
        "account" => node::create_account(
            &state.ctx,
            &caller.actor,
            &node::AccountInput {
                name: b.name,
                contact_name: b.contact_name,
                contact_email: b.contact_email,
                contact_phone: b.contact_phone,
                default_language: b.default_language.unwrap_or_else(|| "en".into()),
                default_country: b.default_country,
            },
        )
        .await
        .map_err(core)?,
        "unit" => {
            let Some(parent) = b.parent_id else {
                return Err(core(roster_core::Error::field(
                    "parent_id",
                    "field-required",
                )));
            };
            node::create_unit(&state.ctx, &caller.actor, NodeId(parent), &b.name)
                .await
                .map_err(core)?
        }
        _ => return Err(core(roster_core::Error::field("kind", "error-invalid"))),
    };
    answer(&state, &caller, id, StatusCode::CREATED).await
}

/// The fields to change: an account's name, contact and defaults; a unit's name and parent.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields, default)]
pub struct NodePatch {
    pub name: Option<String>,
    /// Moves a unit under another node of the same account.
    pub parent_id: Option<Uuid>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub default_language: Option<String>,
    pub default_country: Option<String>,
}

#[utoipa::path(operation_id = "nodes_patch", patch, path = "/api/v1/nodes/{id}", tag = "nodes", request_body = NodePatch,
    params(("id" = Uuid, Path, description = "The account's or unit's id"),
           ("If-Match" = String, Header, description = "The ETag of the version being changed")),
    responses((status = 200, body = NodeOut), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 412, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 428, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn patch(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
    ApiJson(p): ApiJson<NodePatch>,
) -> ApiResult<Response> {
    let lang = caller.lang;
    let core = |e| ApiError::from_core(e, lang);
    let id = NodeId(id);
    let n = node::get_node(&state.ctx, &caller.actor, id)
        .await
        .map_err(core)?;
    let version = expected_version(&headers, n.version, lang)?;
    if n.kind == NodeKind::Unit {
        let account_only = [
            ("contact_name", p.contact_name.is_some()),
            ("contact_email", p.contact_email.is_some()),
            ("contact_phone", p.contact_phone.is_some()),
            ("default_language", p.default_language.is_some()),
            ("default_country", p.default_country.is_some()),
        ];
        let sent: Vec<roster_core::FieldError> = account_only
            .into_iter()
            .filter(|(_, given)| *given)
            .map(|(field, _)| roster_core::FieldError {
                field,
                code: "api-field-not-for-kind",
            })
            .collect();
        if !sent.is_empty() {
            return Err(core(roster_core::Error::Invalid(sent)));
        }
        // The name and the place change together, or neither does.
        node::update_unit(
            &state.ctx,
            &caller.actor,
            id,
            version,
            p.name.as_deref(),
            p.parent_id.map(NodeId),
        )
        .await
        .map_err(|e| stale_version(core(e)))?;
    } else {
        if p.parent_id.is_some() {
            return Err(core(roster_core::Error::field(
                "parent_id",
                "api-field-not-for-kind",
            )));
        }
        let input = node::AccountInput {
            name: p.name.unwrap_or(n.name),
            contact_name: p.contact_name.unwrap_or(n.contact_name),
            contact_email: p.contact_email.unwrap_or(n.contact_email),
            contact_phone: p.contact_phone.unwrap_or(n.contact_phone),
            default_language: p.default_language.unwrap_or(n.default_language),
            default_country: p.default_country.unwrap_or(n.default_country),
        };
        node::update_account(&state.ctx, &caller.actor, id, version, &input)
            .await
            .map_err(|e| stale_version(core(e)))?;
    }
    answer(&state, &caller, id, StatusCode::OK).await
}

#[utoipa::path(operation_id = "nodes_delete", delete, path = "/api/v1/nodes/{id}", tag = "nodes",
    params(("id" = Uuid, Path, description = "The unit's id"),
           ("If-Match" = String, Header, description = "The ETag of the version being deleted")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 412, body = ErrorBody), (status = 428, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let lang = caller.lang;
    let core = |e| ApiError::from_core(e, lang);
    let n = node::get_node(&state.ctx, &caller.actor, NodeId(id))
        .await
        .map_err(core)?;
    if_match(&headers, n.version, lang)?;
    node::delete_unit(&state.ctx, &caller.actor, NodeId(id))
        .await
        .map_err(core)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct AdministratorOut {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    pub active: bool,
}

#[derive(Serialize, ToSchema)]
pub struct AdministratorList {
    pub items: Vec<AdministratorOut>,
}

#[utoipa::path(operation_id = "nodes_administrators", get, path = "/api/v1/nodes/{id}/administrators", tag = "nodes",
    params(("id" = Uuid, Path, description = "The account's or unit's id")),
    responses((status = 200, body = AdministratorList), (status = 404, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn administrators(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath,
) -> ApiResult<Json<AdministratorList>> {
    let list = user::list_node_admins(&state.ctx, &caller.actor, NodeId(id))
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(Json(AdministratorList {
        items: list
            .into_iter()
            .map(|a| AdministratorOut {
                user_id: a.user_id.0,
                name: a.name,
                email: a.email,
                active: a.active,
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdministratorAdd {
    /// The email address of a user of the same account.
    pub email: String,
}

#[utoipa::path(operation_id = "nodes_add_administrator", post, path = "/api/v1/nodes/{id}/administrators", tag = "nodes",
    request_body = AdministratorAdd,
    params(("id" = Uuid, Path, description = "The account's or unit's id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn add_administrator(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    ApiJson(b): ApiJson<AdministratorAdd>,
) -> ApiResult<StatusCode> {
    user::add_node_admin(&state.ctx, &caller.actor, NodeId(id), &b.email)
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(operation_id = "nodes_remove_administrator", delete, path = "/api/v1/nodes/{id}/administrators/{user}", tag = "nodes",
    params(("id" = Uuid, Path, description = "The account's or unit's id"),
           ("user" = Uuid, Path, description = "The administrator's user id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn remove_administrator(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPathPair(id, user_id): ApiPathPair,
) -> ApiResult<StatusCode> {
    let lang = caller.lang;
    user::remove_node_admin(&state.ctx, &caller.actor, NodeId(id), UserId(user_id))
        .await
        .map_err(|e| ApiError::from_core(e, lang))?;
    Ok(StatusCode::NO_CONTENT)
}
