//! Layers every response passes through: request id and log line, security headers, and the
//! session behind the request's cookie.

use roster_core::model::log_safe;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use roster_core::domain::Stage;

use crate::extract::{RequestId, cookies};
use crate::page::PageError;
use crate::state::AppState;

pub async fn trace_request(mut req: Request, next: Next) -> Response {
    let id = format!("{:016x}", rand_u64());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    // The path only: queries may carry link tokens, which never reach the logs.
    let path = log_safe(req.uri().path()).into_owned();
    let started = Instant::now();
    let mut res = next.run(req).await;
    let status = res.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(request_id = %id, %method, %path, status, ms, "request");
    } else {
        tracing::info!(request_id = %id, %method, %path, status, ms, "request");
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), v);
    }
    res
}

/// A request (its body included) that takes longer than the server's request timeout is cut
/// off with 408; whatever it had begun is rolled back with its transaction.
pub async fn request_timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.timeouts.request, next.run(req)).await {
        Ok(res) => res,
        Err(_) => (
            axum::http::StatusCode::REQUEST_TIMEOUT,
            [(header::CONNECTION, "close")],
        )
            .into_response(),
    }
}

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    // A request id is no secret: a failure of the random source only makes it zero.
    let _ = roster_core::secret::fill_random(&mut b);
    u64::from_le_bytes(b)
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        h.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    };
    if !h.contains_key("content-security-policy") {
        set(h, "content-security-policy", CSP);
    }
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "cross-origin-resource-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    if state.is_tls() {
        set(
            h,
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    res
}

/// Resolves the session cookie once per request; the actor goes into the request's extensions.
/// An unknown, expired or forged cookie is cleared and the request goes on signed out.
pub async fn resolve_session(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(token) = cookies::get(req.headers(), state.cookies.session) else {
        return next.run(req).await;
    };
    match roster_core::domain::auth::authenticate(&state.ctx, &token).await {
        Ok(Some(mut actor)) => {
            let (parts, body) = req.into_parts();
            actor.ip = crate::extract::client_ip(&parts, &state.trusted_proxies);
            req = Request::from_parts(parts, body);
            let path = req.uri().path();
            let hx = req.headers().contains_key("hx-request");
            // A half-finished sign-in opens nothing but its own next step.
            match actor.stage {
                Stage::Mfa if !MFA_OPEN.contains(&path) => {
                    return send_to("/signin/verify", hx);
                }
                Stage::Enrol if !enrol_open(path) => {
                    return send_to("/mfa/enrol", hx);
                }
                _ => {}
            }
            // A password someone else set must be replaced before anything else.
            if actor.stage == Stage::Full
                && actor.must_change_password
                && !["/password", "/signout", "/language"].contains(&path)
            {
                return send_to("/password", hx);
            }
            req.extensions_mut().insert(actor);
            next.run(req).await
        }
        Ok(None) => {
            let mut res = next.run(req).await;
            res.headers_mut().append(
                header::SET_COOKIE,
                cookies::expire(&state, state.cookies.session),
            );
            res
        }
        Err(e) => {
            let id = req.extensions().get::<RequestId>().cloned();
            PageError::from_core(e, Default::default(), id).into_response()
        }
    }
}

/// Paths a session waiting for its second factor may use.
const MFA_OPEN: [&str; 6] = [
    "/signin/verify",
    "/signin/verify/sms",
    "/signin/passkey/options",
    "/signin",
    "/signout",
    "/language",
];

/// Paths a session that must first set up a factor may use, besides `/mfa/enrol…` and
/// `/toolbox/factors/…`.
const ENROL_OPEN: [&str; 3] = ["/signin", "/signout", "/language"];

fn enrol_open(path: &str) -> bool {
    ENROL_OPEN.contains(&path)
        || path.starts_with("/mfa/enrol")
        || path.starts_with("/toolbox/factors/")
}

fn send_to(path: &'static str, htmx: bool) -> Response {
    let mut res = axum::http::StatusCode::SEE_OTHER.into_response();
    let h = res.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_static(path));
    if htmx {
        h.insert(
            HeaderName::from_static("hx-redirect"),
            HeaderValue::from_static(path),
        );
    }
    res
}
