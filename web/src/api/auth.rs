//! Who calls the API: `Authorization: Bearer <token>`, or HTTP Basic for system users. Cookies
//! are never looked at here (no CSRF surface); tokens in query strings are ignored.

use axum::extract::FromRequestParts;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use roster_core::domain::Actor;
use roster_core::domain::api_token::{self, ApiCaller};
use roster_core::model::Lang;

use super::error::ApiError;
use super::set;
use crate::state::AppState;

/// An authenticated caller: the actor, whether the credential may write, the answer's language.
#[derive(Clone)]
pub struct Caller {
    pub actor: Actor,
    pub read_only: bool,
    /// A lookup token: only `GET /api/v1/lookup` answers it.
    pub lookup: bool,
    /// A usage token: only `POST /api/v1/usage` answers it.
    pub usage: bool,
    pub lang: Lang,
}

/// A caller with a lookup token (any other credential gets 403 here).
pub struct LookupCaller(pub Caller);

/// A caller with a usage token (any other credential gets 403 here).
pub struct UsageCaller(pub Caller);

/// A caller whose credential may write (a read-only token gets 403).
pub struct Writer(pub Caller);

/// What a request's `Authorization` came to, resolved once per request by [`authenticate`].
#[derive(Clone)]
pub(crate) enum Credentials {
    /// None was sent (or not one the API speaks).
    Missing,
    Valid(Box<Caller>),
    Refused(ApiError),
}

impl Credentials {
    /// The key the request counts against in the rate limiter: the credential when it is valid
    /// (its token, or its system user), else the client's address (an IPv6 /64).
    fn limit_key(&self, ip: &str) -> String {
        match self {
            Credentials::Valid(c) => match c.actor.credential.token_id() {
                Some(id) => format!("token:{id}"),
                None => format!("user:{}", c.actor.user_id),
            },
            _ => format!("ip:{}", roster_core::model::address_bucket(ip)),
        }
    }
}

/// The language of the answer: `Accept-Language` when sent, else the caller's own.
fn asked_lang(parts: &Parts) -> Option<Lang> {
    parts
        .headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .map(Lang::negotiate)
}

async fn resolve(parts: &Parts, state: &AppState, ip: &str) -> Credentials {
    let asked = asked_lang(parts);
    let lang = asked.unwrap_or_default();
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    let result = if let Some(bearer) = value.strip_prefix("Bearer ") {
        api_token::authenticate_bearer(&state.ctx, bearer.trim(), ip).await
    } else if let Some(basic) = value.strip_prefix("Basic ") {
        let decoded = STANDARD
            .decode(basic.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let (login, secret) = decoded.split_once(':').unwrap_or(("", ""));
        api_token::authenticate_basic(&state.ctx, login, secret, ip).await
    } else {
        return Credentials::Missing;
    };
    match result {
        Ok(ApiCaller {
            actor,
            read_only,
            lookup,
            usage,
        }) => Credentials::Valid(Box::new(Caller {
            lang: asked.unwrap_or(actor.lang),
            actor,
            read_only,
            lookup,
            usage,
        })),
        Err(e) => Credentials::Refused(ApiError::from_core(e, lang)),
    }
}

/// The API's first layer: authenticates the request's credential once, counts the request
/// against its credential's window (an unknown or wrong credential against its address), and
/// hands the outcome to the extractors. The rate-limit headers go on every answer.
pub async fn authenticate(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (mut parts, body) = req.into_parts();
    let ip = crate::extract::client_ip(&parts, &state.trusted_proxies);
    let credentials = resolve(&parts, &state, &ip).await;
    let lang = asked_lang(&parts).unwrap_or_default();
    let key = credentials.limit_key(&ip);
    let limits = match &credentials {
        Credentials::Valid(c) if c.lookup || c.usage => state.lookup_limits.clone(),
        _ => state.api_limits.clone(),
    };
    parts.extensions.insert(credentials);
    limited(
        &state,
        &limits,
        &key,
        lang,
        axum::extract::Request::from_parts(parts, body),
        next,
    )
    .await
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        let lang = asked_lang(parts).unwrap_or_default();
        match parts.extensions.get::<Credentials>() {
            // A lookup token is for the services' lookup and nothing else.
            Some(Credentials::Valid(c)) if c.lookup => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "api-lookup-only",
                c.lang,
            )),
            Some(Credentials::Valid(c)) if c.usage => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "api-usage-only",
                c.lang,
            )),
            Some(Credentials::Valid(c)) => Ok(c.as_ref().clone()),
            Some(Credentials::Refused(e)) => Err(e.clone()),
            _ => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "api-auth-missing",
                lang,
            )),
        }
    }
}

/// The caller when its credential is a service's token of one scope (`wanted`); any other
/// credential gets 403 with `refused`.
fn service_caller(
    parts: &Parts,
    wanted: fn(&Caller) -> bool,
    refused: &'static str,
) -> Result<Caller, ApiError> {
    let lang = asked_lang(parts).unwrap_or_default();
    match parts.extensions.get::<Credentials>() {
        Some(Credentials::Valid(c)) if wanted(c) => Ok(c.as_ref().clone()),
        Some(Credentials::Valid(c)) => Err(ApiError::new(StatusCode::FORBIDDEN, refused, c.lang)),
        Some(Credentials::Refused(e)) => Err(e.clone()),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "api-auth-missing",
            lang,
        )),
    }
}

impl FromRequestParts<AppState> for LookupCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        service_caller(parts, |c| c.lookup, "api-lookup-scope").map(LookupCaller)
    }
}

impl FromRequestParts<AppState> for UsageCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        service_caller(parts, |c| c.usage, "api-usage-scope").map(UsageCaller)
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

/// Runs the request when `key`'s window has room (else 429), with the rate-limit headers.
async fn limited(
    state: &AppState,
    limits: &crate::rate_limit::RateLimiter,
    key: &str,
    lang: Lang,
    req: Request,
    next: Next,
) -> Response {
    let now = state.ctx.clock.now().millis().div_euclid(1000);
    let (remaining, reset) = limits.take(key, now);
    let limit = limits.per_minute;
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
