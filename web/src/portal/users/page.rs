use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::domain::Actor;
use roster_core::domain::address::{self, Alias, Number};
use roster_core::domain::api_token::{self, TokenView};
use roster_core::domain::invitation::{self, InvitationEvent};
use roster_core::domain::mfa::{self, Overview};
use roster_core::domain::node;
use roster_core::domain::user::{self, AccessHolder, Reach, UserDetail};
use roster_core::model::{Lang, UserId, UserStatus, phone};
use roster_core::{Error, FieldError, i18n};
use serde::Deserialize;

use super::list::{TreeLine, tree_lines};
use super::{status_key, type_key};
use crate::extract::{CurrentActor, UserPath};
use crate::page::{
    Fields, FormErrors, Frame, PageError, calling_code_options, country_options, render,
};
use crate::state::AppState;

/// Which section a notice or an error belongs to, named by `?saved=`.
const SECTIONS: [&str; 15] = [
    "token-revoked",
    "resources",
    "aliases",
    "numbers",
    "service-settings",
    "mfa",
    "settings",
    "services",
    "belonging",
    "access",
    "password",
    "notes",
    "photo",
    "status",
    "created",
];

#[derive(Template)]
#[template(path = "users/page.html")]
pub struct UserPage {
    frame: Frame,
    u: UserDetail,
    s: Fields,
    errors: FormErrors,
    /// The section the errors or the notice belong to.
    section: String,
    notice: String,
    problem: String,
    lines: Vec<TreeLine>,
    services: Vec<(String, String)>,
    countries: Vec<(String, String)>,
    calling_codes: Vec<(String, String)>,
    languages: Vec<(&'static str, &'static str)>,
    delegates: Vec<AccessHolder>,
    reach: Vec<Reach>,
    invitations: Vec<InvitationEvent>,
    type_key: &'static str,
    status_key: &'static str,
    status: &'static str,
    is_self: bool,
    notes: String,
    access_email: String,
    /// The user's second factors (None for system users).
    mfa: Option<Overview>,
    /// A system user's API tokens (other systems connect as their own user).
    tokens: Vec<TokenView>,
    new_token: Option<String>,
    tokens_editable: bool,
    tokens_action: String,
    tokens_back: String,
    /// "SMS settings", "Fax settings": one section per service the user has.
    settings_cards: Vec<crate::portal::settings::SettingsCard>,
    /// "Email Alias" and "Add number", with what was typed into a refused form.
    aliases: Vec<Alias>,
    numbers: Vec<Number>,
    alias_typed: String,
    number_typed: Fields,
    /// "Resources": every address book and public address the user can use.
    books: Vec<roster_core::domain::resource::Book>,
    publics: Vec<roster_core::domain::public_address::PublicAddress>,
    book_typed: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    saved: String,
}

/// The Settings section's values, from the stored user.
fn settings_values(u: &UserDetail) -> Fields {
    let (phone_country, phone_number) =
        phone::phone_parts(&u.phone, &u.country_code, &u.account_country);
    let mut f = vec![
        ("first_name", u.first_name.clone()),
        ("last_name", u.last_name.clone()),
        ("friendly_name", u.friendly_name.clone()),
        ("country_code", u.country_code.clone()),
        ("language", u.language.clone()),
        ("user_type", u.user_type.as_str().to_string()),
        ("phone_country", phone_country),
        ("phone_number", phone_number),
    ];
    for (k, on) in [
        ("receive_invoices", u.receive_invoices),
        ("notifications_enabled", u.notifications_enabled),
        ("notify_email", u.notify_email),
        ("notify_sms", u.notify_sms),
        ("mfa_required", u.mfa_required),
    ] {
        if on {
            f.push((k, "on".into()));
        }
    }
    Fields(f.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// What a failed section post brings back to the page: its typed values and its problems.
pub struct Rejected {
    pub section: &'static str,
    pub values: Option<Fields>,
    pub errors: Vec<FieldError>,
    /// A message for the whole section (changed meanwhile, last administrator, …).
    pub problem: Option<&'static str>,
}

impl Rejected {
    pub fn from_error(
        section: &'static str,
        values: Option<Fields>,
        e: Error,
    ) -> Result<(StatusCode, Rejected), Error> {
        let (status, errors, problem) = match e {
            Error::Invalid(list) => (StatusCode::UNPROCESSABLE_ENTITY, list, None),
            Error::Conflict(code) => (StatusCode::CONFLICT, vec![], Some(code)),
            other => return Err(other),
        };
        Ok((
            status,
            Rejected {
                section,
                values,
                errors,
                problem,
            },
        ))
    }
}

pub async fn build(
    state: &AppState,
    actor: &Actor,
    id: UserId,
    notice: &str,
    rejected: Option<Rejected>,
) -> Result<UserPage, Error> {
    build_with_token(state, actor, id, notice, rejected, None).await
}

/// The user page, with a token just created for this system user shown once.
pub async fn build_with_token(
    state: &AppState,
    actor: &Actor,
    id: UserId,
    notice: &str,
    rejected: Option<Rejected>,
    new_token: Option<String>,
) -> Result<UserPage, Error> {
    let u = user::get_user(&state.ctx, actor, id).await?;
    let delegates = user::list_access(&state.ctx, actor, id).await?;
    let reach = user::who_can_administer(&state.ctx, actor, id).await?;
    let invitations = invitation::invitation_history(&state.ctx, actor, id).await?;
    let mfa = if u.is_system {
        None
    } else {
        Some(mfa::overview(&state.ctx, actor, id).await?)
    };
    let tree = if u.managed_by_scope {
        node::tree(&state.ctx, actor, None).await?
    } else {
        vec![]
    };
    let settings_cards = crate::portal::settings::cards(
        state,
        actor,
        roster_core::domain::service::Level::User(id),
        "user",
        &format!("/users/{}", id.0),
    )
    .await?;
    let aliases = address::aliases(&state.ctx, actor, id).await?;
    let numbers = address::numbers(&state.ctx, actor, id).await?;
    let books = roster_core::domain::resource::books_of_user(&state.ctx, actor, id).await?;
    let publics =
        roster_core::domain::public_address::publics_of_user(&state.ctx, actor, id).await?;
    let (mut alias_typed, mut number_typed) = (String::new(), Fields::default());
    let mut book_typed = String::new();
    let lang = actor.lang;
    let mut s = settings_values(&u);
    let mut notes = u.notes.clone();
    let (mut section, mut errors, mut problem) = (String::new(), vec![], String::new());
    if let Some(r) = rejected {
        section = r.section.to_string();
        errors = r.errors;
        problem = r.problem.map(|p| i18n::t(lang, p)).unwrap_or_default();
        if let Some(values) = r.values {
            if r.section == "notes" {
                notes = values.get("notes");
            } else if r.section == "aliases" {
                alias_typed = values.get("address");
            } else if r.section == "numbers" {
                number_typed = values;
            } else if r.section == "resources" {
                book_typed = values.get("book_name");
            } else if r.section == "settings" {
                s = values;
            }
        }
    } else if SECTIONS.contains(&notice) {
        section = notice.to_string();
    }
    let notice = if SECTIONS.contains(&notice) && problem.is_empty() && errors.is_empty() {
        i18n::t(lang, &format!("saved-{notice}"))
    } else {
        String::new()
    };
    Ok(UserPage {
        frame: Frame::signed_in(actor, "users"),
        type_key: type_key(u.user_type),
        status_key: status_key(u.status),
        status: u.status.as_str(),
        is_self: u.id == actor.user_id,
        s,
        errors: FormErrors::new(lang, errors),
        section,
        notice,
        problem,
        lines: tree_lines(tree),
        services: crate::page::service_options(state, actor.lang),
        countries: country_options(lang),
        calling_codes: calling_code_options(lang),
        languages: Lang::ALL
            .iter()
            .map(|l| (l.code(), l.native_name()))
            .collect(),
        delegates,
        reach,
        invitations,
        notes,
        access_email: String::new(),
        mfa,
        tokens: if u.is_system {
            api_token::list_tokens(&state.ctx, actor, id).await?
        } else {
            vec![]
        },
        new_token,
        tokens_editable: u.is_system,
        tokens_action: format!("/users/{}/tokens", u.id),
        tokens_back: format!("/users/{}", u.id),
        settings_cards,
        aliases,
        numbers,
        alias_typed,
        number_typed,
        books,
        publics,
        book_typed,
        u,
    })
}

pub async fn show_user(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    UserPath(id): UserPath,
    Query(q): Query<PageQuery>,
) -> Response {
    match build(&state, &actor, id, &q.saved, None).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

/// Renders the page again with a section's problems (or an error page when it is no such).
pub async fn rejected(
    state: &AppState,
    actor: &Actor,
    id: UserId,
    status: StatusCode,
    r: Rejected,
) -> Response {
    match build(state, actor, id, "", Some(r)).await {
        Ok(page) => render(status, &page),
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

impl UserPage {
    /// A service's name, for the "Used for" of a number.
    pub fn service_name(&self, id: &str) -> String {
        self.services
            .iter()
            .find(|(s, _)| s == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// The country the "Add number" form starts from: what was typed, else the user's.
    pub fn number_country(&self) -> String {
        let typed = self.number_typed.get("number_country");
        if typed.is_empty() {
            self.u.country_code.clone()
        } else {
            typed
        }
    }

    pub fn is_disabled(&self) -> bool {
        self.u.status == UserStatus::Disabled
    }

    pub fn reach_text(&self, r: &Reach) -> String {
        let t = self.frame.t;
        match r.via {
            "access" => t.get("reach-access"),
            "operator" => t.get("reach-operator"),
            "account" => t.with("reach-account", "name", &r.node_name),
            _ => t.with("reach-unit", "name", &r.node_name),
        }
    }
}
