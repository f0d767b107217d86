//! `/api/v1/users`: the same domain functions as the Users tab and the user page.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use roster_core::domain::user::{
    self, ListFilter, ListSort, NewUser, PasswordChoice, ProfileInput, UserChange, UserDetail,
};
use roster_core::model::{NodeId, SessionId, UserId, UserStatus, UserType};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{Caller, Writer};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::{ApiJson, ApiPath, ApiPathPair, etag, expected_version, if_match, stale_version};
use crate::state::AppState;

/// A user as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct UserOut {
    pub id: Uuid,
    /// `person` (signs in with email) or `system` (another system, with a login).
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub friendly_name: String,
    /// E.164, or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub country_code: String,
    pub language: String,
    /// `administrator` or `user`.
    pub user_type: String,
    /// `invited`, `active` or `disabled`.
    pub status: String,
    pub receive_invoices: bool,
    pub notifications_enabled: bool,
    pub notify_email: bool,
    pub notify_sms: bool,
    pub mfa_required: bool,
    pub services: Vec<String>,
    /// The unit or account the user belongs to.
    pub node_id: Uuid,
    pub node_name: String,
    pub version: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
}

fn out(d: UserDetail) -> UserOut {
    let some = |s: String| (!s.is_empty()).then_some(s);
    UserOut {
        id: d.id.0,
        kind: if d.is_system { "system" } else { "person" }.into(),
        email: some(d.email),
        login: some(d.login),
        first_name: d.first_name,
        last_name: d.last_name,
        friendly_name: d.friendly_name,
        phone: some(d.phone),
        country_code: d.country_code,
        language: d.language,
        user_type: d.user_type.as_str().into(),
        status: d.status.as_str().into(),
        receive_invoices: d.receive_invoices,
        notifications_enabled: d.notifications_enabled,
        notify_email: d.notify_email,
        notify_sms: d.notify_sms,
        mfa_required: d.mfa_required,
        services: d.services,
        node_id: d.node_id.0,
        node_name: d.node_name,
        version: d.version,
        created_at: d.created_at.to_rfc3339(),
    }
}

/// One user, with its version as the `ETag`.
fn with_etag(status: StatusCode, d: UserDetail) -> Response {
    let tag = etag(d.version);
    let mut res = (status, Json(out(d))).into_response();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// The caller themself.
#[utoipa::path(operation_id = "users_me", get, path = "/api/v1/me", tag = "users",
    responses((status = 200, body = UserOut), (status = 401, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let id = caller.actor.user_id;
    let d = own_detail(&state, &caller, id).await?;
    Ok(with_etag(StatusCode::OK, d))
}

async fn own_detail(state: &AppState, caller: &Caller, id: UserId) -> ApiResult<UserDetail> {
    user::get_own_detail(&state.ctx, &caller.actor, id)
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// The subtree to list (default: the caller's widest).
    node: Option<Uuid>,
    /// Words of a name, an address or a login (prefix search).
    q: Option<String>,
    /// `administrator` or `user`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    user_type: Option<String>,
    /// `invited`, `active` or `disabled`.
    status: Option<String>,
    /// A service name.
    service: Option<String>,
    /// `name` (default), `name-desc`, `newest`, `oldest`.
    sort: Option<String>,
    /// The `next` of the previous page.
    after: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UserListItemOut {
    pub id: Uuid,
    pub name: String,
    /// Email, or login for a system user.
    pub email: String,
    pub kind: String,
    pub user_type: String,
    pub status: String,
    pub node_id: Uuid,
    pub node_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserListItemOut>,
    /// The cursor of the next page; null on the last.
    pub next: Option<String>,
}

/// The users of a subtree the caller administers, a page at a time (keyset cursor).
#[utoipa::path(operation_id = "users_list", get, path = "/api/v1/users", tag = "users", params(ListParams),
    responses((status = 200, body = UserPage), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<UserPage>> {
    let lang = caller.lang;
    let bad = |field: &'static str| {
        ApiError::from_core(roster_core::Error::field(field, "error-invalid"), lang)
    };
    let user_type = match p.user_type.as_deref() {
        None | Some("") => None,
        Some(t) => Some(UserType::parse(t).ok_or_else(|| bad("type"))?),
    };
    let status = match p.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(UserStatus::parse(s).ok_or_else(|| bad("status"))?),
    };
    // The API names its orders and services exactly (the portal's links may be loose).
    let sort = match p.sort.as_deref() {
        None | Some("") => ListSort::NameAsc,
        Some(s) => ListSort::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| bad("sort"))?,
    };
    let service = match p.service {
        Some(s) if !s.is_empty() => {
            if !state.ctx.settings.catalog.has(&s) {
                return Err(bad("service"));
            }
            Some(s)
        }
        _ => None,
    };
    let filter = ListFilter {
        node: p.node.map(NodeId),
        search: p.q.unwrap_or_default(),
        user_type,
        status,
        service,
        sort,
        after: p.after.filter(|a| !a.is_empty()),
    };
    let page = user::list_users(&state.ctx, &caller.actor, &filter)
        .await
        .map_err(|e| ApiError::from_core(e, lang))?;
    Ok(Json(UserPage {
        items: page
            .users
            .into_iter()
            .map(|u| UserListItemOut {
                id: u.id.0,
                name: u.name,
                email: u.email,
                kind: if u.is_system { "system" } else { "person" }.into(),
                user_type: u.user_type.as_str().into(),
                status: u.status.as_str().into(),
                node_id: u.node_id.0,
                node_name: u.node_name,
            })
            .collect(),
        next: page.next,
    }))
}

/// One user in the caller's scope.
#[utoipa::path(operation_id = "users_get", get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses((status = 200, body = UserOut, headers(("ETag" = String, description = "\"v<version>\""))),
              (status = 404, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath,
) -> ApiResult<Response> {
    let d = user::get_user(&state.ctx, &caller.actor, UserId(id))
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(with_etag(StatusCode::OK, d))
}

/// A new user: a person (invited by email unless `invite` is false) or a system user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    /// The unit or account the user belongs to.
    pub node_id: Uuid,
    /// `person` (default) or `system`.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub email: String,
    /// For a system user: a-z and 0-9.
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    /// `user` (default) or `administrator`.
    #[serde(default)]
    pub user_type: Option<String>,
    /// `en`, `nl` or `sv` (default: en).
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub country_code: String,
    /// E.164 (`+46701234567`), or national with `country_code`.
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub receive_invoices: bool,
    #[serde(default)]
    pub services: Vec<String>,
    /// Send the invitation email (default true; persons only).
    #[serde(default)]
    pub invite: Option<bool>,
    /// A personal message in the invitation.
    #[serde(default)]
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserCreated {
    #[serde(flatten)]
    pub user: UserOut,
    /// A system user's generated secret: shown once, in this answer only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[utoipa::path(operation_id = "users_create", post, path = "/api/v1/users", tag = "users", request_body = UserCreate,
    responses((status = 201, body = UserCreated), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiJson(b): ApiJson<UserCreate>,
) -> ApiResult<Response> {
    let lang = caller.lang;
    let system = match b.kind.as_deref() {
        None | Some("person") => false,
        Some("system") => true,
        Some(_) => {
            return Err(ApiError::from_core(
                roster_core::Error::field("kind", "error-invalid"),
                lang,
            ));
        }
    };
    let input = NewUser {
        system,
        profile: ProfileInput {
            first_name: b.first_name,
            last_name: b.last_name,
            user_type: b.user_type.unwrap_or_else(|| "user".into()),
            language: b.language.unwrap_or_else(|| "en".into()),
            country_code: b.country_code.clone(),
            phone_country: b.country_code,
            phone_number: b.phone,
            receive_invoices: b.receive_invoices,
            ..Default::default()
        },
        email: b.email,
        login: b.login,
        message: b.message,
        services: b.services,
        password: if system || b.invite.unwrap_or(true) {
            PasswordChoice::Invite
        } else {
            PasswordChoice::SetNow(
                user::generate_password().map_err(|e| ApiError::from_core(e, lang))?,
            )
        },
        friendly_name: String::new(),
        provider_named: false,
        disabled: false,
    };
    let created = user::create_user(&state.ctx, &caller.actor, NodeId(b.node_id), &input)
        .await
        .map_err(|e| ApiError::from_core(e, lang))?;
    let d = user::get_user(&state.ctx, &caller.actor, created.id)
        .await
        .map_err(|e| ApiError::from_core(e, lang))?;
    let tag = etag(d.version);
    let body = UserCreated {
        user: out(d),
        secret: created.secret,
    };
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/users/{}", created.id.0)) {
        h.insert(header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    Ok(res)
}

/// The fields to change (absent fields stay as they are).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields, default)]
pub struct UserPatch {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub friendly_name: Option<String>,
    pub user_type: Option<String>,
    pub language: Option<String>,
    pub country_code: Option<String>,
    /// E.164; an empty string removes the number.
    pub phone: Option<String>,
    pub receive_invoices: Option<bool>,
    pub notifications_enabled: Option<bool>,
    pub notify_email: Option<bool>,
    pub notify_sms: Option<bool>,
    pub mfa_required: Option<bool>,
    /// `active` or `disabled` (an invited user becomes active by accepting).
    pub status: Option<String>,
    /// The services the user may use (all of them: the list replaces the old one).
    pub services: Option<Vec<String>>,
    /// Moves the user to another unit of the same account.
    pub node_id: Option<Uuid>,
}

#[utoipa::path(operation_id = "users_patch", patch, path = "/api/v1/users/{id}", tag = "users", request_body = UserPatch,
    params(("id" = Uuid, Path, description = "The user's id"),
           ("If-Match" = String, Header, description = "The ETag of the version being changed")),
    responses((status = 200, body = UserOut), (status = 404, body = ErrorBody),
              (status = 412, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 428, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn patch(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
    ApiJson(p): ApiJson<UserPatch>,
) -> ApiResult<Response> {
    let lang = caller.lang;
    let id = UserId(id);
    let core = |e| ApiError::from_core(e, lang);
    let d = user::get_user(&state.ctx, &caller.actor, id)
        .await
        .map_err(core)?;
    let version = expected_version(&headers, d.version, lang)?;
    let active = match p.status.as_deref() {
        None => None,
        Some("active") => Some(true),
        Some("disabled") => Some(false),
        Some(_) => return Err(core(roster_core::Error::field("status", "error-invalid"))),
    };
    // The whole change in one transaction, behind the version If-Match named: a refusal of
    // any field changes nothing.
    let change = UserChange {
        first_name: p.first_name,
        last_name: p.last_name,
        friendly_name: p.friendly_name,
        user_type: p.user_type,
        language: p.language,
        phone: p
            .phone
            .map(|n| (p.country_code.clone().unwrap_or_default(), n)),
        country_code: p.country_code,
        receive_invoices: p.receive_invoices,
        notifications_enabled: p.notifications_enabled,
        notify_email: p.notify_email,
        notify_sms: p.notify_sms,
        mfa_required: p.mfa_required,
        services: p.services,
        active,
        node: p.node_id.map(NodeId),
        ..Default::default()
    };
    user::update_user(&state.ctx, &caller.actor, id, version, &change)
        .await
        .map_err(|e| stale_version(core(e)))?;
    let d = user::get_user(&state.ctx, &caller.actor, id)
        .await
        .map_err(core)?;
    Ok(with_etag(StatusCode::OK, d))
}

#[utoipa::path(operation_id = "users_delete", delete, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = Uuid, Path, description = "The user's id"),
           ("If-Match" = String, Header, description = "The ETag of the version being deleted")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 412, body = ErrorBody), (status = 428, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let lang = caller.lang;
    let id = UserId(id);
    let d = user::get_user(&state.ctx, &caller.actor, id)
        .await
        .map_err(|e| ApiError::from_core(e, lang))?;
    if_match(&headers, d.version, lang)?;
    user::delete_user(&state.ctx, &caller.actor, id)
        .await
        .map_err(|e| ApiError::from_core(e, lang))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends the invitation again (a new link; the old one stops working).
#[utoipa::path(operation_id = "users_resend_invitation", post, path = "/api/v1/users/{id}/invitations", tag = "users",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses((status = 202, description = "Queued for sending"), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn resend_invitation(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
) -> ApiResult<StatusCode> {
    roster_core::domain::invitation::resend_invitation(&state.ctx, &caller.actor, UserId(id))
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Serialize, ToSchema)]
pub struct SessionOut {
    /// The session's public handle (never its cookie).
    pub id: Uuid,
    pub signed_in_at: String,
    pub last_seen_at: String,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionOut>,
}

/// The user's sign-in sessions (the user themself, or an administrator in scope).
#[utoipa::path(operation_id = "users_sessions", get, path = "/api/v1/users/{id}/sessions", tag = "users",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses((status = 200, body = SessionList), (status = 404, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn sessions(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath,
) -> ApiResult<Json<SessionList>> {
    let t = roster_core::domain::me::get_me(&state.ctx, &caller.actor, UserId(id))
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(Json(SessionList {
        items: t
            .sessions
            .into_iter()
            .map(|s| SessionOut {
                id: s.id.0,
                signed_in_at: s.signed_in_at.to_rfc3339(),
                last_seen_at: s.last_seen_at.to_rfc3339(),
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect(),
    }))
}

/// Ends one of the user's sessions: that browser is signed out at once.
#[utoipa::path(operation_id = "users_end_session", delete, path = "/api/v1/users/{id}/sessions/{session}", tag = "users",
    params(("id" = Uuid, Path, description = "The user's id"),
           ("session" = Uuid, Path, description = "The session's handle")),
    responses((status = 204), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn end_session(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPathPair(id, session): ApiPathPair,
) -> ApiResult<StatusCode> {
    let lang = caller.lang;
    roster_core::domain::me::end_session(&state.ctx, &caller.actor, UserId(id), SessionId(session))
        .await
        .map_err(|e| ApiError::from_core(e, lang))?;
    Ok(StatusCode::NO_CONTENT)
}
