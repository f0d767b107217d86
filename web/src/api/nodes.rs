//! `/api/v1/nodes/{id}`: an account or unit the caller administers.

use axum::extract::State;
use axum::response::Json;
use roster_core::domain::node;
use roster_core::model::NodeId;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ApiPath;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, ErrorBody};
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
    responses((status = 200, body = NodeOut), (status = 404, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath,
) -> ApiResult<Json<NodeOut>> {
    let n = node::get_node(&state.ctx, &caller.actor, NodeId(id))
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(Json(NodeOut {
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
    }))
}
