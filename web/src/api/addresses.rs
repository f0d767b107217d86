//! `/api/v1/users/{id}/aliases` and `/api/v1/users/{id}/numbers`: a user's "Email Alias" (an
//! alias counts once the link sent to it is confirmed) and "Add number".

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Json, Response};
use roster_core::domain::address::{self, Alias, NewNumber, Number};
use roster_core::model::UserId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{Caller, Writer};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::{ApiJson, ApiPath, ApiPathPair, created};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct AliasOut {
    pub id: Uuid,
    pub address: String,
    /// Whether the address confirmed the link sent to it (only then does it reach the user).
    pub confirmed: bool,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct AliasList {
    pub items: Vec<AliasOut>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasCreate {
    pub address: String,
}

#[derive(Serialize, ToSchema)]
pub struct NumberOut {
    pub id: Uuid,
    /// E.164.
    pub number: String,
    pub label: String,
    /// The services it receives for.
    pub services: Vec<String>,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct NumberList {
    pub items: Vec<NumberOut>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumberCreate {
    /// In E.164 (`+46701234567`), or national with `country`.
    pub number: String,
    /// ISO 3166 alpha-2 for a national number (default: the user's country).
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub services: Vec<String>,
}

fn alias_out(a: Alias) -> AliasOut {
    AliasOut {
        id: a.id,
        address: a.address,
        confirmed: a.confirmed,
        created_at: a.created_at.to_rfc3339(),
    }
}

fn number_out(n: Number) -> NumberOut {
    NumberOut {
        id: n.id,
        number: n.number,
        label: n.label,
        services: n.services,
        created_at: n.created_at.to_rfc3339(),
    }
}

#[utoipa::path(operation_id = "users_aliases", get, path = "/api/v1/users/{id}/aliases", tag = "users",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses((status = 200, body = AliasList), (status = 404, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn aliases(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath,
) -> ApiResult<Json<AliasList>> {
    let items = address::aliases(&state.ctx, &caller.actor, UserId(id))
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(Json(AliasList {
        items: items.into_iter().map(alias_out).collect(),
    }))
}

/// Adds an alias: a link goes to the address, and the alias counts once it is confirmed.
#[utoipa::path(operation_id = "users_add_alias", post, path = "/api/v1/users/{id}/aliases", tag = "users",
    params(("id" = Uuid, Path, description = "The user's id")), request_body = AliasCreate,
    responses((status = 201, body = AliasOut), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn add_alias(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    ApiJson(b): ApiJson<AliasCreate>,
) -> ApiResult<Response> {
    let lang = caller.lang;
    let err = |e| ApiError::from_core(e, lang);
    let new = address::add_alias(&state.ctx, &caller.actor, UserId(id), &b.address)
        .await
        .map_err(err)?;
    let found = address::aliases(&state.ctx, &caller.actor, UserId(id))
        .await
        .map_err(err)?
        .into_iter()
        .find(|a| a.id == new)
        .ok_or(ApiError::new(
            StatusCode::NOT_FOUND,
            "error-not-found",
            lang,
        ))?;
    Ok(created(
        format!("/api/v1/users/{id}/aliases/{new}"),
        alias_out(found),
    ))
}

#[utoipa::path(operation_id = "users_remove_alias", delete, path = "/api/v1/users/{id}/aliases/{alias}", tag = "users",
    params(("id" = Uuid, Path, description = "The user's id"), ("alias" = Uuid, Path, description = "The alias's id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn remove_alias(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPathPair(id, alias): ApiPathPair,
) -> ApiResult<StatusCode> {
    address::remove_alias(&state.ctx, &caller.actor, UserId(id), alias)
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(operation_id = "users_numbers", get, path = "/api/v1/users/{id}/numbers", tag = "users",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses((status = 200, body = NumberList), (status = 404, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn numbers(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath,
) -> ApiResult<Json<NumberList>> {
    let items = address::numbers(&state.ctx, &caller.actor, UserId(id))
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(Json(NumberList {
        items: items.into_iter().map(number_out).collect(),
    }))
}

#[utoipa::path(operation_id = "users_add_number", post, path = "/api/v1/users/{id}/numbers", tag = "users",
    params(("id" = Uuid, Path, description = "The user's id")), request_body = NumberCreate,
    responses((status = 201, body = NumberOut), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn add_number(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    ApiJson(b): ApiJson<NumberCreate>,
) -> ApiResult<Response> {
    let lang = caller.lang;
    let err = |e| ApiError::from_core(e, lang);
    let input = NewNumber {
        number: b.number,
        country: b.country,
        label: b.label,
        services: b.services,
    };
    let new = address::add_number(&state.ctx, &caller.actor, UserId(id), &input)
        .await
        .map_err(err)?;
    let found = address::numbers(&state.ctx, &caller.actor, UserId(id))
        .await
        .map_err(err)?
        .into_iter()
        .find(|n| n.id == new)
        .ok_or(ApiError::new(
            StatusCode::NOT_FOUND,
            "error-not-found",
            lang,
        ))?;
    Ok(created(
        format!("/api/v1/users/{id}/numbers/{new}"),
        number_out(found),
    ))
}

#[utoipa::path(operation_id = "users_remove_number", delete, path = "/api/v1/users/{id}/numbers/{number}", tag = "users",
    params(("id" = Uuid, Path, description = "The user's id"), ("number" = Uuid, Path, description = "The number's id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn remove_number(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPathPair(id, number): ApiPathPair,
) -> ApiResult<StatusCode> {
    address::remove_number(&state.ctx, &caller.actor, UserId(id), number)
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(StatusCode::NO_CONTENT)
}
