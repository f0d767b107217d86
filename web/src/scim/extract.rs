//! What a SCIM request carries: the provider's token, a resource id, a JSON body, `If-Match`.

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use roster_core::domain::Actor;
use roster_core::domain::scim;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::error::ScimError;
use crate::state::AppState;

/// The identity provider behind `Authorization: Bearer scim_…`.
pub struct Provider(pub Actor);

impl FromRequestParts<AppState> for Provider {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ScimError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("")
            .trim()
            .to_string();
        let ip = crate::extract::client_ip(parts, &state.trusted_proxies);
        scim::authenticate(&state.ctx, &token, &ip)
            .await
            .map(Provider)
            .map_err(|_| ScimError::new(StatusCode::UNAUTHORIZED, None, "Invalid credentials"))
    }
}

pub(super) fn parse_id(id: &str) -> Result<Uuid, ScimError> {
    Uuid::try_parse(id)
        .map_err(|_| ScimError::new(StatusCode::NOT_FOUND, None, "Resource not found"))
}

pub(super) fn json_body(bytes: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(bytes)
        .map_err(|_| ScimError::new(StatusCode::BAD_REQUEST, Some("invalidSyntax"), "Not JSON"))
}

/// The version `If-Match` names, if any (`W/"v3"` or `"v3"`).
pub(super) fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ScimError> {
    match headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) {
        Some(v) => version_of(v),
        None => Ok(None),
    }
}

/// The version an ETag names (`*`: any); one that names none has changed (412).
pub(super) fn version_of(tag: &str) -> Result<Option<i64>, ScimError> {
    if tag.trim() == "*" {
        return Ok(None);
    }
    tag.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .strip_prefix('v')
        .and_then(|n| n.parse().ok())
        .map(Some)
        .ok_or_else(|| {
            ScimError::new(
                StatusCode::PRECONDITION_FAILED,
                None,
                "The resource has changed",
            )
        })
}

/// A resource id in the path: one that is not an id names nothing (404).
pub struct ScimId(pub Uuid);

impl FromRequestParts<AppState> for ScimId {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ScimError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ScimError::new(StatusCode::NOT_FOUND, None, "Resource not found"))?;
        parse_id(&raw).map(ScimId)
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Projection {
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}
