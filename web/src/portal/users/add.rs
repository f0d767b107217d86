use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::domain::node::{self, NodeView};
use roster_core::domain::user::{self, NewUser, PasswordChoice, ProfileInput};
use roster_core::model::{Lang, NodeId};
use roster_core::{Error, FieldError};
use serde::Deserialize;

use super::list::{TreeLine, tree_lines};
use crate::extract::{CsrfForm, CurrentActor};
use crate::page::{
    Fields, FormErrors, Frame, PageError, bad_form, calling_code_options, country_options, render,
};
use crate::state::AppState;

const SINGLE: &[&str] = &[
    "node",
    "kind",
    "first_name",
    "last_name",
    "email",
    "login",
    "user_type",
    "language",
    "country_code",
    "phone_country",
    "phone_number",
    "notifications_enabled",
    "notify_email",
    "notify_sms",
    "receive_invoices",
    "message",
    "access",
    "password",
];
const MULTI: &[&str] = &["services"];

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AddQuery {
    node: String,
}

#[derive(Template)]
#[template(path = "users/add.html")]
struct AddUserPage {
    frame: Frame,
    lines: Vec<TreeLine>,
    f: Fields,
    errors: FormErrors,
    can_set_role: bool,
    services: Vec<(String, String)>,
    countries: Vec<(String, String)>,
    calling_codes: Vec<(String, String)>,
    languages: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "users/created.html")]
struct CreatedPage {
    frame: Frame,
    user_id: String,
    name: String,
    password: String,
    secret: String,
    invited: bool,
}

fn languages() -> Vec<(&'static str, &'static str)> {
    Lang::ALL
        .iter()
        .map(|l| (l.code(), l.native_name()))
        .collect()
}

/// The defaults of a new user under `node`: the account's language and country.
fn defaults(node: &NodeView) -> Fields {
    let password = user::generate_password().unwrap_or_default();
    Fields(vec![
        ("node".into(), node.id.to_string()),
        ("kind".into(), "person".into()),
        ("user_type".into(), "user".into()),
        ("language".into(), node.default_language.clone()),
        ("country_code".into(), node.default_country.clone()),
        ("phone_country".into(), node.default_country.clone()),
        ("access".into(), "invite".into()),
        ("password".into(), password),
    ])
}

async fn page(
    state: &AppState,
    actor: &roster_core::domain::Actor,
    node: NodeId,
    f: Fields,
    errors: Vec<FieldError>,
) -> Result<AddUserPage, Error> {
    let tree = node::tree(&state.ctx, actor, None).await?;
    let can_set_role = node::administers_account_of(&state.ctx, actor, node).await?;
    Ok(AddUserPage {
        frame: Frame::signed_in(actor, "users"),
        lines: tree_lines(tree),
        f,
        errors: FormErrors::new(actor.lang, errors),
        can_set_role,
        services: crate::page::service_options(state, actor.lang),
        countries: country_options(actor.lang),
        calling_codes: calling_code_options(actor.lang),
        languages: languages(),
    })
}

pub async fn show_add_user(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(q): Query<AddQuery>,
) -> Response {
    let node = NodeId::parse(&q.node).or(actor.primary_scope().map(|s| s.node_id));
    let Some(node) = node else {
        return PageError::from_core(Error::NotFound, actor.lang, None).into_response();
    };
    let result = async {
        let target = node::get_node(&state.ctx, &actor, node).await?;
        page(&state, &actor, node, defaults(&target), vec![]).await
    }
    .await;
    match result {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

pub async fn add_user(
    State(state): State<AppState>,
    CsrfForm(actor, f): CsrfForm<Fields>,
) -> Response {
    if !f.check(SINGLE, MULTI) {
        return bad_form(actor.lang);
    }
    let Some(node) = NodeId::parse(&f.get("node")) else {
        return PageError::from_core(Error::NotFound, actor.lang, None).into_response();
    };
    let set_now = f.get("access") == "password";
    let input = NewUser {
        system: f.get("kind") == "system",
        profile: profile_of(&f),
        email: f.get("email"),
        login: f.get("login"),
        message: f.get("message"),
        services: f.all("services"),
        password: if set_now {
            PasswordChoice::SetNow(f.get("password"))
        } else {
            PasswordChoice::Invite
        },
        friendly_name: String::new(),
        provider_named: false,
        disabled: false,
    };
    match user::create_user(&state.ctx, &actor, node, &input).await {
        Ok(created) => {
            let name = format!(
                "{} {}",
                input.profile.first_name.trim(),
                input.profile.last_name.trim()
            )
            .trim()
            .to_string();
            let name = if name.is_empty() {
                if input.system {
                    input.login.trim().to_string()
                } else {
                    input.email.trim().to_string()
                }
            } else {
                name
            };
            let page = CreatedPage {
                frame: Frame::signed_in(&actor, "users"),
                user_id: created.id.to_string(),
                name,
                password: if set_now && !input.system {
                    f.get("password")
                } else {
                    String::new()
                },
                secret: created.secret.unwrap_or_default(),
                invited: !input.system && !set_now,
            };
            render(StatusCode::CREATED, &page)
        }
        Err(Error::Invalid(errors)) => match page(&state, &actor, node, f, errors).await {
            Ok(p) => render(StatusCode::UNPROCESSABLE_ENTITY, &p),
            Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
        },
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

/// The profile fields of a posted form (Add user and the Settings section share them).
fn profile_of(f: &Fields) -> ProfileInput {
    ProfileInput {
        first_name: f.get("first_name"),
        last_name: f.get("last_name"),
        user_type: f.get("user_type"),
        language: f.get("language"),
        country_code: f.get("country_code"),
        phone_country: f.get("phone_country"),
        phone_number: f.get("phone_number"),
        receive_invoices: f.flag("receive_invoices"),
        notifications_enabled: f.flag("notifications_enabled"),
        notify_email: f.flag("notify_email"),
        notify_sms: f.flag("notify_sms"),
    }
}
