//! The REST API at `/api/v1` (docs/API.md): JSON over the same domain functions as the
//! portal, authenticated by API tokens or HTTP Basic (system users), never by cookies. The
//! OpenAPI 3.1 document is generated from these handlers (utoipa) at `/api/v1/openapi.json`;
//! `/api/v1/docs` is a reference page built from it, with nothing fetched from elsewhere.

mod addresses;
pub mod auth;
pub mod error;
mod idempotency;
mod lookup;
mod nodes;
mod reference;
mod resources;
mod settings;
mod shape;
mod tokens;
mod usage;
mod users;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use roster_core::model::Lang;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use self::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Largest JSON body accepted.
pub(crate) const MAX_BODY: usize = 2 * 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roster API",
        version = "1",
        description = "The customer administration portal's API: what the portal offers, through the same rules. Errors always have the body `{\"error\": {\"code\", \"message\", \"fields\"}}`; lists are paged with an opaque `next` cursor; changes need `If-Match` with the resource's `ETag`."
    ),
    paths(
        users::me, users::list, users::get, users::create, users::patch, users::delete,
        users::resend_invitation, users::sessions, users::end_session,
        nodes::get, nodes::create, nodes::patch, nodes::delete, nodes::administrators,
        nodes::add_administrator, nodes::remove_administrator,
        settings::node_get, settings::node_patch, settings::user_get, settings::user_patch,
        addresses::aliases, addresses::add_alias, addresses::remove_alias,
        addresses::numbers, addresses::add_number, addresses::remove_number,
        lookup::lookup,
        resources::node_books, resources::node_add_book, resources::user_resources,
        resources::user_add_book, resources::book, resources::delete_book, resources::add_contact,
        resources::remove_contact, resources::export, resources::import, resources::node_publics,
        resources::node_add_public, resources::delete_public, resources::add_public_user,
        resources::remove_public_user,
        tokens::list, tokens::create, tokens::revoke,
        usage::report, usage::user_statistics, usage::node_statistics,
    ),
    modifiers(&Security),
    tags(
        (name = "users", description = "Person and system users"),
        (name = "nodes", description = "Accounts and organizational units"),
        (name = "settings", description = "Service settings, inherited account, unit, user"),
        (name = "tokens", description = "API credentials"),
        (name = "resources", description = "Address books, their contacts, and public addresses"),
        (name = "lookup", description = "For the services: who a sender is and what they may do, and what their users used")
    )
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
    }
}

/// The API's routes (merged into the app without the session layer: no cookies here).
pub fn router(state: AppState) -> Router<AppState> {
    use axum::routing::{delete, post};
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/docs", get(reference::page))
        .route("/api/v1/me", get(users::me))
        .route("/api/v1/users", get(users::list).post(users::create))
        .route(
            "/api/v1/users/{id}",
            get(users::get).patch(users::patch).delete(users::delete),
        )
        .route(
            "/api/v1/users/{id}/invitations",
            post(users::resend_invitation),
        )
        .route("/api/v1/users/{id}/sessions", get(users::sessions))
        .route("/api/v1/users/{id}/statistics", get(usage::user_statistics))
        .route("/api/v1/nodes/{id}/statistics", get(usage::node_statistics))
        .route("/api/v1/usage", post(usage::report))
        .route(
            "/api/v1/users/{id}/sessions/{session}",
            delete(users::end_session),
        )
        .route("/api/v1/nodes", post(nodes::create))
        .route(
            "/api/v1/nodes/{id}",
            get(nodes::get).patch(nodes::patch).delete(nodes::delete),
        )
        .route(
            "/api/v1/nodes/{id}/administrators",
            get(nodes::administrators).post(nodes::add_administrator),
        )
        .route(
            "/api/v1/nodes/{id}/administrators/{user}",
            delete(nodes::remove_administrator),
        )
        .route(
            "/api/v1/nodes/{id}/settings/{service}",
            get(settings::node_get).patch(settings::node_patch),
        )
        .route(
            "/api/v1/users/{id}/settings/{service}",
            get(settings::user_get).patch(settings::user_patch),
        )
        .route(
            "/api/v1/users/{id}/aliases",
            get(addresses::aliases).post(addresses::add_alias),
        )
        .route(
            "/api/v1/users/{id}/aliases/{alias}",
            delete(addresses::remove_alias),
        )
        .route(
            "/api/v1/users/{id}/numbers",
            get(addresses::numbers).post(addresses::add_number),
        )
        .route(
            "/api/v1/users/{id}/numbers/{number}",
            delete(addresses::remove_number),
        )
        .route("/api/v1/lookup", get(lookup::lookup))
        .route(
            "/api/v1/nodes/{id}/address-books",
            get(resources::node_books).post(resources::node_add_book),
        )
        .route(
            "/api/v1/users/{id}/address-books",
            post(resources::user_add_book),
        )
        .route(
            "/api/v1/users/{id}/resources",
            get(resources::user_resources),
        )
        .route(
            "/api/v1/address-books/{id}",
            get(resources::book).delete(resources::delete_book),
        )
        .route(
            "/api/v1/address-books/{id}/contacts",
            post(resources::add_contact),
        )
        .route(
            "/api/v1/address-books/{id}/contacts/{contact}",
            delete(resources::remove_contact),
        )
        .route(
            "/api/v1/address-books/{id}/contacts.csv",
            get(resources::export).post(resources::import),
        )
        .route(
            "/api/v1/nodes/{id}/public-addresses",
            get(resources::node_publics).post(resources::node_add_public),
        )
        .route(
            "/api/v1/public-addresses/{id}",
            delete(resources::delete_public),
        )
        .route(
            "/api/v1/public-addresses/{id}/users",
            post(resources::add_public_user),
        )
        .route(
            "/api/v1/public-addresses/{id}/users/{user}",
            delete(resources::remove_public_user),
        )
        .route("/api/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/api/v1/tokens/{id}", delete(tokens::revoke))
        .route("/api/v1/{*rest}", get(not_found).post(not_found))
        .route_layer(axum::middleware::from_fn(api_fallbacks))
        .merge(Router::new().route("/api/v1", post(not_found).get(not_found)))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::idempotent,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            auth::authenticate,
        ))
}

async fn not_found(headers: HeaderMap) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "error-not-found", lang_of(&headers))
}

/// Answers axum's own rejections (a malformed id in the path, a wrong method) in the API's
/// error body instead of plain text.
async fn api_fallbacks(req: Request, next: axum::middleware::Next) -> Response {
    let lang = lang_of(req.headers());
    let res = next.run(req).await;
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let status = res.status();
    if json || status.is_success() || status.is_redirection() {
        return res;
    }
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "api-method-not-allowed",
        StatusCode::BAD_REQUEST => "api-request-invalid",
        StatusCode::NOT_FOUND => "error-not-found",
        StatusCode::PAYLOAD_TOO_LARGE => "api-body-too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "api-json-invalid",
        _ => "error-internal",
    };
    // The rewritten answer keeps what the router said: which methods the path allows.
    let allow = res.headers().get(header::ALLOW).cloned();
    let mut out = ApiError::new(status, code, lang).into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}

pub(crate) fn set(h: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        h.insert(HeaderName::from_static(name), v);
    }
}

pub(crate) fn lang_of(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::negotiate)
        .unwrap_or_default()
}

async fn openapi_json(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    Json(shape::document_of(&state.ctx.settings.catalog).into_owned()).into_response()
}

/// A JSON body: malformed JSON, unknown fields and wrong types answer 400 in the API's error
/// body (naming the problem); bodies over 2 MB answer 413.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let lang = lang_of(req.headers());
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "api-body-too-large", lang)
        })?;
        if bytes.len() > MAX_BODY {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "api-body-too-large",
                lang,
            ));
        }
        // Every body is an object: serde would also read a struct from an array.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "api-json-invalid",
                lang,
            ));
        }
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "api-json-invalid", lang))
    }
}

/// An optional whole number that JSON may also write as `5.0` (JSON Schema calls it an integer
/// too); a fraction, or a number beyond 2^53, is refused like any other wrong type.
pub(crate) fn whole_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<i64>, D::Error> {
    use serde::de::Error as _;
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    if let Some(i) = n.as_i64() {
        return Ok(Some(i));
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => Ok(Some(f as i64)),
        _ => Err(D::Error::custom("not a whole number")),
    }
}

/// An id in the path: one that is not an id names nothing, so it answers 404 like any unknown
/// id (never a parse error that tells ids apart).
pub struct ApiPath(pub uuid::Uuid);

impl axum::extract::FromRequestParts<AppState> for ApiPath {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let lang = lang_of(&parts.headers);
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "error-not-found", lang))?;
        uuid::Uuid::try_parse(&raw)
            .map(ApiPath)
            .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "error-not-found", lang))
    }
}

/// Two ids in the path (`/nodes/{id}/administrators/{user}`), each an id or 404.
pub struct ApiPathPair(pub uuid::Uuid, pub uuid::Uuid);

impl axum::extract::FromRequestParts<AppState> for ApiPathPair {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let lang = lang_of(&parts.headers);
        let not_found = || ApiError::new(StatusCode::NOT_FOUND, "error-not-found", lang);
        let axum::extract::Path((a, b)) =
            axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
                .await
                .map_err(|_| not_found())?;
        match (uuid::Uuid::try_parse(&a), uuid::Uuid::try_parse(&b)) {
            (Ok(a), Ok(b)) => Ok(ApiPathPair(a, b)),
            _ => Err(not_found()),
        }
    }
}

/// The ETag of a version.
/// A `201 Created` with the new resource and its `Location`.
pub(crate) fn created<T: serde::Serialize>(location: String, body: T) -> Response {
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

/// The version `If-Match` names: missing → 428, another version → 412.
pub fn if_match(headers: &HeaderMap, current: i64, lang: Lang) -> ApiResult<i64> {
    match expected_version(headers, current, lang)? {
        v if v == current => Ok(current),
        _ => Err(stale(lang)),
    }
}

/// The version a change must find, as `If-Match` names it (`*`: whatever is stored; a version
/// that is not the current one: none, -1), for the domain to compare after it has checked the
/// change, so that a bad field is named even under a stale ETag. Missing → 428.
pub fn expected_version(headers: &HeaderMap, current: i64, lang: Lang) -> ApiResult<i64> {
    let Some(value) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "api-if-match-required",
            lang,
        ));
    };
    let matches = value.split(',').any(|t| {
        let t = t.trim();
        t == "*" || t.trim_start_matches("W/") == etag(current)
    });
    Ok(if matches { current } else { -1 })
}

/// A change refused because the version it expected is gone answers 412, as a stale
/// `If-Match` does; every other error stays as it is.
pub fn stale_version(e: ApiError) -> ApiError {
    if e.code == "error-changed-meanwhile" {
        stale(e.lang)
    } else {
        e
    }
}

fn stale(lang: Lang) -> ApiError {
    ApiError::new(StatusCode::PRECONDITION_FAILED, "api-if-match-stale", lang)
}
