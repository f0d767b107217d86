//! Who calls the API: `Authorization: Bearer <token>`, or HTTP Basic for system users. Cookies
//! are never looked at here (no CSRF surface); tokens in query strings are ignored.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use roster_core::domain::Actor;
use roster_core::domain::token::{self, ApiCaller};
use roster_core::model::Lang;

use super::error::ApiError;
use crate::state::AppState;

/// An authenticated caller: the actor, whether the credential may write, the answer's language.
pub struct Caller {
    pub actor: Actor,
    pub read_only: bool,
    pub lang: Lang,
}

/// A caller whose credential may write (a read-only token gets 403).
pub struct Writer(pub Caller);

/// The language of the answer: `Accept-Language` when sent, else the caller's own.
fn asked_lang(parts: &Parts) -> Option<Lang> {
    parts
        .headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .map(Lang::negotiate)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let asked = asked_lang(parts);
        let lang = asked.unwrap_or_default();
        let ip = crate::extract::client_ip(parts, &state.trusted_proxies);
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .trim();
        let result = if let Some(bearer) = value.strip_prefix("Bearer ") {
            token::authenticate_bearer(&state.ctx, bearer.trim(), &ip).await
        } else if let Some(basic) = value.strip_prefix("Basic ") {
            let decoded = STANDARD
                .decode(basic.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default();
            let (login, secret) = decoded.split_once(':').unwrap_or(("", ""));
            token::authenticate_basic(&state.ctx, login, secret, &ip).await
        } else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "api-auth-missing",
                lang,
            ));
        };
        match result {
            Ok(ApiCaller { actor, read_only }) => Ok(Caller {
                lang: asked.unwrap_or(actor.lang),
                actor,
                read_only,
            }),
            Err(e) => Err(ApiError::from_core(e, lang)),
        }
    }
}

impl FromRequestParts<AppState> for Writer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.read_only {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "api-read-only",
                caller.lang,
            ));
        }
        Ok(Writer(caller))
    }
}
