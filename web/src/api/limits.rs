//! Two layers of the API: rate-limit headers (a fixed one-minute window per credential, or per
//! address without one, kept in this node's memory) and idempotency keys for creates.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use roster_core::domain::idempotency::{self, Begin};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::{MAX_BODY, lang_of};
use crate::state::AppState;

/// Requests per window, per key.
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<[u8; 32], (i64, u32)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute: per_minute.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request; returns (remaining, seconds to the window's end), or None when over.
    fn take(&self, key: [u8; 32], now_secs: i64) -> (Option<u32>, i64) {
        let window = now_secs - now_secs.rem_euclid(60);
        let reset = window + 60 - now_secs;
        let Ok(mut map) = self.windows.lock() else {
            return (Some(self.per_minute), reset);
        };
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| *start == window);
        }
        let entry = map.entry(key).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1 >= self.per_minute {
            return (None, reset);
        }
        entry.1 += 1;
        (Some(self.per_minute - entry.1), reset)
    }
}

fn credential_key(req: Request, state: &AppState) -> ([u8; 32], Request) {
    let mut h = Sha256::new();
    match req.headers().get(header::AUTHORIZATION) {
        Some(v) => h.update(v.as_bytes()),
        None => {
            let (parts, body) = req.into_parts();
            h.update(b"ip:");
            h.update(crate::extract::client_ip(&parts, &state.trusted_proxies).as_bytes());
            return (h.finalize().into(), Request::from_parts(parts, body));
        }
    }
    (h.finalize().into(), req)
}

fn set(h: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        h.insert(HeaderName::from_static(name), v);
    }
}

pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let lang = lang_of(req.headers());
    let (key, req) = credential_key(req, &state);
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

/// `Idempotency-Key` on a POST: the first answer is kept and sent again for a retry.
pub async fn idempotent(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let lang = lang_of(req.headers());
    let key = match req.headers().get("idempotency-key") {
        Some(v) if req.method() == Method::POST => v.to_str().unwrap_or("").to_string(),
        _ => return next.run(req).await,
    };
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
