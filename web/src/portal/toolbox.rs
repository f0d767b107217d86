//! The toolbox: a user's own profile, password, address and sessions; read-only for an
//! administrator looking at a user (opened in a new window).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::domain::Actor;
use roster_core::domain::api_token::{self, TokenView};
use roster_core::domain::me::{self, Me, OwnProfile};
use roster_core::domain::mfa::{self, Overview};
use roster_core::model::{Lang, SessionId, UserId};
use roster_core::{Error, FieldError, i18n};
use serde::Deserialize;
use uuid::Uuid;

use crate::extract::{CsrfForm, CurrentActor, UserPath};
use crate::page::{
    Fields, FormErrors, Frame, PageError, bad_form, calling_code_options, country_options,
    redirect, render,
};
use crate::state::AppState;

const SAVED: [&str; 10] = [
    "token-revoked",
    "factor",
    "factor-removed",
    "profile",
    "toolbox-password",
    "sessions",
    "sessions-others",
    "toolbox-email",
    "phone-code-sent",
    "phone-verified",
];

#[derive(Template)]
#[template(path = "portal/toolbox.html")]
struct ToolboxPage {
    frame: Frame,
    t: Me,
    phone_country: String,
    phone_number: String,
    section: String,
    notice: String,
    errors: FormErrors,
    countries: Vec<(String, String)>,
    calling_codes: Vec<(String, String)>,
    languages: Vec<(&'static str, &'static str)>,
    mfa: Overview,
    /// The factor forms are the toolbox's, not enrolment's.
    enrolling: bool,
    tokens: Vec<TokenView>,
    /// A token just created: shown in this answer only.
    new_token: Option<String>,
    tokens_editable: bool,
    tokens_action: String,
    tokens_back: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SavedQuery {
    saved: String,
}

async fn page(
    state: &AppState,
    actor: &Actor,
    id: UserId,
    saved: &str,
    rejected: Option<(&str, Vec<FieldError>)>,
) -> Response {
    page_with_token(state, actor, id, saved, rejected, None).await
}

/// The toolbox, with a token just created shown once.
pub async fn page_with_token(
    state: &AppState,
    actor: &Actor,
    id: UserId,
    saved: &str,
    rejected: Option<(&str, Vec<FieldError>)>,
    new_token: Option<String>,
) -> Response {
    let t = match me::get_me(&state.ctx, actor, id).await {
        Ok(t) => t,
        Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    let mfa = match mfa::overview(&state.ctx, actor, id).await {
        Ok(o) => o,
        Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    let (phone_country, phone_number) = me::phone_parts(&t);
    let (status, section, errors) = match rejected {
        Some((section, errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            section.to_string(),
            errors,
        ),
        None => (StatusCode::OK, saved.to_string(), vec![]),
    };
    let notice = if SAVED.contains(&saved) {
        i18n::t(actor.lang, &format!("saved-{saved}"))
    } else {
        String::new()
    };
    let mut frame = Frame::signed_in(actor, "");
    frame.here = "/toolbox".into();
    let page = ToolboxPage {
        frame,
        t,
        phone_country,
        phone_number,
        section,
        notice,
        errors: FormErrors::new(actor.lang, errors),
        countries: country_options(actor.lang),
        calling_codes: calling_code_options(actor.lang),
        languages: Lang::ALL
            .iter()
            .map(|l| (l.code(), l.native_name()))
            .collect(),
        mfa,
        enrolling: false,
        tokens: api_token::list_tokens(&state.ctx, actor, id)
            .await
            .unwrap_or_default(),
        new_token,
        tokens_editable: id == actor.user_id,
        tokens_action: "/toolbox/tokens".into(),
        tokens_back: "/toolbox".into(),
    };
    render(status, &page)
}

pub async fn show_own_toolbox(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(q): Query<SavedQuery>,
) -> Response {
    page(&state, &actor, actor.user_id, &q.saved, None).await
}

/// An administrator's read-only look at a user's toolbox.
pub async fn show_user_toolbox(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    UserPath(id): UserPath,
) -> Response {
    page(&state, &actor, id, "", None).await
}

async fn after(
    state: &AppState,
    actor: &Actor,
    section: &'static str,
    saved: &str,
    result: roster_core::Result<()>,
) -> Response {
    match result {
        Ok(()) => redirect(&format!("/toolbox?saved={saved}#{section}")),
        Err(Error::Unauthenticated("reauth-required")) => {
            crate::portal::auth::reauth::ask(&format!("/toolbox#{section}"))
        }
        Err(Error::Invalid(errors)) => {
            page(state, actor, actor.user_id, "", Some((section, errors))).await
        }
        Err(Error::Conflict(code)) => {
            page(
                state,
                actor,
                actor.user_id,
                "",
                Some((section, vec![FieldError { field: "", code }])),
            )
            .await
        }
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

const PROFILE: &[&str] = &[
    "version",
    "first_name",
    "last_name",
    "friendly_name",
    "language",
    "country_code",
    "phone_country",
    "phone_number",
    "notifications_enabled",
    "notify_email",
    "notify_sms",
];

pub async fn update_profile(
    State(state): State<AppState>,
    CsrfForm(actor, f): CsrfForm<Fields>,
) -> Response {
    // Role, invoice flag, notes, services and the like are not the user's to set: refused.
    if !f.check(PROFILE, &[]) {
        return bad_form(actor.lang);
    }
    let input = OwnProfile {
        first_name: f.get("first_name"),
        last_name: f.get("last_name"),
        friendly_name: f.get("friendly_name"),
        language: f.get("language"),
        country_code: f.get("country_code"),
        phone_country: f.get("phone_country"),
        phone_number: f.get("phone_number"),
        notifications_enabled: f.flag("notifications_enabled"),
        notify_email: f.flag("notify_email"),
        notify_sms: f.flag("notify_sms"),
    };
    let version = f.get("version").parse().unwrap_or(-1);
    let result = me::update_own_profile(&state.ctx, &actor, version, &input).await;
    after(&state, &actor, "profile", "profile", result).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordForm {
    current_password: String,
    password: String,
    password_repeat: String,
    sign_out_others: Option<String>,
}

pub async fn change_password(
    State(state): State<AppState>,
    CsrfForm(actor, f): CsrfForm<PasswordForm>,
) -> Response {
    let change = me::PasswordChange {
        current: Some(&f.current_password),
        new: &f.password,
        repeat: &f.password_repeat,
        sign_out_others: f.sign_out_others.is_some(),
    };
    let result = me::change_password(&state.ctx, &actor, &change).await;
    after(&state, &actor, "password", "toolbox-password", result).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct EmailForm {
    version: i64,
    email: String,
}

pub async fn change_email(
    State(state): State<AppState>,
    CsrfForm(actor, f): CsrfForm<EmailForm>,
) -> Response {
    let result = roster_core::domain::email::request_email_change(
        &state.ctx,
        &actor,
        actor.user_id,
        f.version,
        &f.email,
    )
    .await;
    after(&state, &actor, "email", "toolbox-email", result).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyForm {}

pub async fn end_session(
    State(state): State<AppState>,
    Path(session): Path<String>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    let Ok(session) = Uuid::try_parse(&session) else {
        return PageError::from_core(Error::NotFound, actor.lang, None).into_response();
    };
    let result = me::end_session(&state.ctx, &actor, actor.user_id, SessionId(session)).await;
    after(&state, &actor, "sessions", "sessions", result).await
}

pub async fn end_other_sessions(
    State(state): State<AppState>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    let result = me::end_other_sessions(&state.ctx, &actor).await.map(|_| ());
    after(&state, &actor, "sessions", "sessions-others", result).await
}

pub async fn send_phone_code(
    State(state): State<AppState>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    let result = roster_core::domain::phone::request_verification(&state.ctx, &actor).await;
    after(&state, &actor, "profile", "phone-code-sent", result).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CodeForm {
    code: String,
}

pub async fn verify_phone(
    State(state): State<AppState>,
    CsrfForm(actor, f): CsrfForm<CodeForm>,
) -> Response {
    let result = roster_core::domain::phone::verify(&state.ctx, &actor, &f.code).await;
    after(&state, &actor, "profile", "phone-verified", result).await
}
