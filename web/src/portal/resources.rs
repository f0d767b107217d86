//! "Resources" in the portal: the address books and public addresses a unit or account shares
//! (on its page and the Account tab), a user's own books (on the user page), and a book's page
//! with its contacts, CSV import and export.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_core::domain::Actor;
use roster_core::domain::public_address::{self, PublicAddress};
use roster_core::domain::resource::{self, BadLine, Book, Contact, NewContact, Owner};
use roster_core::model::{NodeId, UserId};
use roster_core::{Error, i18n};
use serde::Deserialize;
use uuid::Uuid;

use crate::extract::{CsrfForm, CurrentActor, UserPath, csrf_matches};
use crate::page::{Fields, FormErrors, Frame, PageError, bad_form, redirect, render, safe_next};
use crate::portal::users::page::Rejected;
use crate::state::AppState;

/// A unit's or account's shared books and public addresses, for its page.
pub struct NodeResources {
    pub node: String,
    pub back: String,
    pub books: Vec<Book>,
    pub publics: Vec<PublicAddress>,
}

impl NodeResources {
    /// None for the operator root (books belong to accounts and units).
    pub async fn load(
        state: &AppState,
        actor: &Actor,
        node: NodeId,
        kind: &str,
        back: &str,
    ) -> roster_core::Result<Option<NodeResources>> {
        if kind == "operator" {
            return Ok(None);
        }
        Ok(Some(NodeResources {
            node: node.to_string(),
            back: back.to_string(),
            books: resource::books_of_node(&state.ctx, actor, node).await?,
            publics: public_address::public_addresses(&state.ctx, actor, node).await?,
        }))
    }
}

fn not_found(actor: &Actor) -> Response {
    PageError::from_core(Error::NotFound, actor.lang, None).into_response()
}

fn uuid_of(s: &str, actor: &Actor) -> Result<Uuid, Response> {
    Uuid::parse_str(s).map_err(|_| not_found(actor))
}

/// A refused form of a node's section, shown again with what was typed and each problem.
#[derive(Template)]
#[template(path = "portal/resource_refused.html")]
struct RefusedPage {
    frame: Frame,
    heading: &'static str,
    action: String,
    /// (name, label key, typed value)
    fields: Vec<(&'static str, &'static str, String)>,
    back: String,
    errors: FormErrors,
    problem: String,
}

/// After a node section's command: back with a notice, or the form again with its problems.
#[allow(clippy::too_many_arguments)]
fn node_done(
    actor: &Actor,
    result: roster_core::Result<()>,
    back: &str,
    notice: &str,
    heading: &'static str,
    action: String,
    fields: Vec<(&'static str, &'static str, String)>,
) -> Response {
    let back = safe_next(back).to_string();
    match result {
        Ok(()) => {
            let join = if back.contains('?') { '&' } else { '?' };
            redirect(&format!("{back}{join}saved={notice}#{notice}"))
        }
        Err(e) => {
            let (status, errors, problem) = match e {
                Error::Invalid(list) => (StatusCode::UNPROCESSABLE_ENTITY, list, String::new()),
                Error::Conflict(code) => (StatusCode::CONFLICT, vec![], i18n::t(actor.lang, code)),
                other => return PageError::from_core(other, actor.lang, None).into_response(),
            };
            render(
                status,
                &RefusedPage {
                    frame: Frame::signed_in(actor, "users"),
                    heading,
                    action,
                    fields,
                    back,
                    errors: FormErrors::new(actor.lang, errors),
                    problem,
                },
            )
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    back: String,
}

pub async fn create_node_book(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, f): CsrfForm<BookForm>,
) -> Response {
    let Some(node) = NodeId::parse(&id) else {
        return not_found(&actor);
    };
    let result = resource::create_book(&state.ctx, &actor, Owner::Node(node), &f.name)
        .await
        .map(|_| ());
    node_done(
        &actor,
        result,
        &f.back,
        "books",
        "book-new",
        format!("/nodes/{node}/books"),
        vec![("name", "book-name", f.name)],
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicForm {
    #[serde(default)]
    address: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    back: String,
}

pub async fn add_public(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, f): CsrfForm<PublicForm>,
) -> Response {
    let Some(node) = NodeId::parse(&id) else {
        return not_found(&actor);
    };
    let result = public_address::add_public_address(&state.ctx, &actor, node, &f.address, &f.label)
        .await
        .map(|_| ());
    node_done(
        &actor,
        result,
        &f.back,
        "publics",
        "public-add",
        format!("/nodes/{node}/public"),
        vec![
            ("address", "public-address", f.address),
            ("label", "public-label", f.label),
        ],
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackForm {
    #[serde(default)]
    back: String,
}

pub async fn remove_public(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, f): CsrfForm<BackForm>,
) -> Response {
    let id = match uuid_of(&id, &actor) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let result = public_address::remove_public_address(&state.ctx, &actor, id).await;
    node_done(
        &actor,
        result,
        &f.back,
        "publics",
        "publics-title",
        String::new(),
        vec![],
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicUserForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    back: String,
}

pub async fn allow_public_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, f): CsrfForm<PublicUserForm>,
) -> Response {
    let id = match uuid_of(&id, &actor) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let result = public_address::allow_user(&state.ctx, &actor, id, &f.user).await;
    node_done(
        &actor,
        result,
        &f.back,
        "publics",
        "public-allow",
        format!("/public/{id}/users"),
        vec![("user", "public-user", f.user)],
    )
}

pub async fn disallow_public_user(
    State(state): State<AppState>,
    Path((id, user)): Path<(String, String)>,
    CsrfForm(actor, f): CsrfForm<BackForm>,
) -> Response {
    let (id, user) = match (uuid_of(&id, &actor), uuid_of(&user, &actor)) {
        (Ok(id), Ok(user)) => (id, user),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let result = public_address::disallow_user(&state.ctx, &actor, id, UserId(user)).await;
    node_done(
        &actor,
        result,
        &f.back,
        "publics",
        "publics-title",
        String::new(),
        vec![],
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserBookForm {
    #[serde(default)]
    name: String,
}

/// A book of the user's own, from the user page's "Resources".
pub async fn create_user_book(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, f): CsrfForm<UserBookForm>,
) -> Response {
    let result = resource::create_book(&state.ctx, &actor, Owner::User(id), &f.name)
        .await
        .map(|_| ());
    match result {
        Ok(()) => redirect(&format!("/users/{id}?saved=resources#resources")),
        Err(e) => {
            let values = Some(Fields(vec![("book_name".into(), f.name)]));
            match Rejected::from_error("resources", values, e) {
                Ok((status, r)) => {
                    crate::portal::users::page::rejected(&state, &actor, id, status, r).await
                }
                Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "portal/book.html")]
struct BookPage {
    frame: Frame,
    book: Book,
    contacts: Vec<Contact>,
    back: String,
    typed: Fields,
    errors: FormErrors,
    /// Which form the errors belong to: `contact` or `import`.
    section: &'static str,
    problem: String,
    notice: String,
}

impl BookPage {
    /// Each problem of a refused import with the column it is in.
    pub fn import_errors(&self) -> Vec<String> {
        let t = self.frame.t;
        self.errors
            .list
            .iter()
            .map(|e| {
                let message = i18n::t(self.errors.lang, e.code);
                if resource::CSV_COLUMNS.contains(&e.field) {
                    format!("{}: {message}", t.get(&format!("contact-{}", e.field)))
                } else {
                    message
                }
            })
            .collect()
    }
}

/// Where a book's page leads back to: its unit's or account's page, or its user's.
fn back_of(book: &Book) -> String {
    match book.owner {
        Owner::Node(n) if book.node_kind == "account" => format!("/account?node={n}#books"),
        Owner::Node(n) => format!("/units/{n}#books"),
        Owner::User(u) => format!("/users/{u}#resources"),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BookQuery {
    saved: String,
}

/// What a book's page shows beside the book: a notice, or a refused form's problems.
struct Shown {
    status: StatusCode,
    section: &'static str,
    typed: Fields,
    errors: Vec<roster_core::FieldError>,
    problem: String,
    notice: String,
}

impl Shown {
    fn ok(notice: &str, section: &'static str) -> Shown {
        Shown {
            status: StatusCode::OK,
            section,
            typed: Fields::default(),
            errors: vec![],
            problem: String::new(),
            notice: notice.to_string(),
        }
    }

    fn refused(
        section: &'static str,
        typed: Fields,
        errors: Vec<roster_core::FieldError>,
        problem: String,
    ) -> Shown {
        Shown {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            section,
            typed,
            errors,
            problem,
            notice: String::new(),
        }
    }
}

async fn book_page(state: &AppState, actor: &Actor, id: Uuid, shown: Shown) -> Response {
    let Shown {
        status,
        section,
        typed,
        errors,
        problem,
        notice,
    } = shown;
    match resource::book(&state.ctx, actor, id).await {
        Ok((book, contacts)) => render(
            status,
            &BookPage {
                frame: Frame::signed_in(actor, "users"),
                back: back_of(&book),
                book,
                contacts,
                typed,
                errors: FormErrors::new(actor.lang, errors),
                section,
                problem,
                notice: match notice.as_str() {
                    "book" => i18n::t(actor.lang, "saved-book"),
                    "import" => i18n::t(actor.lang, "book-imported"),
                    _ => String::new(),
                },
            },
        ),
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

pub async fn show_book(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<BookQuery>,
) -> Response {
    let id = match uuid_of(&id, &actor) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let section = if q.saved == "import" {
        "import"
    } else {
        "contact"
    };
    book_page(&state, &actor, id, Shown::ok(&q.saved, section)).await
}

pub async fn add_contact(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, f): CsrfForm<Fields>,
) -> Response {
    let id = match uuid_of(&id, &actor) {
        Ok(id) => id,
        Err(r) => return r,
    };
    if !f.check(&["name", "mobile", "fax", "email", "notes"], &[]) {
        return bad_form(actor.lang);
    }
    let input = NewContact {
        name: f.get("name"),
        mobile: f.get("mobile"),
        fax: f.get("fax"),
        email: f.get("email"),
        notes: f.get("notes"),
    };
    match resource::add_contact(&state.ctx, &actor, id, &input).await {
        Ok(_) => redirect(&format!("/books/{id}?saved=book#contacts")),
        Err(Error::Invalid(list)) => {
            book_page(
                &state,
                &actor,
                id,
                Shown::refused("contact", f, list, String::new()),
            )
            .await
        }
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyForm {}

pub async fn remove_contact(
    State(state): State<AppState>,
    Path((id, contact)): Path<(String, String)>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    let (id, contact) = match (uuid_of(&id, &actor), uuid_of(&contact, &actor)) {
        (Ok(id), Ok(c)) => (id, c),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    match resource::remove_contact(&state.ctx, &actor, id, contact).await {
        Ok(()) => redirect(&format!("/books/{id}?saved=book#contacts")),
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

pub async fn delete_book(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    let id = match uuid_of(&id, &actor) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let back = match resource::book(&state.ctx, &actor, id).await {
        Ok((book, _)) => back_of(&book),
        Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    match resource::delete_book(&state.ctx, &actor, id).await {
        Ok(()) => {
            let (path, anchor) = back.split_once('#').unwrap_or((&back, ""));
            let join = if path.contains('?') { '&' } else { '?' };
            let notice = if anchor == "resources" {
                "resources"
            } else {
                "books"
            };
            redirect(&format!("{path}{join}saved={notice}#{anchor}"))
        }
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

pub async fn export(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Response {
    let id = match uuid_of(&id, &actor) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match resource::export_csv(&state.ctx, &actor, id).await {
        Ok((book, text)) => {
            let file: String = book
                .name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            crate::page::csv_response(text, &format!("{file}.csv"))
        }
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

/// The CSV import (multipart, CSRF-checked): all lines or none; a bad line is named.
pub async fn import(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let id = match uuid_of(&id, &actor) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let (mut token, mut bytes) = (None, None);
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or("").to_string();
        match field.bytes().await {
            Ok(b) if name == "csrf" => token = Some(String::from_utf8_lossy(&b).to_string()),
            Ok(b) if name == "csv" => bytes = Some(b.to_vec()),
            _ => return bad_form(actor.lang),
        }
    }
    if !csrf_matches(&headers, &state, &actor.csrf_token, token.as_deref()) {
        return PageError::new(StatusCode::FORBIDDEN, "error-csrf", actor.lang, None)
            .into_response();
    }
    let refused = |problem: String, list| {
        let state = state.clone();
        let actor = actor.clone();
        async move {
            book_page(
                &state,
                &actor,
                id,
                Shown::refused("import", Fields::default(), list, problem),
            )
            .await
        }
    };
    let Ok(text) = String::from_utf8(bytes.unwrap_or_default()) else {
        return refused(i18n::t(actor.lang, "csv-not-utf8"), vec![]).await;
    };
    match resource::import_csv(&state.ctx, &actor, id, &text).await {
        Ok(Ok(_)) => redirect(&format!("/books/{id}?saved=import#contacts")),
        Ok(Err(BadLine { line, problems })) => {
            let problem = i18n::t_args(actor.lang, "csv-bad-line", &[("line", line.into())]);
            refused(problem, problems).await
        }
        Err(Error::Invalid(list)) => refused(String::new(), list).await,
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}
