//! The API's request windows and idempotency keys. The window is one minute per credential
//! (an unknown or wrong credential counts against its client address), kept in this node's
//! memory. Valid credentials each have their own window; addresses (requests without a valid
//! credential) are told apart up to `CAPACITY`, and addresses past it share one window, so a
//! flood of distinct header values cannot grow the map.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use roster_core::domain::idempotency::{self, Begin};
use roster_core::model::Lang;
use sha2::{Digest, Sha256};

use super::auth::Credentials;
use super::error::ApiError;
use super::{MAX_BODY, lang_of};
use crate::state::AppState;

/// Keys told apart in one window.
pub const CAPACITY: usize = 10_000;
/// Where keys past the capacity count.
const OVERFLOW: &str = "overflow";

/// Requests per window, per key.
pub struct RateLimiter {
    pub(crate) per_minute: u32,
    window: Mutex<(i64, HashMap<String, u32>)>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute: per_minute.max(1),
            window: Mutex::new((0, HashMap::new())),
        }
    }

    /// Counts one request; returns (remaining, seconds to the window's end), or None when over.
    fn take(&self, key: &str, now_secs: i64) -> (Option<u32>, i64) {
        let start = now_secs - now_secs.rem_euclid(60);
        let reset = start + 60 - now_secs;
        let mut guard = match self.window.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (window, counts) = &mut *guard;
        if *window != start {
            *window = start;
            counts.clear();
        }
        // A valid credential always has its own window (there are only so many live ones);
        // addresses past the capacity share one.
        let credential = !key.starts_with("ip:");
        let key = if credential || counts.contains_key(key) || counts.len() < CAPACITY - 1 {
            key
        } else {
            OVERFLOW
        };
        let n = counts.entry(key.to_string()).or_insert(0);
        if *n >= self.per_minute {
            return (None, reset);
        }
        *n += 1;
        (Some(self.per_minute - *n), reset)
    }

    /// Keys counted in the current window (for tests of the bound).
    pub fn keys(&self) -> usize {
        self.window.lock().map(|g| g.1.len()).unwrap_or(0)
    }
}

fn set(h: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        h.insert(HeaderName::from_static(name), v);
    }
}

/// Runs the request when `key`'s window has room (else 429), with the rate-limit headers.
pub(crate) async fn limited(
    state: &AppState,
    key: &str,
    lang: Lang,
    req: Request,
    next: Next,
) -> Response {
    let now = state.ctx.clock.now().millis().div_euclid(1000);
    let (remaining, reset) = state.api_limits.take(key, now);
    let limit = state.api_limits.per_minute;
    let mut res = match remaining {
        Some(_) => next.run(req).await,
        None => ApiError {
            retry_after: Some(reset),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "error-rate-limited", lang)
        }
        .into_response(),
    };
    let h = res.headers_mut();
    set(h, "ratelimit-limit", limit.to_string());
    set(h, "ratelimit-remaining", remaining.unwrap_or(0).to_string());
    set(h, "ratelimit-reset", reset.to_string());
    res
}

/// `Idempotency-Key` on a POST: the first answer is kept and sent again for a retry — only to
/// a credential that is valid now (a revoked token gets 401, never its stored answer).
pub async fn idempotent(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let lang = lang_of(req.headers());
    let key = match req.headers().get("idempotency-key") {
        Some(v) if req.method() == Method::POST => v.to_str().unwrap_or("").to_string(),
        _ => return next.run(req).await,
    };
    if !matches!(
        req.extensions().get::<Credentials>(),
        Some(Credentials::Valid(_))
    ) {
        return next.run(req).await;
    }
    if key.is_empty() || key.len() > 64 || !key.chars().all(|c| c.is_ascii_graphic()) {
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, "api-request-invalid", lang);
        e.fields = vec![roster_core::FieldError {
            field: "Idempotency-Key",
            code: "api-idempotency-key-invalid",
        }];
        return e.into_response();
    }
    let scope: [u8; 32] = Sha256::digest(
        req.headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes())
            .unwrap_or_default(),
    )
    .into();
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "api-body-too-large", lang)
            .into_response();
    };
    let mut h = Sha256::new();
    h.update(parts.method.as_str().as_bytes());
    h.update(b" ");
    h.update(parts.uri.path().as_bytes());
    h.update(b"\n");
    h.update(&bytes);
    let request_hash: [u8; 32] = h.finalize().into();
    let ctx = state.ctx.clone();
    match idempotency::begin(&ctx, &scope, &key, &request_hash).await {
        Err(e) => ApiError::from_core(e, lang).into_response(),
        Ok(Begin::Mismatch) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            lang,
        )
        .into_response(),
        Ok(Begin::InProgress) => {
            ApiError::new(StatusCode::CONFLICT, "api-idempotency-in-progress", lang).into_response()
        }
        Ok(Begin::Replay {
            status,
            location,
            body,
        }) => {
            let mut res = (
                StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response();
            if !location.is_empty()
                && let Ok(v) = HeaderValue::from_str(&location)
            {
                res.headers_mut().insert(header::LOCATION, v);
            }
            set(res.headers_mut(), "idempotent-replayed", "true".into());
            res
        }
        Ok(Begin::Fresh) => {
            let res = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            let status = res.status();
            let keep = !(status.is_server_error()
                || status == StatusCode::UNAUTHORIZED
                || status == StatusCode::TOO_MANY_REQUESTS);
            let (res_parts, res_body) = res.into_parts();
            let Ok(out) = to_bytes(res_body, usize::MAX).await else {
                let _ = idempotency::forget(&ctx, &scope, &key).await;
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            let stored = if keep {
                let location = res_parts
                    .headers
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                idempotency::finish(
                    &ctx,
                    &scope,
                    &key,
                    status.as_u16(),
                    location,
                    &String::from_utf8_lossy(&out),
                )
                .await
            } else {
                idempotency::forget(&ctx, &scope, &key).await
            };
            if let Err(e) = stored {
                tracing::warn!(error = %e, "idempotency key not recorded");
            }
            Response::from_parts(res_parts, Body::from(out))
        }
    }
}
