//! `Idempotency-Key` for the API's creates: the first answer for a key is kept, and a retry gets
//! it again without a second create.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use roster_core::domain::idempotency::{self, Begin};
use sha2::{Digest, Sha256};

use super::auth::Credentials;
use super::error::ApiError;
use super::{MAX_BODY, lang_of, set};
use crate::state::AppState;

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
