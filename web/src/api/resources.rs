//! "Resources" through the API: address books of a unit, an account or a user, their contacts
//! (one by one, or CSV in and out), and the public addresses of a unit or account with the
//! users who may use them; `GET /api/v1/users/{id}/resources` lists what a user can use.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use roster_core::domain::public_address::{self, PublicAddress};
use roster_core::domain::resource::{self, Book, Contact, NewContact, Owner};
use roster_core::model::{NodeId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{Caller, Writer};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::{ApiJson, ApiPath, ApiPathPair, MAX_BODY, created};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct BookOut {
    pub id: Uuid,
    pub name: String,
    /// The unit or account that shares it (null for a user's own).
    pub owner_node_id: Option<Uuid>,
    /// The user it belongs to (null for a shared one).
    pub owner_user_id: Option<Uuid>,
    /// The unit or account it sits at.
    pub node_name: String,
    pub contacts: i64,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct BookList {
    pub items: Vec<BookOut>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookCreate {
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct ContactOut {
    pub id: Uuid,
    pub name: String,
    /// E.164, or "".
    pub mobile: String,
    pub fax: String,
    pub email: String,
    pub notes: String,
}

#[derive(Serialize, ToSchema)]
pub struct BookDetail {
    #[serde(flatten)]
    pub book: BookOut,
    pub items: Vec<ContactOut>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactCreate {
    pub name: String,
    #[serde(default)]
    pub mobile: String,
    #[serde(default)]
    pub fax: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub notes: String,
}

#[derive(Serialize, ToSchema)]
pub struct Imported {
    pub imported: usize,
}

#[derive(Serialize, ToSchema)]
pub struct PublicUserOut {
    pub id: Uuid,
    /// Their sign-in address or login.
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct PublicOut {
    pub id: Uuid,
    /// `email` or `number`.
    pub kind: String,
    pub address: String,
    pub label: String,
    pub node_id: Uuid,
    pub node_name: String,
    pub users: Vec<PublicUserOut>,
}

#[derive(Serialize, ToSchema)]
pub struct PublicList {
    pub items: Vec<PublicOut>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicCreate {
    /// An email address, or a number (E.164, or national in the account's country).
    pub address: String,
    #[serde(default)]
    pub label: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicUserAdd {
    /// The user's sign-in address or login.
    pub user: String,
}

#[derive(Serialize, ToSchema)]
pub struct Resources {
    pub address_books: Vec<BookOut>,
    pub public_addresses: Vec<PublicOut>,
}

fn book_out(b: Book) -> BookOut {
    let (owner_node_id, owner_user_id) = match b.owner {
        Owner::Node(n) => (Some(n.0), None),
        Owner::User(u) => (None, Some(u.0)),
    };
    BookOut {
        id: b.id,
        name: b.name,
        owner_node_id,
        owner_user_id,
        node_name: b.node_name,
        contacts: b.contacts,
        created_at: b.created_at.to_rfc3339(),
    }
}

fn contact_out(c: Contact) -> ContactOut {
    ContactOut {
        id: c.id,
        name: c.name,
        mobile: c.mobile,
        fax: c.fax,
        email: c.email,
        notes: c.notes,
    }
}

fn public_out(p: PublicAddress) -> PublicOut {
    PublicOut {
        id: p.id,
        kind: p.kind,
        address: p.address,
        label: p.label,
        node_id: p.node_id.0,
        node_name: p.node_name,
        users: p
            .users
            .into_iter()
            .map(|(id, name)| PublicUserOut { id: id.0, name })
            .collect(),
    }
}

async fn create_book(
    state: &AppState,
    caller: &Caller,
    owner: Owner,
    b: BookCreate,
) -> ApiResult<Response> {
    let err = |e| ApiError::from_core(e, caller.lang);
    let id = resource::create_book(&state.ctx, &caller.actor, owner, &b.name)
        .await
        .map_err(err)?;
    let (book, _) = resource::book(&state.ctx, &caller.actor, id)
        .await
        .map_err(err)?;
    Ok(created(
        format!("/api/v1/address-books/{id}"),
        book_out(book),
    ))
}

#[utoipa::path(operation_id = "nodes_address_books", get, path = "/api/v1/nodes/{id}/address-books", tag = "resources",
    params(("id" = Uuid, Path, description = "The unit's or account's id")),
    responses((status = 200, body = BookList), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn node_books(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath,
) -> ApiResult<Json<BookList>> {
    let items = resource::books_of_node(&state.ctx, &caller.actor, NodeId(id))
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(Json(BookList {
        items: items.into_iter().map(book_out).collect(),
    }))
}

/// A book shared with everyone below the unit or account.
#[utoipa::path(operation_id = "nodes_add_address_book", post, path = "/api/v1/nodes/{id}/address-books", tag = "resources",
    params(("id" = Uuid, Path, description = "The unit's or account's id")), request_body = BookCreate,
    responses((status = 201, body = BookOut), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn node_add_book(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    ApiJson(b): ApiJson<BookCreate>,
) -> ApiResult<Response> {
    create_book(&state, &caller, Owner::Node(NodeId(id)), b).await
}

/// The user's own books and those shared with them by their units and account.
#[utoipa::path(operation_id = "users_resources", get, path = "/api/v1/users/{id}/resources", tag = "resources",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses((status = 200, body = Resources), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn user_resources(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath,
) -> ApiResult<Json<Resources>> {
    let err = |e| ApiError::from_core(e, caller.lang);
    let books = resource::books_of_user(&state.ctx, &caller.actor, UserId(id))
        .await
        .map_err(err)?;
    let publics = public_address::publics_of_user(&state.ctx, &caller.actor, UserId(id))
        .await
        .map_err(err)?;
    Ok(Json(Resources {
        address_books: books.into_iter().map(book_out).collect(),
        public_addresses: publics.into_iter().map(public_out).collect(),
    }))
}

/// A book of the user's own.
#[utoipa::path(operation_id = "users_add_address_book", post, path = "/api/v1/users/{id}/address-books", tag = "resources",
    params(("id" = Uuid, Path, description = "The user's id")), request_body = BookCreate,
    responses((status = 201, body = BookOut), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn user_add_book(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    ApiJson(b): ApiJson<BookCreate>,
) -> ApiResult<Response> {
    create_book(&state, &caller, Owner::User(UserId(id)), b).await
}

#[utoipa::path(operation_id = "address_books_get", get, path = "/api/v1/address-books/{id}", tag = "resources",
    params(("id" = Uuid, Path, description = "The book's id")),
    responses((status = 200, body = BookDetail), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn book(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath,
) -> ApiResult<Json<BookDetail>> {
    let (book, contacts) = resource::book(&state.ctx, &caller.actor, id)
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(Json(BookDetail {
        book: book_out(book),
        items: contacts.into_iter().map(contact_out).collect(),
    }))
}

#[utoipa::path(operation_id = "address_books_delete", delete, path = "/api/v1/address-books/{id}", tag = "resources",
    params(("id" = Uuid, Path, description = "The book's id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn delete_book(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
) -> ApiResult<StatusCode> {
    resource::delete_book(&state.ctx, &caller.actor, id)
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(operation_id = "address_books_add_contact", post, path = "/api/v1/address-books/{id}/contacts", tag = "resources",
    params(("id" = Uuid, Path, description = "The book's id")), request_body = ContactCreate,
    responses((status = 201, body = ContactOut), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn add_contact(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    ApiJson(b): ApiJson<ContactCreate>,
) -> ApiResult<Response> {
    let err = |e| ApiError::from_core(e, caller.lang);
    let input = NewContact {
        name: b.name,
        mobile: b.mobile,
        fax: b.fax,
        email: b.email,
        notes: b.notes,
    };
    let new = resource::add_contact(&state.ctx, &caller.actor, id, &input)
        .await
        .map_err(err)?;
    let (_, contacts) = resource::book(&state.ctx, &caller.actor, id)
        .await
        .map_err(err)?;
    let c = contacts
        .into_iter()
        .find(|c| c.id == new)
        .ok_or(ApiError::new(
            StatusCode::NOT_FOUND,
            "error-not-found",
            caller.lang,
        ))?;
    Ok(created(
        format!("/api/v1/address-books/{id}/contacts/{new}"),
        contact_out(c),
    ))
}

#[utoipa::path(operation_id = "address_books_remove_contact", delete, path = "/api/v1/address-books/{id}/contacts/{contact}", tag = "resources",
    params(("id" = Uuid, Path, description = "The book's id"), ("contact" = Uuid, Path, description = "The contact's id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn remove_contact(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPathPair(id, contact): ApiPathPair,
) -> ApiResult<StatusCode> {
    resource::remove_contact(&state.ctx, &caller.actor, id, contact)
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The book's contacts as CSV (`name,mobile,fax,email,notes`).
#[utoipa::path(operation_id = "address_books_export", get, path = "/api/v1/address-books/{id}/contacts.csv", tag = "resources",
    params(("id" = Uuid, Path, description = "The book's id")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath,
) -> ApiResult<Response> {
    let (_, text) = resource::export_csv(&state.ctx, &caller.actor, id)
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(crate::page::csv_response(
        text,
        &format!("contacts-{id}.csv"),
    ))
}

/// Adds the contacts of a CSV file (a header line naming the columns, then one contact a
/// line); one bad line refuses the whole file and is named.
#[utoipa::path(operation_id = "address_books_import", post, path = "/api/v1/address-books/{id}/contacts.csv", tag = "resources",
    params(("id" = Uuid, Path, description = "The book's id")), request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = Imported), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn import(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    body: Bytes,
) -> ApiResult<Response> {
    let lang = caller.lang;
    if body.len() > MAX_BODY {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "api-body-too-large",
            lang,
        ));
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "csv-not-utf8", lang));
    };
    match resource::import_csv(&state.ctx, &caller.actor, id, text).await {
        Ok(Ok(n)) => Ok((StatusCode::CREATED, Json(Imported { imported: n })).into_response()),
        Ok(Err(bad)) => Err(ApiError {
            fields: bad.problems,
            line: Some(bad.line),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "csv-bad-line", lang)
        }),
        Err(e) => Err(ApiError::from_core(e, lang)),
    }
}

#[utoipa::path(operation_id = "nodes_public_addresses", get, path = "/api/v1/nodes/{id}/public-addresses", tag = "resources",
    params(("id" = Uuid, Path, description = "The unit's or account's id")),
    responses((status = 200, body = PublicList), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn node_publics(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath,
) -> ApiResult<Json<PublicList>> {
    let items = public_address::public_addresses(&state.ctx, &caller.actor, NodeId(id))
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(Json(PublicList {
        items: items.into_iter().map(public_out).collect(),
    }))
}

#[utoipa::path(operation_id = "nodes_add_public_address", post, path = "/api/v1/nodes/{id}/public-addresses", tag = "resources",
    params(("id" = Uuid, Path, description = "The unit's or account's id")), request_body = PublicCreate,
    responses((status = 201, body = PublicOut), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn node_add_public(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    ApiJson(b): ApiJson<PublicCreate>,
) -> ApiResult<Response> {
    let err = |e| ApiError::from_core(e, caller.lang);
    let new = public_address::add_public_address(
        &state.ctx,
        &caller.actor,
        NodeId(id),
        &b.address,
        &b.label,
    )
    .await
    .map_err(err)?;
    let found = public_address::public_addresses(&state.ctx, &caller.actor, NodeId(id))
        .await
        .map_err(err)?
        .into_iter()
        .find(|p| p.id == new)
        .ok_or(ApiError::new(
            StatusCode::NOT_FOUND,
            "error-not-found",
            caller.lang,
        ))?;
    Ok(created(
        format!("/api/v1/public-addresses/{new}"),
        public_out(found),
    ))
}

#[utoipa::path(operation_id = "public_addresses_delete", delete, path = "/api/v1/public-addresses/{id}", tag = "resources",
    params(("id" = Uuid, Path, description = "The public address's id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn delete_public(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
) -> ApiResult<StatusCode> {
    public_address::remove_public_address(&state.ctx, &caller.actor, id)
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lets a user below the address's unit use it.
#[utoipa::path(operation_id = "public_addresses_add_user", post, path = "/api/v1/public-addresses/{id}/users", tag = "resources",
    params(("id" = Uuid, Path, description = "The public address's id")), request_body = PublicUserAdd,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn add_public_user(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPath(id): ApiPath,
    ApiJson(b): ApiJson<PublicUserAdd>,
) -> ApiResult<StatusCode> {
    public_address::allow_user(&state.ctx, &caller.actor, id, &b.user)
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(operation_id = "public_addresses_remove_user", delete, path = "/api/v1/public-addresses/{id}/users/{user}", tag = "resources",
    params(("id" = Uuid, Path, description = "The public address's id"), ("user" = Uuid, Path, description = "The user's id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = []), ("basic" = [])))]
pub async fn remove_public_user(
    State(state): State<AppState>,
    Writer(caller): Writer,
    ApiPathPair(id, user): ApiPathPair,
) -> ApiResult<StatusCode> {
    public_address::disallow_user(&state.ctx, &caller.actor, id, UserId(user))
        .await
        .map_err(|e| ApiError::from_core(e, caller.lang))?;
    Ok(StatusCode::NO_CONTENT)
}
