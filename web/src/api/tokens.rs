//! `/api/v1/tokens`: API tokens of the caller, or of a system user the caller administers.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use roster_core::domain::api_token::{self, NewToken, TokenScope, TokenView};
use roster_core::model::{NodeId, TokenId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{Caller, Writer};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::{ApiJson, ApiPath};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct TokenOut {
    pub id: Uuid,
    pub name: String,
    pub user_id: Uuid,
    /// The subtree the token is limited to; null: whatever its user may reach.
    pub node_id: Option<Uuid>,
    pub read_only: bool,
    /// `admin` (what its user may, within its limits), `lookup` (only `GET /api/v1/lookup`) or
    /// `usage` (only `POST /api/v1/usage`).
    pub scope: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

fn out(t: TokenView) -> TokenOut {
    TokenOut {
        id: t.id.0,
        name: t.name,
        user_id: t.user_id.0,
        node_id: t.node_id.map(|n| n.0),
        read_only: t.read_only,
        scope: t.scope.as_str().into(),
        created_at: t.created_at.to_rfc3339(),
        expires_at: t.expires_at.map(|t| t.to_rfc3339()),
        last_used_at: t.last_used_at.map(|t| t.to_rfc3339()),
        revoked: t.revoked,
    }
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct TokenParams {
    /// Whose tokens (default: the caller's own).
    user: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenOut>,
}

#[utoipa::path(operation_id = "tokens_list", get, path = "/api/v1/tokens", tag = "tokens", params(TokenParams),
    responses((status = 200, body = TokenList), (status = 404, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<TokenParams>,
) -> ApiResult<Json<TokenList>> {
    let user = p.user.map(UserId).unwrap_or(caller.actor.user_id);
    let items = api_token::list_tokens(&state.ctx, &caller.actor, user)
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(Json(TokenList {
        items: items.into_iter().map(out).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    pub name: String,
    /// A system user the caller administers (default: the caller).
    #[serde(default)]
    pub user_id: Option<Uuid>,
    /// Limit the token to this subtree (one the caller administers).
    #[serde(default)]
    pub node_id: Option<Uuid>,
    #[serde(default)]
    pub read_only: bool,
    /// `admin` (the default), `lookup` (the services' lookup only) or `usage` (the services'
    /// usage reports only); `lookup` and `usage` are for system users.
    #[serde(default)]
    pub scope: Option<String>,
    /// Days until it stops working (1–3650); none: it lasts until revoked.
    #[serde(default, deserialize_with = "super::whole_number")]
    pub expires_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    #[serde(flatten)]
    pub token: TokenOut,
    /// The token itself: shown once, in this answer only.
    pub secret: String,
}

#[utoipa::path(operation_id = "tokens_create", post, path = "/api/v1/tokens", tag = "tokens", request_body = TokenCreate,
    responses((status = 201, body = TokenCreated), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiJson(b): ApiJson<TokenCreate>,
) -> ApiResult<Response> {
    let lang = caller.lang;
    let user = b.user_id.map(UserId).unwrap_or(caller.actor.user_id);
    let scope = match b.scope.as_deref().map(TokenScope::parse) {
        None => TokenScope::Admin,
        Some(Some(scope)) => scope,
        Some(None) => {
            return Err(ApiError::from_core(
                roster_core::Error::field("scope", "token-scope-invalid"),
                lang,
            ));
        }
    };
    let created = api_token::create_token(
        &state.ctx,
        &caller.actor,
        &NewToken {
            user,
            name: b.name,
            node: b.node_id.map(NodeId),
            read_only: b.read_only,
            scope,
            expires_days: b.expires_days,
        },
    )
    .await
    .map_err(|e| ApiError::from_core(e, lang))?;
    let view = api_token::list_tokens(&state.ctx, &caller.actor, user)
        .await
        .map_err(|e| ApiError::from_core(e, lang))?
        .into_iter()
        .find(|t| t.id == created.id)
        .ok_or(ApiError::new(
            StatusCode::NOT_FOUND,
            "error-not-found",
            lang,
        ))?;
    let mut res = (
        StatusCode::CREATED,
        Json(TokenCreated {
            token: out(view),
            secret: created.token,
        }),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/tokens/{}", created.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

#[utoipa::path(operation_id = "tokens_revoke", delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = Uuid, Path, description = "The token's id")),
    responses((status = 204), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
) -> ApiResult<StatusCode> {
    api_token::revoke_token(&state.ctx, &caller.actor, TokenId(id))
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(StatusCode::NO_CONTENT)
}
