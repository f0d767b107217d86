//! `/api/v1/nodes/{id}/settings/{service}` and `/api/v1/users/{id}/settings/{service}`: a
//! service's settings as they apply at an account, a unit or for a user, each value with where
//! it comes from; a PATCH sets values (or, with `null`, takes them away: the inherited one
//! applies). The OpenAPI document lists one path per configured service, with its settings.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use roster_core::domain::service::{self, Level, Resolved, ServiceSettings, Source};
use roster_core::model::{NodeId, UserId};
use roster_core::services::Kind;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{Caller, Writer};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::{ApiJson, etag, expected_version, lang_of, stale_version};
use crate::state::AppState;

/// Where a value comes from.
#[derive(Serialize, ToSchema)]
pub struct SourceOut {
    /// `user`, `unit`, `account` or `default` (the service's).
    pub kind: String,
    /// The unit or account that sets it.
    pub node_id: Option<Uuid>,
    pub name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SettingOut {
    pub id: String,
    /// The setting's type: `text`, `integer`, `boolean`, `choice`, `phone`, `email`,
    /// `sender_id` or `country`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The value that applies.
    pub value: Value,
    pub source: SourceOut,
    /// What applies when this level sets nothing.
    pub inherited: Value,
    pub inherited_from: SourceOut,
}

#[derive(Serialize, ToSchema)]
pub struct SettingsOut {
    pub service: String,
    pub settings: Vec<SettingOut>,
}

/// Values to set; `null` takes a value away (the inherited one applies).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub settings: Map<String, Value>,
}

fn source_out(s: &Source) -> SourceOut {
    match s {
        Source::User => SourceOut {
            kind: "user".into(),
            node_id: None,
            name: None,
        },
        Source::Node { id, name, kind } => SourceOut {
            kind: kind.clone(),
            node_id: Some(id.0),
            name: Some(name.clone()),
        },
        Source::Default => SourceOut {
            kind: "default".into(),
            node_id: None,
            name: None,
        },
    }
}

pub(super) fn out(state: &AppState, s: ServiceSettings) -> SettingsOut {
    let service = state.ctx.settings.catalog.service(s.service);
    let kind_of = |id: &str| {
        service
            .and_then(|v| v.setting(id))
            .map(|d| d.kind.name())
            .unwrap_or("text")
            .to_string()
    };
    SettingsOut {
        service: s.service.into(),
        settings: s
            .values
            .into_iter()
            .map(|r: Resolved| SettingOut {
                id: r.id.into(),
                kind: kind_of(r.id),
                value: r.value,
                source: source_out(&r.source),
                inherited: r.inherited,
                inherited_from: source_out(&r.inherited_from),
            })
            .collect(),
    }
}

/// A level's settings of one service, with the level's ETag.
async fn read(
    state: &AppState,
    caller: &Caller,
    level: Level,
    service: &str,
) -> ApiResult<Response> {
    let s = service::service_settings_at(&state.ctx, &caller.actor, level, service)
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    let tag = etag(s.version);
    let mut res = (StatusCode::OK, Json(out(state, s))).into_response();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    Ok(res)
}

/// An id and a configured service in the path, else 404.
pub struct SettingsPath(pub Uuid, pub String);

impl axum::extract::FromRequestParts<AppState> for SettingsPath {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let lang = lang_of(&parts.headers);
        let not_found = || ApiError::new(StatusCode::NOT_FOUND, "error-not-found", lang);
        let axum::extract::Path((id, service)) =
            axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
                .await
                .map_err(|_| not_found())?;
        match (
            Uuid::try_parse(&id),
            state.ctx.settings.catalog.service(&service),
        ) {
            (Ok(id), Some(_)) => Ok(SettingsPath(id, service)),
            _ => Err(not_found()),
        }
    }
}

/// The API takes each value as its JSON type (a number for an integer, true or false for a
/// boolean, a string otherwise), the forms' text aside.
fn typed(state: &AppState, service: &str, p: &Map<String, Value>) -> roster_core::Result<()> {
    let Some(service) = state.ctx.settings.catalog.service(service) else {
        return Ok(());
    };
    let wrong: Vec<roster_core::FieldError> = p
        .iter()
        .filter_map(|(name, v)| {
            let d = service.setting(name)?;
            let (ok, code) = match d.kind {
                Kind::Integer { .. } => (v.is_number(), "setting-integer"),
                Kind::Boolean => (v.is_boolean(), "setting-boolean"),
                Kind::Text { .. } => (v.is_string(), "setting-text"),
                Kind::Choice(_) => (v.is_string(), "setting-choice"),
                Kind::Phone => (v.is_string(), "setting-phone"),
                Kind::Email => (v.is_string(), "setting-email"),
                Kind::SenderId => (v.is_string(), "setting-sender-id"),
                Kind::Country => (v.is_string(), "setting-country"),
            };
            (!ok && !v.is_null()).then_some(roster_core::FieldError { field: d.id, code })
        })
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(roster_core::Error::Invalid(wrong))
    }
}

/// The half the two PATCHes share: the version `If-Match` names, the values' JSON types, the
/// change (a stale version is a 412).
async fn change(
    state: &AppState,
    caller: &Caller,
    level: Level,
    service: &str,
    headers: &HeaderMap,
    p: &SettingsPatch,
) -> ApiResult<()> {
    let lang = caller.lang;
    let core = |e| ApiError::from_core(e, lang);
    let current = service::version_at(&state.ctx, &caller.actor, level)
        .await
        .map_err(core)?;
    let version = expected_version(headers, current, lang)?;
    typed(state, service, &p.settings).map_err(core)?;
    service::set_settings_at(
        &state.ctx,
        &caller.actor,
        level,
        service,
        Some(version),
        &p.settings,
    )
    .await
    .map_err(|e| stale_version(core(e)))
}

#[utoipa::path(operation_id = "node_settings_get", get, path = "/api/v1/nodes/{id}/settings/{service}", tag = "settings",
    params(("id" = Uuid, Path, description = "The account's or unit's id"),
           ("service" = String, Path, description = "The service's id")),
    responses((status = 200, body = SettingsOut, headers(("ETag" = String, description = "\"v<version>\" of the node"))),
              (status = 404, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn node_get(
    State(state): State<AppState>,
    caller: Caller,
    SettingsPath(id, service): SettingsPath,
) -> ApiResult<Response> {
    read(&state, &caller, Level::Node(NodeId(id)), &service).await
}

#[utoipa::path(operation_id = "node_settings_patch", patch, path = "/api/v1/nodes/{id}/settings/{service}", tag = "settings",
    request_body = SettingsPatch,
    params(("id" = Uuid, Path, description = "The account's or unit's id"),
           ("service" = String, Path, description = "The service's id"),
           ("If-Match" = String, Header, description = "The ETag of the node's version being changed")),
    responses((status = 200, body = SettingsOut), (status = 404, body = ErrorBody),
              (status = 412, body = ErrorBody), (status = 422, body = ErrorBody), (status = 428, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn node_patch(
    State(state): State<AppState>,
    Writer(caller): Writer,
    SettingsPath(id, service): SettingsPath,
    headers: HeaderMap,
    ApiJson(p): ApiJson<SettingsPatch>,
) -> ApiResult<Response> {
    let level = Level::Node(NodeId(id));
    change(&state, &caller, level, &service, &headers, &p).await?;
    read(&state, &caller, level, &service).await
}

#[utoipa::path(operation_id = "user_settings_get", get, path = "/api/v1/users/{id}/settings/{service}", tag = "settings",
    params(("id" = Uuid, Path, description = "The user's id"),
           ("service" = String, Path, description = "The service's id")),
    responses((status = 200, body = SettingsOut, headers(("ETag" = String, description = "\"v<version>\" of the user"))),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn user_get(
    State(state): State<AppState>,
    caller: Caller,
    SettingsPath(id, service): SettingsPath,
) -> ApiResult<Response> {
    read(&state, &caller, Level::User(UserId(id)), &service).await
}

#[utoipa::path(operation_id = "user_settings_patch", patch, path = "/api/v1/users/{id}/settings/{service}", tag = "settings",
    request_body = SettingsPatch,
    params(("id" = Uuid, Path, description = "The user's id"),
           ("service" = String, Path, description = "The service's id"),
           ("If-Match" = String, Header, description = "The ETag of the user's version being changed")),
    responses((status = 200, body = SettingsOut), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 428, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn user_patch(
    State(state): State<AppState>,
    Writer(caller): Writer,
    SettingsPath(id, service): SettingsPath,
    headers: HeaderMap,
    ApiJson(p): ApiJson<SettingsPatch>,
) -> ApiResult<Response> {
    let level = Level::User(UserId(id));
    change(&state, &caller, level, &service, &headers, &p).await?;
    read(&state, &caller, level, &service).await
}
