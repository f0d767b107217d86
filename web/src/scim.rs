//! SCIM 2.0 at `/scim/v2` (RFC 7644): discovery, and `/Users` provisioning into the token's
//! account or unit through the portal's domain functions. Groups and `/Bulk` are still to come.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use roster_core::Error;
use roster_core::domain::Actor;
use roster_core::domain::scim::{self, GroupInput, LIST_SCHEMA, ScimUserInput};
use roster_core::model::log_safe;
use roster_core::scim::filter;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::state::AppState;

const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const MAX_COUNT: usize = 500;
const BULK_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
const MAX_BULK_OPERATIONS: usize = 1000;
const MAX_BULK_BYTES: usize = 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(service_provider_config),
        )
        .route("/scim/v2/ResourceTypes", get(resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(resource_type))
        .route("/scim/v2/Schemas", get(schemas))
        .route("/scim/v2/Schemas/{id}", get(schema))
        .route("/scim/v2/Users", get(list_users).post(create_user))
        .route(
            "/scim/v2/Users/{id}",
            get(get_user)
                .put(replace_user)
                .patch(patch_user)
                .delete(delete_user),
        )
        .route("/scim/v2/Groups", get(list_groups).post(create_group))
        .route(
            "/scim/v2/Groups/{id}",
            get(get_group)
                .put(replace_group)
                .patch(patch_group)
                .delete(delete_group),
        )
        .route("/scim/v2/Users/.search", axum::routing::post(search_users))
        .route(
            "/scim/v2/Groups/.search",
            axum::routing::post(search_groups),
        )
        .route("/scim/v2/.search", axum::routing::post(search_all))
        .route("/scim/v2/Bulk", axum::routing::post(bulk))
        .route("/scim/v2", axum::routing::any(not_found))
        .route("/scim/v2/{*rest}", axum::routing::any(not_found))
}

async fn not_found() -> ScimError {
    ScimError::new(StatusCode::NOT_FOUND, None, "Resource not found")
}

/// An answer in `application/scim+json`.
fn scim(status: StatusCode, body: Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json"),
    );
    res
}

/// RFC 7644 §3.12 error body.
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
}

impl ScimError {
    fn new(status: StatusCode, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    fn from_core(e: Error) -> ScimError {
        let lang = roster_core::model::Lang::En;
        match e {
            Error::NotFound => ScimError::new(StatusCode::NOT_FOUND, None, "Resource not found"),
            Error::Forbidden => ScimError::new(StatusCode::FORBIDDEN, None, "Not allowed"),
            Error::Invalid(fields) => {
                let detail = fields
                    .iter()
                    .map(|f| {
                        format!(
                            "{}: {}",
                            scim_name(f.field),
                            roster_core::i18n::t(lang, f.code)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                if fields.iter().any(|f| f.code == "scim-too-many") {
                    return ScimError::new(StatusCode::BAD_REQUEST, Some("tooMany"), detail);
                }
                let taken = fields
                    .iter()
                    .any(|f| f.code.contains("taken") || f.code == "error-email-unavailable");
                if taken {
                    ScimError::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
                } else {
                    ScimError::new(StatusCode::BAD_REQUEST, Some("invalidValue"), detail)
                }
            }
            Error::Conflict("api-if-match-stale") => ScimError::new(
                StatusCode::PRECONDITION_FAILED,
                None,
                "The resource has changed",
            ),
            Error::Conflict(code) if code.contains("taken") => ScimError::new(
                StatusCode::CONFLICT,
                Some("uniqueness"),
                roster_core::i18n::t(lang, code),
            ),
            Error::Conflict(code) => {
                ScimError::new(StatusCode::CONFLICT, None, roster_core::i18n::t(lang, code))
            }
            Error::RateLimited { .. } => {
                ScimError::new(StatusCode::TOO_MANY_REQUESTS, None, "Too many requests")
            }
            Error::Unauthenticated(_) => {
                ScimError::new(StatusCode::UNAUTHORIZED, None, "Invalid credentials")
            }
            Error::Internal(detail) => {
                tracing::error!(error = %log_safe(&detail), "internal error (SCIM)");
                ScimError::new(StatusCode::INTERNAL_SERVER_ERROR, None, "Internal error")
            }
        }
    }
}

/// The SCIM attribute a Roster field is shown as, for error details.
fn scim_name(field: &str) -> &str {
    match field {
        "first_name" => "name.givenName",
        "last_name" => "name.familyName",
        "friendly_name" | "name" => "displayName",
        "email" => "emails",
        "phone_number" | "phone_country" => "phoneNumbers",
        "language" => "preferredLanguage",
        "user_type" => "userType",
        other => other,
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        scim(self.status, body)
    }
}

type ScimResult = Result<Response, ScimError>;

/// The identity provider behind `Authorization: Bearer scim_…`.
pub struct Provider(Actor);

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

fn base(state: &AppState) -> String {
    state.ctx.settings.link("/scim/v2")
}

fn parse_id(id: &str) -> Result<Uuid, ScimError> {
    Uuid::try_parse(id)
        .map_err(|_| ScimError::new(StatusCode::NOT_FOUND, None, "Resource not found"))
}

fn with_etag(mut res: Response, version: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("W/\"v{version}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

fn json_body(bytes: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(bytes)
        .map_err(|_| ScimError::new(StatusCode::BAD_REQUEST, Some("invalidSyntax"), "Not JSON"))
}

/// The version `If-Match` names, if any (`W/"v3"` or `"v3"`).
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ScimError> {
    let Some(v) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    if v.trim() == "*" {
        return Ok(None);
    }
    v.trim()
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

async fn answer_user(state: &AppState, actor: &Actor, id: Uuid, status: StatusCode) -> ScimResult {
    let (v, version) = scim::get_user(&state.ctx, actor, id, &base(state))
        .await
        .map_err(ScimError::from_core)?;
    Ok(resource(v, version, status))
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ListParams {
    filter: Option<String>,
    start_index: Option<i64>,
    count: Option<i64>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

impl ListParams {
    fn parsed_filter(&self) -> Result<Option<filter::Filter>, ScimError> {
        parse_filter(self.filter.as_deref())
    }

    /// `startIndex` (1-based) and `count`, within bounds.
    fn window(&self) -> (usize, usize) {
        let start = self.start_index.unwrap_or(1).max(1) as usize;
        let count = self.count.unwrap_or(100).clamp(0, MAX_COUNT as i64) as usize;
        (start, count)
    }

    fn descending(&self) -> bool {
        self.sort_order
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case("descending"))
    }

    fn sorts(&self) -> bool {
        self.sort_by
            .as_deref()
            .is_some_and(|b| !b.trim().is_empty())
    }

    /// The list answer: `items` sorted and cut to the page when `whole` (every match), then
    /// projected. Missing sort values come last in either order.
    fn answer(&self, total: usize, mut items: Vec<Value>, whole: bool) -> Response {
        let (start, count) = self.window();
        if let Some(by) = self.sort_by.as_deref().filter(|_| self.sorts() && whole) {
            let descending = self.descending();
            items.sort_by(|a, b| {
                let (ka, kb) = (sort_key(a, by), sort_key(b, by));
                match (&ka, &kb) {
                    (Some(x), Some(y)) if descending => y.cmp(x),
                    (Some(x), Some(y)) => x.cmp(y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                }
            });
        }
        if whole {
            items = items.into_iter().skip(start - 1).take(count).collect();
        }
        for item in items.iter_mut() {
            project(
                item,
                self.attributes.as_deref(),
                self.excluded_attributes.as_deref(),
            );
        }
        scim(
            StatusCode::OK,
            json!({"schemas": [LIST_SCHEMA], "totalResults": total, "startIndex": start,
                   "itemsPerPage": items.len(), "Resources": items}),
        )
    }
}

fn parse_filter(text: Option<&str>) -> Result<Option<filter::Filter>, ScimError> {
    match text.filter(|f| !f.trim().is_empty()) {
        Some(f) => filter::parse(f).map(Some).map_err(|e| {
            ScimError::new(
                StatusCode::BAD_REQUEST,
                Some("invalidFilter"),
                e.to_string(),
            )
        }),
        None => Ok(None),
    }
}

/// The operations of a PATCH body (RFC 7644 §3.5.2).
fn patch_ops(patch: &Value) -> Result<&Vec<Value>, ScimError> {
    let ok_schema = patch["schemas"]
        .as_array()
        .is_some_and(|s| s.iter().any(|x| x == PATCH_SCHEMA));
    patch["Operations"]
        .as_array()
        .filter(|_| ok_schema)
        .ok_or_else(|| {
            ScimError::new(
                StatusCode::BAD_REQUEST,
                Some("invalidSyntax"),
                "A PatchOp with Operations is expected",
            )
        })
}

/// A resource with its weak ETag, and its `Location` when just created.
fn resource(v: Value, version: i64, status: StatusCode) -> Response {
    let location = v["meta"]["location"].as_str().map(str::to_string);
    let mut res = with_etag(scim(status, v), version);
    if status == StatusCode::CREATED
        && let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok())
    {
        res.headers_mut().insert(header::LOCATION, l);
    }
    res
}

/// A resource id in the path: one that is not an id names nothing (404).
pub struct ScimId(Uuid);

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
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

/// An attribute name as a request writes it: `name.givenName`, or with the schema URI.
fn split_attr(a: &str) -> (Option<&str>, &str, Option<&str>) {
    let (uri, rest) = match a.rfind(':') {
        Some(i) => (Some(&a[..i]), &a[i + 1..]),
        None => (None, a),
    };
    match rest.split_once('.') {
        Some((n, s)) => (uri, n, Some(s)),
        None => (uri, rest, None),
    }
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5): `id` and `schemas` always stay.
fn project(v: &mut Value, attributes: Option<&str>, excluded: Option<&str>) {
    let list = |s: Option<&str>| -> Vec<String> {
        s.unwrap_or("")
            .split(',')
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect()
    };
    let (keep, drop) = (list(attributes), list(excluded));
    let Some(obj) = v.as_object_mut() else {
        return;
    };
    let core_uri = scim::USER_SCHEMA;
    if !keep.is_empty() {
        let mut out = serde_json::Map::new();
        for (k, val) in obj.iter() {
            if k == "id" || k == "schemas" {
                out.insert(k.clone(), val.clone());
            }
        }
        for a in &keep {
            let (uri, name, sub) = split_attr(a);
            // An extension URN alone names the whole extension.
            if let Some(ext) = obj.keys().find(|k| k.eq_ignore_ascii_case(a)).cloned()
                && ext.contains(':')
            {
                out.insert(ext.clone(), obj[&ext].clone());
                continue;
            }
            let container = match uri {
                Some(u) if !u.eq_ignore_ascii_case(core_uri) => {
                    obj.keys().find(|k| k.eq_ignore_ascii_case(u)).cloned()
                }
                _ => None,
            };
            let source = match &container {
                Some(c) => obj.get(c).and_then(Value::as_object),
                None => Some(&*obj),
            };
            let Some(source) = source else { continue };
            let Some((key, val)) = source.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) else {
                continue;
            };
            let picked = match (sub, val) {
                (None, v) => v.clone(),
                (Some(s), Value::Object(o)) => {
                    let mut m = serde_json::Map::new();
                    if let Some((sk, sv)) = o.iter().find(|(k, _)| k.eq_ignore_ascii_case(s)) {
                        m.insert(sk.clone(), sv.clone());
                    }
                    let prev = match &container {
                        Some(c) => out.get(c).and_then(|x| x.get(key)).cloned(),
                        None => out.get(key).cloned(),
                    };
                    if let Some(Value::Object(p)) = prev {
                        m.extend(p);
                    }
                    Value::Object(m)
                }
                (Some(s), Value::Array(items)) => Value::Array(
                    items
                        .iter()
                        .map(|i| {
                            let mut m = serde_json::Map::new();
                            if let Some((sk, sv)) = i
                                .as_object()
                                .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(s)))
                            {
                                m.insert(sk.clone(), sv.clone());
                            }
                            Value::Object(m)
                        })
                        .collect(),
                ),
                (Some(_), v) => v.clone(),
            };
            match &container {
                Some(c) => {
                    let entry = out.entry(c.clone()).or_insert_with(|| json!({}));
                    if let Some(e) = entry.as_object_mut() {
                        e.insert(key.clone(), picked);
                    }
                }
                None => {
                    out.insert(key.clone(), picked);
                }
            }
        }
        *obj = out;
        return;
    }
    for a in &drop {
        let (uri, name, sub) = split_attr(a);
        if name.eq_ignore_ascii_case("id") || name.eq_ignore_ascii_case("schemas") {
            continue;
        }
        let container = match uri {
            Some(u) if !u.eq_ignore_ascii_case(core_uri) => {
                obj.keys().find(|k| k.eq_ignore_ascii_case(u)).cloned()
            }
            _ => None,
        };
        let target = match &container {
            Some(c) => obj.get_mut(c).and_then(Value::as_object_mut),
            None => Some(&mut *obj),
        };
        let Some(target) = target else { continue };
        let Some(key) = target
            .keys()
            .find(|k| k.eq_ignore_ascii_case(name))
            .cloned()
        else {
            continue;
        };
        match sub {
            None => {
                target.remove(&key);
            }
            Some(s) => match target.get_mut(&key) {
                Some(Value::Object(o)) => {
                    if let Some(sk) = o.keys().find(|k| k.eq_ignore_ascii_case(s)).cloned() {
                        o.remove(&sk);
                    }
                }
                Some(Value::Array(items)) => {
                    for i in items.iter_mut().filter_map(Value::as_object_mut) {
                        if let Some(sk) = i.keys().find(|k| k.eq_ignore_ascii_case(s)).cloned() {
                            i.remove(&sk);
                        }
                    }
                }
                _ => {}
            },
        }
    }
}

/// The text a resource sorts by (`sortBy`), lower case; missing values sort last.
fn sort_key(v: &Value, path: &str) -> Option<String> {
    let f = filter::parse(&format!("{path} pr")).ok()?;
    let filter::Filter::Present(p) = f else {
        return None;
    };
    let probe = |val: &Value| -> Option<String> {
        match val {
            Value::String(s) => Some(s.to_lowercase()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(format!("{:020.6}", n.as_f64().unwrap_or(0.0))),
            _ => None,
        }
    };
    let obj = v.as_object()?;
    let top = obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(&p.name))?.1;
    match (&p.sub, top) {
        (None, Value::Array(items)) => items.first().and_then(|i| probe(&i["value"])),
        (None, other) => probe(other),
        (Some(s), Value::Object(o)) => o
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(s))
            .and_then(|(_, x)| probe(x)),
        (Some(s), Value::Array(items)) => items.first().and_then(|i| {
            i.as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(s))
                .and_then(|(_, x)| probe(x))
        }),
        _ => None,
    }
}

async fn list_users(
    State(state): State<AppState>,
    Provider(actor): Provider,
    Query(p): Query<ListParams>,
) -> ScimResult {
    users_page(&state, &actor, &p).await
}

async fn users_page(state: &AppState, actor: &Actor, p: &ListParams) -> ScimResult {
    let filter = p.parsed_filter()?;
    let (start, count) = p.window();
    // userName order is the index's; any other order needs every match (a bounded number).
    let by_name = p
        .sort_by
        .as_deref()
        .is_none_or(|b| b.trim().is_empty() || sort_is_user_name(b));
    let want = if by_name {
        scim::Want::Page {
            start,
            count,
            descending: p.descending(),
        }
    } else {
        scim::Want::All
    };
    let (total, users) = scim::list_users(&state.ctx, actor, filter.as_ref(), want, &base(state))
        .await
        .map_err(ScimError::from_core)?;
    Ok(p.answer(total, users, want == scim::Want::All))
}

/// `userName`, as `sortBy` may write it (any case, with or without the schema).
fn sort_is_user_name(by: &str) -> bool {
    let by = by.trim();
    let name = by
        .strip_prefix(scim::USER_SCHEMA)
        .and_then(|r| r.strip_prefix(':'))
        .unwrap_or(by);
    name.eq_ignore_ascii_case("userName")
}

/// A `/.search` body (RFC 7644 §3.4.3): the list parameters, attribute lists as arrays.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SearchRequest {
    attributes: Option<Value>,
    excluded_attributes: Option<Value>,
    filter: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    start_index: Option<i64>,
    count: Option<i64>,
}

fn search_params(body: &Bytes) -> Result<ListParams, ScimError> {
    let r: SearchRequest = serde_json::from_slice(body).map_err(|_| {
        ScimError::new(
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "Not a SearchRequest",
        )
    })?;
    let list = |v: Option<Value>| match v {
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    Ok(ListParams {
        filter: r.filter,
        start_index: r.start_index,
        count: r.count,
        sort_by: r.sort_by,
        sort_order: r.sort_order,
        attributes: list(r.attributes),
        excluded_attributes: list(r.excluded_attributes),
    })
}

async fn search_users(
    State(state): State<AppState>,
    Provider(actor): Provider,
    body: Bytes,
) -> ScimResult {
    users_page(&state, &actor, &search_params(&body)?).await
}

async fn search_groups(
    State(state): State<AppState>,
    Provider(actor): Provider,
    body: Bytes,
) -> ScimResult {
    groups_page(&state, &actor, &search_params(&body)?).await
}

/// `POST /.search` at the root: users and groups alike.
async fn search_all(
    State(state): State<AppState>,
    Provider(actor): Provider,
    body: Bytes,
) -> ScimResult {
    let p = search_params(&body)?;
    let filter = p.parsed_filter()?;
    let (_, mut items) = scim::list_users(
        &state.ctx,
        &actor,
        filter.as_ref(),
        scim::Want::All,
        &base(&state),
    )
    .await
    .map_err(ScimError::from_core)?;
    items.extend(matching_groups(&state, &actor, filter.as_ref()).await?);
    Ok(p.answer(items.len(), items, true))
}

async fn get_user(
    State(state): State<AppState>,
    Provider(actor): Provider,
    ScimId(id): ScimId,
    Query(p): Query<Projection>,
) -> ScimResult {
    let (mut v, version) = scim::get_user(&state.ctx, &actor, id, &base(&state))
        .await
        .map_err(ScimError::from_core)?;
    project(
        &mut v,
        p.attributes.as_deref(),
        p.excluded_attributes.as_deref(),
    );
    Ok(with_etag(scim(StatusCode::OK, v), version))
}

async fn create_user(
    State(state): State<AppState>,
    Provider(actor): Provider,
    body: Bytes,
) -> ScimResult {
    let v = json_body(&body)?;
    let input = ScimUserInput::from_json(&v).map_err(ScimError::from_core)?;
    let id = scim::create_user(&state.ctx, &actor, &input)
        .await
        .map_err(ScimError::from_core)?;
    answer_user(&state, &actor, id.0, StatusCode::CREATED).await
}

async fn replace_user(
    State(state): State<AppState>,
    Provider(actor): Provider,
    ScimId(id): ScimId,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    let version = if_match(&headers)?;
    let v = json_body(&body)?;
    let input = ScimUserInput::from_json(&v).map_err(ScimError::from_core)?;
    scim::replace_user(&state.ctx, &actor, id, version, &input)
        .await
        .map_err(ScimError::from_core)?;
    answer_user(&state, &actor, id, StatusCode::OK).await
}

async fn patch_user(
    State(state): State<AppState>,
    Provider(actor): Provider,
    ScimId(id): ScimId,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    let current = scim::get_user(&state.ctx, &actor, id, &base(&state))
        .await
        .map_err(ScimError::from_core)?;
    let (patched, now_version) = patched(current, &headers, &body)?;
    let input = ScimUserInput::from_json(&patched).map_err(ScimError::from_core)?;
    scim::replace_user(&state.ctx, &actor, id, Some(now_version), &input)
        .await
        .map_err(ScimError::from_core)?;
    answer_user(&state, &actor, id, StatusCode::OK).await
}

/// A PATCH request (RFC 7644 §3.5.2) applied to a resource's current JSON, after its
/// `If-Match` (if any) is checked against the current version: what the resource becomes, and
/// the version it was read at.
fn patched(
    (mut current, version): (Value, i64),
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Value, i64), ScimError> {
    let wanted = if_match(headers)?;
    let patch = json_body(body)?;
    let ops = patch_ops(&patch)?;
    if wanted.is_some_and(|v| v != version) {
        return Err(ScimError::new(
            StatusCode::PRECONDITION_FAILED,
            None,
            "The resource has changed",
        ));
    }
    for op in ops {
        apply(&mut current, op)?;
    }
    Ok((current, version))
}

async fn delete_user(
    State(state): State<AppState>,
    Provider(actor): Provider,
    ScimId(id): ScimId,
) -> Result<StatusCode, ScimError> {
    scim::delete_user(&state.ctx, &actor, id)
        .await
        .map_err(ScimError::from_core)?;
    Ok(StatusCode::NO_CONTENT)
}

fn key_ci(obj: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    obj.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// Sets `value` at `name` in an object, merging objects (add) or replacing.
fn set(obj: &mut serde_json::Map<String, Value>, name: &str, value: Value, merge: bool) {
    let key = key_ci(obj, name).unwrap_or_else(|| name.to_string());
    match (obj.get_mut(&key), value) {
        (Some(Value::Object(old)), Value::Object(new)) if merge => {
            for (k, v) in new {
                set(old, &k, v, true);
            }
        }
        (Some(Value::Array(old)), Value::Array(new)) if merge => old.extend(new),
        (_, v) => {
            obj.insert(key, v);
        }
    }
}

/// Splits a PATCH path into the schema it names (None for the core schema) and the attribute
/// path after it ("" when the path is an extension's URN alone).
fn split_urn(path: &str) -> (Option<&str>, &str) {
    let known = [
        (scim::USER_SCHEMA, false),
        (scim::GROUP_SCHEMA, false),
        (scim::ENTERPRISE, true),
        (scim::ROSTER_EXT, true),
    ];
    for (uri, extension) in known {
        let Some(head) = path.get(..uri.len()) else {
            continue;
        };
        if !head.eq_ignore_ascii_case(uri) {
            continue;
        }
        let rest = &path[uri.len()..];
        match (rest, rest.strip_prefix(':')) {
            ("", _) if extension => return (Some(uri), ""),
            (_, Some(attr)) => return (extension.then_some(uri), attr),
            _ => {}
        }
    }
    // Another extension: its URN ends at the last colon.
    match path.rfind(':') {
        Some(i)
            if path
                .get(..4)
                .is_some_and(|h| h.eq_ignore_ascii_case("urn:")) =>
        {
            (Some(&path[..i]), &path[i + 1..])
        }
        _ => (None, path),
    }
}

/// One PATCH operation (RFC 7644 §3.5.2) on the resource's JSON: add, replace, remove; with no
/// path, an attribute path, or `attr[filter]` / `attr[filter].sub`.
fn apply(resource: &mut Value, op: &Value) -> Result<(), ScimError> {
    let bad = |what: &str| {
        ScimError::new(
            StatusCode::BAD_REQUEST,
            Some("invalidPath"),
            what.to_string(),
        )
    };
    let kind = op["op"].as_str().unwrap_or("").to_ascii_lowercase();
    let path = op["path"].as_str().unwrap_or("").trim();
    let value = op.get("value").cloned().unwrap_or(Value::Null);
    let Some(obj) = resource.as_object_mut() else {
        return Err(bad("not an object"));
    };
    match (kind.as_str(), path) {
        ("add" | "replace", "") => {
            let Value::Object(fields) = value else {
                return Err(ScimError::new(
                    StatusCode::BAD_REQUEST,
                    Some("invalidValue"),
                    "A value object is expected",
                ));
            };
            for (k, v) in fields {
                set(obj, &k, v, kind == "add");
            }
            Ok(())
        }
        ("add" | "replace" | "remove", path) if !path.is_empty() => {
            // attr[filter].sub
            if let Some(open) = path.find('[') {
                let close = path.rfind(']').ok_or_else(|| bad("unclosed ["))?;
                let attr = &path[..open];
                let inner = filter::parse(&path[open + 1..close]).map_err(|e| {
                    ScimError::new(
                        StatusCode::BAD_REQUEST,
                        Some("invalidFilter"),
                        e.to_string(),
                    )
                })?;
                let sub = path[close + 1..].trim_start_matches('.');
                let key = key_ci(obj, attr).ok_or_else(|| {
                    ScimError::new(
                        StatusCode::BAD_REQUEST,
                        Some("noTarget"),
                        "No such attribute",
                    )
                })?;
                let Some(Value::Array(items)) = obj.get_mut(&key) else {
                    return Err(ScimError::new(
                        StatusCode::BAD_REQUEST,
                        Some("noTarget"),
                        "Not multi-valued",
                    ));
                };
                if kind == "remove" && sub.is_empty() {
                    items.retain(|i| !inner.matches(i));
                    return Ok(());
                }
                let mut hit = false;
                for item in items.iter_mut().filter(|i| inner.matches(i)) {
                    hit = true;
                    if let Some(o) = item.as_object_mut() {
                        if kind == "remove" {
                            if let Some(k) = key_ci(o, sub) {
                                o.remove(&k);
                            }
                        } else {
                            set(o, sub, value.clone(), false);
                        }
                    }
                }
                if !hit && kind != "remove" {
                    return Err(ScimError::new(
                        StatusCode::BAD_REQUEST,
                        Some("noTarget"),
                        "No value matches",
                    ));
                }
                return Ok(());
            }
            // Attributes may be written with their schema: `urn:…:User:attr`, or the bare
            // URN of an extension for the whole extension object.
            let (container, attr) = split_urn(path);
            if let (Some(uri), "") = (container, attr) {
                let key = key_ci(obj, uri).unwrap_or_else(|| uri.to_string());
                if kind == "remove" {
                    obj.remove(&key);
                } else {
                    set(obj, &key, value, kind == "add");
                }
                return Ok(());
            }
            let target = match container {
                Some(uri) => {
                    let key = key_ci(obj, uri).unwrap_or_else(|| uri.to_string());
                    obj.entry(key).or_insert_with(|| json!({}));
                    let k = key_ci(obj, uri).unwrap_or_default();
                    obj.get_mut(&k)
                        .and_then(Value::as_object_mut)
                        .ok_or_else(|| bad("not an object"))?
                }
                None => obj,
            };
            let (name, sub) = match attr.split_once('.') {
                Some((n, s)) => (n, Some(s)),
                None => (attr, None),
            };
            match (kind.as_str(), sub) {
                ("remove", None) => {
                    let Some(k) = key_ci(target, name) else {
                        return Ok(());
                    };
                    // `remove` with values takes those values out of a multi-valued
                    // attribute (as some providers send for group members).
                    match (target.get_mut(&k), &value) {
                        (Some(Value::Array(items)), Value::Array(gone)) if !gone.is_empty() => {
                            let ids: Vec<&Value> = gone.iter().map(|g| &g["value"]).collect();
                            items.retain(|i| !ids.contains(&&i["value"]));
                        }
                        _ => {
                            target.remove(&k);
                        }
                    }
                }
                ("remove", Some(s)) => {
                    if let Some(k) = key_ci(target, name)
                        && let Some(o) = target.get_mut(&k).and_then(Value::as_object_mut)
                        && let Some(sk) = key_ci(o, s)
                    {
                        o.remove(&sk);
                    }
                }
                (_, None) => set(target, name, value, kind == "add"),
                (_, Some(s)) => {
                    let k = key_ci(target, name).unwrap_or_else(|| name.to_string());
                    let entry = target.entry(k).or_insert_with(|| json!({}));
                    let o = entry.as_object_mut().ok_or_else(|| bad("not an object"))?;
                    set(o, s, value, kind == "add");
                }
            }
            Ok(())
        }
        _ => Err(ScimError::new(
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "op must be add, replace or remove",
        )),
    }
}

async fn service_provider_config(State(state): State<AppState>) -> Response {
    scim(
        StatusCode::OK,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "documentationUri": state.ctx.settings.link("/api/v1/docs"),
            "patch": {"supported": true},
            "bulk": {"supported": true, "maxOperations": MAX_BULK_OPERATIONS, "maxPayloadSize": MAX_BULK_BYTES},
            "filter": {"supported": true, "maxResults": MAX_COUNT},
            "changePassword": {"supported": false},
            "sort": {"supported": true},
            "etag": {"supported": true},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A SCIM token of the account or unit (roster scim-token create)",
                "primary": true
            }],
            "meta": {"resourceType": "ServiceProviderConfig",
                     "location": state.ctx.settings.link("/scim/v2/ServiceProviderConfig")}
        }),
    )
}

fn user_resource_type(state: &AppState) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A person user of the account",
        "schema": scim::USER_SCHEMA,
        "schemaExtensions": [{"schema": scim::ENTERPRISE, "required": false}],
        "meta": {"resourceType": "ResourceType",
                 "location": state.ctx.settings.link("/scim/v2/ResourceTypes/User")}
    })
}

fn group_resource_type(state: &AppState) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "description": "An organizational unit; its members are the users in it",
        "schema": scim::GROUP_SCHEMA,
        "meta": {"resourceType": "ResourceType",
                 "location": state.ctx.settings.link("/scim/v2/ResourceTypes/Group")}
    })
}

async fn resource_types(State(state): State<AppState>) -> Response {
    let all = [user_resource_type(&state), group_resource_type(&state)];
    scim(
        StatusCode::OK,
        json!({"schemas": [LIST_SCHEMA], "totalResults": 2, "startIndex": 1,
               "itemsPerPage": 2, "Resources": all}),
    )
}

/// An attribute definition (RFC 7643 §7): a read-write, optional, single string unless changed.
fn attr(name: &str) -> Value {
    json!({"name": name, "type": "string", "multiValued": false, "required": false,
           "caseExact": false, "mutability": "readWrite", "returned": "default",
           "uniqueness": "none"})
}

fn with(mut a: Value, changes: Value) -> Value {
    if let (Some(o), Value::Object(c)) = (a.as_object_mut(), changes) {
        o.extend(c);
    }
    a
}

/// A multi-valued complex attribute of `value`, `type` (one of `types`) and `primary`.
fn multi(name: &str, types: &[&str], value: Value) -> Value {
    with(
        attr(name),
        json!({"type": "complex", "multiValued": true, "subAttributes": [
            value,
            with(attr("type"), json!({"canonicalValues": types})),
            with(attr("primary"), json!({"type": "boolean"})),
        ]}),
    )
}

async fn resource_type(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ScimResult {
    if id == "User" {
        Ok(scim(StatusCode::OK, user_resource_type(&state)))
    } else if id == "Group" {
        Ok(scim(StatusCode::OK, group_resource_type(&state)))
    } else {
        Err(ScimError::new(
            StatusCode::NOT_FOUND,
            None,
            "Resource not found",
        ))
    }
}

async fn schema(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ScimResult {
    let all = all_schemas(&state);
    all.into_iter()
        .find(|s| s["id"].as_str() == Some(id.as_str()))
        .map(|s| scim(StatusCode::OK, s))
        .ok_or_else(|| ScimError::new(StatusCode::NOT_FOUND, None, "Resource not found"))
}

async fn schemas(State(state): State<AppState>) -> Response {
    let all = all_schemas(&state);
    scim(
        StatusCode::OK,
        json!({"schemas": [LIST_SCHEMA], "totalResults": all.len(), "startIndex": 1,
               "itemsPerPage": all.len(), "Resources": all}),
    )
}

/// The schemas Roster serves: the core User schema (what Roster maps, and what it keeps as
/// the provider's), the enterprise extension (the provider's), and Group (a unit).
fn all_schemas(state: &AppState) -> Vec<Value> {
    let read_only = json!({"mutability": "readOnly"});
    let reference = |types: &[&str]| json!({"type": "reference", "referenceTypes": types});
    let schema = |id: &str, name: &str, description: &str, attributes: Vec<Value>| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": id, "name": name, "description": description, "attributes": attributes,
            "meta": {"resourceType": "Schema",
                     "location": state.ctx.settings.link(&format!("/scim/v2/Schemas/{id}"))}
        })
    };
    let complex = |name: &str, subs: Vec<Value>| {
        with(
            attr(name),
            json!({"type": "complex", "subAttributes": subs}),
        )
    };
    let user = schema(
        scim::USER_SCHEMA,
        "User",
        "User Account",
        vec![
            with(
                attr("userName"),
                json!({"required": true, "uniqueness": "server"}),
            ),
            complex(
                "name",
                [
                    "formatted",
                    "familyName",
                    "givenName",
                    "middleName",
                    "honorificPrefix",
                    "honorificSuffix",
                ]
                .map(attr)
                .to_vec(),
            ),
            attr("displayName"),
            attr("nickName"),
            with(attr("profileUrl"), reference(&["external"])),
            attr("title"),
            with(
                attr("userType"),
                json!({"canonicalValues": ["Administrator", "User"]}),
            ),
            with(
                attr("preferredLanguage"),
                json!({"canonicalValues": ["en", "nl", "sv"]}),
            ),
            attr("locale"),
            attr("timezone"),
            with(attr("active"), json!({"type": "boolean"})),
            with(
                multi(
                    "emails",
                    &["work", "home", "other"],
                    with(attr("value"), json!({"required": true})),
                ),
                json!({"required": true}),
            ),
            multi(
                "phoneNumbers",
                &["mobile", "work", "home", "fax", "pager", "other"],
                attr("value"),
            ),
            multi(
                "ims",
                &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
                attr("value"),
            ),
            multi(
                "photos",
                &["photo", "thumbnail"],
                with(attr("value"), reference(&["external"])),
            ),
            with(
                attr("addresses"),
                json!({"type": "complex", "multiValued": true, "subAttributes": [
                    attr("formatted"), attr("streetAddress"), attr("locality"), attr("region"),
                    attr("postalCode"), attr("country"),
                    with(attr("type"), json!({"canonicalValues": ["work", "home", "other"]})),
                    with(attr("primary"), json!({"type": "boolean"})),
                ]}),
            ),
            with(
                attr("groups"),
                json!({"type": "complex", "multiValued": true, "mutability": "readOnly",
                       "subAttributes": [
                    with(attr("value"), read_only.clone()),
                    with(with(attr("$ref"), reference(&["Group"])), read_only.clone()),
                    with(attr("display"), read_only.clone()),
                    with(attr("type"), json!({"mutability": "readOnly",
                                               "canonicalValues": ["direct", "indirect"]})),
                ]}),
            ),
            multi("entitlements", &[], attr("value")),
            multi("roles", &[], attr("value")),
            multi(
                "x509Certificates",
                &[],
                with(attr("value"), json!({"type": "binary"})),
            ),
        ],
    );
    let enterprise = schema(
        scim::ENTERPRISE,
        "EnterpriseUser",
        "Enterprise User (kept as the provider sends it)",
        vec![
            attr("employeeNumber"),
            attr("costCenter"),
            attr("organization"),
            attr("division"),
            attr("department"),
            complex(
                "manager",
                vec![
                    attr("value"),
                    with(attr("$ref"), reference(&["User"])),
                    with(attr("displayName"), read_only.clone()),
                ],
            ),
        ],
    );
    let group = schema(
        scim::GROUP_SCHEMA,
        "Group",
        "Group (an organizational unit; members are its users and the units below it)",
        vec![
            with(attr("displayName"), json!({"required": true})),
            with(
                attr("members"),
                json!({"type": "complex", "multiValued": true, "subAttributes": [
                    with(attr("value"), json!({"mutability": "immutable"})),
                    with(with(attr("$ref"), reference(&["User", "Group"])),
                         json!({"mutability": "immutable"})),
                    with(attr("type"), json!({"mutability": "immutable",
                                               "canonicalValues": ["User", "Group"]})),
                ]}),
            ),
        ],
    );
    vec![user, enterprise, group]
}

// ---------------------------------------------------------------------------------------------
// Groups (units)

async fn answer_group(state: &AppState, actor: &Actor, id: Uuid, status: StatusCode) -> ScimResult {
    let (v, version) = scim::get_group(&state.ctx, actor, id, &base(state))
        .await
        .map_err(ScimError::from_core)?;
    Ok(resource(v, version, status))
}

async fn list_groups(
    State(state): State<AppState>,
    Provider(actor): Provider,
    Query(p): Query<ListParams>,
) -> ScimResult {
    groups_page(&state, &actor, &p).await
}

async fn matching_groups(
    state: &AppState,
    actor: &Actor,
    filter: Option<&filter::Filter>,
) -> Result<Vec<Value>, ScimError> {
    Ok(scim::list_groups(&state.ctx, actor, &base(state))
        .await
        .map_err(ScimError::from_core)?
        .into_iter()
        .filter(|g| filter.is_none_or(|f| f.matches(g)))
        .collect())
}

async fn groups_page(state: &AppState, actor: &Actor, p: &ListParams) -> ScimResult {
    let filter = p.parsed_filter()?;
    let matching = matching_groups(state, actor, filter.as_ref()).await?;
    Ok(p.answer(matching.len(), matching, true))
}

async fn get_group(
    State(state): State<AppState>,
    Provider(actor): Provider,
    ScimId(id): ScimId,
    Query(p): Query<Projection>,
) -> ScimResult {
    let (mut v, version) = scim::get_group(&state.ctx, &actor, id, &base(&state))
        .await
        .map_err(ScimError::from_core)?;
    project(
        &mut v,
        p.attributes.as_deref(),
        p.excluded_attributes.as_deref(),
    );
    Ok(with_etag(scim(StatusCode::OK, v), version))
}

async fn create_group(
    State(state): State<AppState>,
    Provider(actor): Provider,
    body: Bytes,
) -> ScimResult {
    let v = json_body(&body)?;
    let input = GroupInput::from_json(&v).map_err(ScimError::from_core)?;
    let id = scim::create_group(&state.ctx, &actor, &input)
        .await
        .map_err(ScimError::from_core)?;
    answer_group(&state, &actor, id, StatusCode::CREATED).await
}

async fn replace_group(
    State(state): State<AppState>,
    Provider(actor): Provider,
    ScimId(id): ScimId,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    let version = if_match(&headers)?;
    let v = json_body(&body)?;
    let input = GroupInput::from_json(&v).map_err(ScimError::from_core)?;
    scim::set_group(&state.ctx, &actor, id, version, &input)
        .await
        .map_err(ScimError::from_core)?;
    answer_group(&state, &actor, id, StatusCode::OK).await
}

/// PATCH on a group works as on a user: the operations apply to the group's JSON, and the
/// result is what the group becomes (name, external id, members).
async fn patch_group(
    State(state): State<AppState>,
    Provider(actor): Provider,
    ScimId(id): ScimId,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    let current = scim::get_group(&state.ctx, &actor, id, &base(&state))
        .await
        .map_err(ScimError::from_core)?;
    let (patched, now_version) = patched(current, &headers, &body)?;
    let input = GroupInput::from_json(&patched).map_err(ScimError::from_core)?;
    scim::set_group(&state.ctx, &actor, id, Some(now_version), &input)
        .await
        .map_err(ScimError::from_core)?;
    answer_group(&state, &actor, id, StatusCode::OK).await
}

async fn delete_group(
    State(state): State<AppState>,
    Provider(actor): Provider,
    ScimId(id): ScimId,
) -> Result<StatusCode, ScimError> {
    scim::delete_group(&state.ctx, &actor, id)
        .await
        .map_err(ScimError::from_core)?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Bulk (RFC 7644 §3.7): each operation runs through this router exactly as a single request
// would (same token, same rules), in order; `bulkId:` references are replaced by the ids the
// earlier operations created.

fn substitute(v: &mut Value, ids: &std::collections::HashMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:").and_then(|k| ids.get(k)) {
                *s = id.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| substitute(i, ids)),
        Value::Object(map) => map.values_mut().for_each(|i| substitute(i, ids)),
        _ => {}
    }
}

/// An operation that creates a user (`POST /Users` with a body).
fn creates_user(op: &Value) -> bool {
    op["method"]
        .as_str()
        .is_some_and(|m| m.eq_ignore_ascii_case("POST"))
        && op["path"].as_str() == Some("/Users")
        && op["data"].is_object()
}

fn mentions_bulk_id(v: &Value) -> bool {
    match v {
        Value::String(s) => s.starts_with("bulkId:"),
        Value::Array(items) => items.iter().any(mentions_bulk_id),
        Value::Object(map) => map.values().any(mentions_bulk_id),
        _ => false,
    }
}

/// A run of user creates at once, in one transaction: their results, or None when any of them
/// would fail (they then run one by one, so each failure is told on its own operation).
async fn create_run(
    state: &AppState,
    actor: &Actor,
    run: &[Value],
    ids: &std::collections::HashMap<String, String>,
) -> Option<Vec<(Option<String>, Uuid)>> {
    let mut inputs = Vec::with_capacity(run.len());
    for op in run {
        let mut data = op["data"].clone();
        substitute(&mut data, ids);
        if mentions_bulk_id(&data) {
            return None;
        }
        inputs.push(ScimUserInput::from_json(&data).ok()?);
    }
    let created = scim::create_users(&state.ctx, actor, &inputs).await.ok()?;
    Some(
        run.iter()
            .zip(created)
            .map(|(op, id)| (op["bulkId"].as_str().map(str::to_string), id.0))
            .collect(),
    )
}

/// One operation through the router, as a single request with the same token: its status,
/// location and (for an error) body.
async fn run_operation(
    router: &axum::Router,
    auth: Option<&HeaderValue>,
    op: &Value,
    ids: &mut std::collections::HashMap<String, String>,
) -> Result<(u16, String, Option<Value>), ScimError> {
    use tower::ServiceExt as _;
    let method = op["method"].as_str().unwrap_or("").to_ascii_uppercase();
    let bulk_id = op["bulkId"].as_str().map(str::to_string);
    let mut path = op["path"].as_str().unwrap_or("").to_string();
    if let Some(rest) = path.split('/').find_map(|seg| seg.strip_prefix("bulkId:"))
        && let Some(id) = ids.get(rest)
    {
        path = path.replace(&format!("bulkId:{rest}"), id);
    }
    let mut data = op.get("data").cloned().unwrap_or(Value::Null);
    substitute(&mut data, ids);
    // Writes only: a search inside a bulk request would multiply its cost by the operations.
    let allowed = matches!(method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
        && (path.starts_with("/Users") || path.starts_with("/Groups"))
        && !path.contains("..")
        && !path.contains(".search");
    if !allowed {
        return Ok((
            400,
            String::new(),
            Some(json!({"schemas": [ERROR_SCHEMA], "status": "400",
                        "scimType": "invalidSyntax",
                        "detail": "method and path of an operation"})),
        ));
    }
    let mut req = axum::http::Request::builder()
        .method(method.as_str())
        .uri(format!("/scim/v2{path}"))
        .header(header::CONTENT_TYPE, "application/scim+json");
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a.clone());
    }
    if let Some(version) = op["version"].as_str() {
        req = req.header(header::IF_MATCH, version);
    }
    let body = if data.is_null() {
        String::new()
    } else {
        data.to_string()
    };
    let req = req
        .body(axum::body::Body::from(body))
        .map_err(|_| ScimError::new(StatusCode::BAD_REQUEST, Some("invalidSyntax"), "operation"))?;
    let res =
        router.clone().oneshot(req).await.map_err(|_| {
            ScimError::new(StatusCode::INTERNAL_SERVER_ERROR, None, "Internal error")
        })?;
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = axum::body::to_bytes(res.into_body(), MAX_BULK_BYTES)
        .await
        .unwrap_or_default();
    let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
    if let (Some(b), Some(p)) = (&bulk_id, &parsed)
        && status == 201
        && let Some(id) = p["id"].as_str()
    {
        ids.insert(b.clone(), id.to_string());
    }
    Ok((status, location, if status >= 400 { parsed } else { None }))
}

async fn bulk(
    State(state): State<AppState>,
    Provider(actor): Provider,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult {
    // The token is checked here, and again by each operation (same rules as a single request).
    if body.len() > MAX_BULK_BYTES {
        return Err(ScimError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("tooLarge"),
            "Bulk payload too large",
        ));
    }
    let v = json_body(&body)?;
    let ok_schema = v["schemas"]
        .as_array()
        .is_some_and(|s| s.iter().any(|x| x == BULK_SCHEMA));
    let Some(ops) = v["Operations"].as_array().filter(|_| ok_schema) else {
        return Err(ScimError::new(
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "A BulkRequest with Operations is expected",
        ));
    };
    if ops.len() > MAX_BULK_OPERATIONS {
        return Err(ScimError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("tooMany"),
            "Too many operations",
        ));
    }
    let fail_on = v["failOnErrors"].as_u64().map(|n| n as usize);
    let auth = headers.get(header::AUTHORIZATION).cloned();
    let router = crate::routes::router(state.clone());
    let mut ids: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut results = vec![];
    let mut errors = 0;
    let base = base(&state);
    // Runs of user creates go in one transaction when none of them fails; a run that would
    // fail runs one operation at a time like everything else.
    let mut one_by_one_until = 0;
    let mut i = 0;
    while i < ops.len() {
        if fail_on.is_some_and(|n| n > 0 && errors >= n) {
            break;
        }
        let run = ops[i..].iter().take_while(|op| creates_user(op)).count();
        if run >= 2 && i >= one_by_one_until {
            if let Some(created) = create_run(&state, &actor, &ops[i..i + run], &ids).await {
                for (bulk_id, id) in created {
                    let mut r = json!({"method": "POST", "status": "201",
                                       "location": format!("{base}/Users/{id}")});
                    if let Some(b) = bulk_id {
                        r["bulkId"] = json!(b);
                        ids.insert(b, id.to_string());
                    }
                    results.push(r);
                }
                i += run;
                continue;
            }
            one_by_one_until = i + run;
        }
        let op = &ops[i];
        let (status, location, response) =
            run_operation(&router, auth.as_ref(), op, &mut ids).await?;
        if status >= 400 {
            errors += 1;
        }
        let method = op["method"].as_str().unwrap_or("").to_ascii_uppercase();
        let mut r = json!({"method": method, "status": status.to_string()});
        if let Some(b) = op["bulkId"].as_str() {
            r["bulkId"] = json!(b);
        }
        if !location.is_empty() {
            r["location"] = json!(location);
        }
        if let Some(resp) = response {
            r["response"] = resp;
        }
        results.push(r);
        i += 1;
    }
    Ok(scim(
        StatusCode::OK,
        json!({"schemas": [BULK_RESPONSE], "Operations": results}),
    ))
}
