//! The user page's forms: each calls one domain command, then shows the page again.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::domain::Actor;
use roster_core::domain::user::{self, UserChange};
use roster_core::model::{NodeId, UserId};
use roster_core::{Error, i18n};
use serde::Deserialize;

use super::page::{Rejected, rejected};
use crate::extract::{CsrfForm, CurrentActor, UserPath};
use crate::page::{Fields, Frame, PageError, bad_form, redirect, render};
use crate::state::AppState;

pub(super) fn parse_id(id: &str, actor: &Actor) -> Result<UserId, Response> {
    UserId::parse(id)
        .ok_or_else(|| PageError::from_core(Error::NotFound, actor.lang, None).into_response())
}

/// After a section's command: back to the page with a notice, or the page with the problems.
pub(super) async fn done(
    state: &AppState,
    actor: &Actor,
    id: UserId,
    section: &'static str,
    values: Option<Fields>,
    result: roster_core::Result<()>,
) -> Response {
    match result {
        Ok(()) => redirect(&format!("/users/{id}?saved={section}#{section}")),
        Err(e) => match Rejected::from_error(section, values, e) {
            Ok((status, r)) => rejected(state, actor, id, status, r).await,
            Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
        },
    }
}

fn version(f: &Fields) -> i64 {
    f.get("version").parse().unwrap_or(-1)
}

const SETTINGS: &[&str] = &[
    "version",
    "first_name",
    "last_name",
    "friendly_name",
    "country_code",
    "language",
    "user_type",
    "phone_country",
    "phone_number",
    "receive_invoices",
    "notifications_enabled",
    "notify_email",
    "notify_sms",
    "mfa_required",
];

pub async fn update_settings(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, f): CsrfForm<Fields>,
) -> Response {
    if !f.check(SETTINGS, &[]) {
        return bad_form(actor.lang);
    }
    // The section's form carries every field: a box left unticked is false.
    let change = UserChange {
        first_name: Some(f.get("first_name")),
        last_name: Some(f.get("last_name")),
        friendly_name: Some(f.get("friendly_name")),
        user_type: Some(f.get("user_type")),
        language: Some(f.get("language")),
        country_code: Some(f.get("country_code")),
        phone: Some((f.get("phone_country"), f.get("phone_number"))),
        receive_invoices: Some(f.flag("receive_invoices")),
        notifications_enabled: Some(f.flag("notifications_enabled")),
        notify_email: Some(f.flag("notify_email")),
        notify_sms: Some(f.flag("notify_sms")),
        mfa_required: Some(f.flag("mfa_required")),
        ..Default::default()
    };
    let result = user::update_user(&state.ctx, &actor, id, version(&f), &change).await;
    done(&state, &actor, id, "settings", Some(f), result).await
}

pub async fn set_services(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, f): CsrfForm<Fields>,
) -> Response {
    if !f.check(&["version"], &["services"]) {
        return bad_form(actor.lang);
    }
    let change = UserChange {
        services: Some(f.all("services")),
        ..Default::default()
    };
    let result = user::update_user(&state.ctx, &actor, id, version(&f), &change).await;
    done(&state, &actor, id, "services", None, result).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveForm {
    version: i64,
    node: String,
}

pub async fn move_user(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, f): CsrfForm<MoveForm>,
) -> Response {
    let result = match NodeId::parse(&f.node) {
        Some(node) => {
            let change = UserChange {
                node: Some(node),
                ..Default::default()
            };
            user::update_user(&state.ctx, &actor, id, f.version, &change).await
        }
        None => Err(Error::field("node", "move-target-invalid")),
    };
    done(&state, &actor, id, "belonging", None, result).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessForm {
    #[serde(default)]
    email: String,
}

pub async fn add_access(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, f): CsrfForm<AccessForm>,
) -> Response {
    let result = user::add_access(&state.ctx, &actor, id, &f.email).await;
    done(&state, &actor, id, "access", None, result).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyForm {}

pub async fn remove_access(
    State(state): State<AppState>,
    Path((id, subject)): Path<(String, String)>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    let (id, subject) = match (parse_id(&id, &actor), parse_id(&subject, &actor)) {
        (Ok(id), Ok(subject)) => (id, subject),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let result = user::remove_access(&state.ctx, &actor, id, subject).await;
    done(&state, &actor, id, "access", None, result).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordForm {
    version: i64,
    #[serde(default)]
    password: String,
}

pub async fn set_password(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, f): CsrfForm<PasswordForm>,
) -> Response {
    let result = user::set_password(&state.ctx, &actor, id, f.version, &f.password).await;
    done(&state, &actor, id, "password", None, result).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotesForm {
    version: i64,
    #[serde(default)]
    notes: String,
}

pub async fn set_notes(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, f): CsrfForm<NotesForm>,
) -> Response {
    let change = UserChange {
        notes: Some(f.notes.clone()),
        ..Default::default()
    };
    let result = user::update_user(&state.ctx, &actor, id, f.version, &change).await;
    let values = Fields(vec![("notes".into(), f.notes)]);
    done(&state, &actor, id, "notes", Some(values), result).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusForm {
    version: i64,
    active: bool,
}

pub async fn set_status(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, f): CsrfForm<StatusForm>,
) -> Response {
    let change = UserChange {
        active: Some(f.active),
        ..Default::default()
    };
    let result = user::update_user(&state.ctx, &actor, id, f.version, &change).await;
    done(&state, &actor, id, "status", None, result).await
}

#[derive(Template)]
#[template(path = "users/delete.html")]
struct DeletePage {
    frame: Frame,
    id: String,
    name: String,
    problem: String,
}

/// The confirmation before Delete user.
pub async fn show_delete(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    UserPath(id): UserPath,
) -> Response {
    match user::get_user(&state.ctx, &actor, id).await {
        Ok(u) => render(
            StatusCode::OK,
            &DeletePage {
                frame: Frame::signed_in(&actor, "users"),
                id: id.to_string(),
                name: u.display_name(),
                problem: String::new(),
            },
        ),
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

pub async fn delete_user(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    let name = user::get_user(&state.ctx, &actor, id)
        .await
        .map(|u| u.display_name());
    match user::delete_user(&state.ctx, &actor, id).await {
        Ok(()) => redirect("/users"),
        Err(Error::Conflict(code)) => {
            let page = DeletePage {
                frame: Frame::signed_in(&actor, "users"),
                id: id.to_string(),
                name: name.unwrap_or_default(),
                problem: i18n::t(actor.lang, code),
            };
            render(StatusCode::CONFLICT, &page)
        }
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

/// Resend invitation: a new link, the old one void.
pub async fn resend_invitation(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    let result = roster_core::domain::invitation::resend_invitation(&state.ctx, &actor, id).await;
    done(&state, &actor, id, "invitation", None, result).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailForm {
    version: i64,
    #[serde(default)]
    email: String,
}

/// A new address, in force once it confirms the link sent to it.
pub async fn change_email(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, f): CsrfForm<EmailForm>,
) -> Response {
    let result = roster_core::domain::email::request_email_change(
        &state.ctx, &actor, id, f.version, &f.email,
    )
    .await;
    done(&state, &actor, id, "email", None, result).await
}
