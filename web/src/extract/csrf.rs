//! CSRF protection for every state-changing request.
//!
//! Two checks: the browser's own word (`Sec-Fetch-Site`, `Origin`) must not say cross-site, and
//! the form must carry the token of the sign-in session (`csrf` field or `X-CSRF-Token` header
//! for htmx). Before sign-in there is no session: a random cookie and the same value in the form
//! (double submit), the cookie `SameSite=Strict` and, behind TLS, `__Host-` pinned.

use axum::extract::{FromRequest, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roster_core::domain::Actor;
use roster_core::model::log_safe;
use roster_core::secret;
use serde::de::DeserializeOwned;

use super::cookies;
use super::lang::page_lang;
use crate::extract::RequestId;
use crate::page::PageError;
use crate::state::AppState;

/// Largest form body accepted (pictures come through their own route).
const MAX_FORM_BYTES: usize = 256 * 1024;

/// A form posted by the signed-in actor, with the session's CSRF token checked.
pub struct CsrfForm<T>(pub Actor, pub T);

/// A form that may also come from a signed-out browser (sign-in, set-up, language).
pub struct AnonCsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let Some(actor) = parts.extensions.get::<Actor>().cloned() else {
            return Err(forbidden(&parts, state));
        };
        let form = checked_form(&parts, body, state, Some(&actor.csrf_token), None).await?;
        Ok(CsrfForm(actor, form))
    }
}

impl<T: DeserializeOwned> FromRequest<AppState> for AnonCsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let session_token = parts
            .extensions
            .get::<Actor>()
            .map(|a| a.csrf_token.clone());
        let cookie = cookies::get(&parts.headers, state.cookies.csrf);
        let form = checked_form(
            &parts,
            body,
            state,
            session_token.as_deref(),
            cookie.as_deref(),
        )
        .await?;
        Ok(AnonCsrfForm(form))
    }
}

/// The anonymous CSRF token of this browser, and the cookie to set when it had none.
pub fn anon_csrf_token(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    if let Some(existing) = cookies::get(headers, state.cookies.csrf).filter(|c| c.len() == 43) {
        return (existing, None);
    }
    let token = secret::new_token().unwrap_or_default();
    let cookie = cookies::set(
        state,
        state.cookies.csrf,
        &token,
        cookies::Life::Browser,
        true,
        "Strict",
    );
    (token, Some(cookie))
}

/// For forms read by hand (multipart): the browser's word and the session's token both agree.
pub fn csrf_matches(
    headers: &HeaderMap,
    state: &AppState,
    expected: &str,
    sent: Option<&str>,
) -> bool {
    same_origin(headers, state)
        && sent.is_some_and(|s| secret::constant_time_eq(expected.as_bytes(), s.as_bytes()))
}

async fn checked_form<T: DeserializeOwned>(
    parts: &Parts,
    body: axum::body::Body,
    state: &AppState,
    session_token: Option<&str>,
    anon_token: Option<&str>,
) -> Result<T, Response> {
    if !same_origin(&parts.headers, state) {
        tracing::warn!(path = %log_safe(parts.uri.path()), "cross-site form post refused");
        return Err(forbidden(parts, state));
    }
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response());
    }
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
        .map_err(|_| StatusCode::BAD_REQUEST.into_response())?;
    let header_token = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let field_tokens: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "csrf")
        .map(|(_, v)| v.clone())
        .collect();
    pairs.retain(|(k, _)| k != "csrf");
    let sent = match (field_tokens.as_slice(), header_token) {
        ([one], _) => Some(one.clone()),
        ([], Some(h)) => Some(h),
        _ => None,
    };
    let matches = |expected: Option<&str>| matches!((expected, sent.as_deref()), (Some(e), Some(s)) if secret::constant_time_eq(e.as_bytes(), s.as_bytes()));
    if !(matches(session_token) || matches(anon_token)) {
        tracing::warn!(
            path = %log_safe(parts.uri.path()),
            "form post without a valid CSRF token refused"
        );
        return Err(forbidden(parts, state));
    }
    // Unknown and repeated fields are refused by the form types (`deny_unknown_fields`).
    let rest =
        serde_urlencoded::to_string(&pairs).map_err(|_| StatusCode::BAD_REQUEST.into_response())?;
    serde_urlencoded::from_str(&rest).map_err(|e| {
        tracing::info!(path = %log_safe(parts.uri.path()), error = %log_safe(&e.to_string()), "form refused");
        StatusCode::BAD_REQUEST.into_response()
    })
}

/// False when the browser says the request comes from another site. `Sec-Fetch-Site` decides
/// when present; otherwise a real `Origin` must be ours. `Origin: null` proves nothing (browsers
/// send it for our own forms under `Referrer-Policy: no-referrer`): the token still decides.
fn same_origin(headers: &HeaderMap, state: &AppState) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return site == "same-origin" || site == "none";
    }
    match get("origin") {
        None | Some("null") => true,
        Some(origin) => {
            let host_origin = get("host").map(|h| {
                let scheme = if state.is_tls() { "https" } else { "http" };
                format!("{scheme}://{h}")
            });
            origin == state.public_origin || Some(origin.to_string()) == host_origin
        }
    }
}

fn forbidden(parts: &Parts, state: &AppState) -> Response {
    let lang = page_lang(parts, state);
    let id = parts.extensions.get::<RequestId>().cloned();
    PageError::new(StatusCode::FORBIDDEN, "error-csrf", lang, id).into_response()
}
