use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use roster_core::Error;
use roster_core::domain::setup::{self, FirstAdmin};
use serde::Deserialize;

use crate::extract::{AnonCsrfForm, ClientIp, PageLang, anon_csrf_token};
use crate::page::{FormErrors, Frame, redirect, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "auth/setup.html")]
struct SetupPage {
    frame: Frame,
    token: String,
    first_name: String,
    last_name: String,
    email: String,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SetupQuery {
    token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
#[derive(Default)]
pub struct SetupForm {
    token: String,
    first_name: String,
    last_name: String,
    email: String,
    password: String,
    password_repeat: String,
}

/// Shows the set-up form for a live link; consumes nothing.
pub async fn show_setup(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Query(q): Query<SetupQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = setup::check_setup_link(&state.ctx, &q.token).await {
        return super::links::link_error(e, lang);
    }
    let (csrf, set_cookie) = anon_csrf_token(&state, &headers);
    let page = SetupPage {
        frame: Frame::new(lang, csrf, "/signin"),
        token: q.token,
        first_name: String::new(),
        last_name: String::new(),
        email: String::new(),
        errors: FormErrors::default(),
    };
    let mut res = render(StatusCode::OK, &page);
    if let Some(c) = set_cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// Uses the link: creates the first operator administrator, then on to sign-in.
pub async fn complete_setup(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    AnonCsrfForm(form): AnonCsrfForm<SetupForm>,
) -> Response {
    let input = FirstAdmin {
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        email: form.email.clone(),
        password: form.password,
        password_repeat: form.password_repeat,
        lang,
    };
    match setup::complete_setup(&state.ctx, &form.token, &input, &ip).await {
        Ok(_) => redirect("/signin?notice=setup-done"),
        Err(Error::Invalid(list)) => {
            let (csrf, _) = anon_csrf_token(&state, &headers);
            let page = SetupPage {
                frame: Frame::new(lang, csrf, "/signin"),
                token: form.token,
                first_name: form.first_name,
                last_name: form.last_name,
                email: form.email,
                errors: FormErrors::new(lang, list),
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => super::links::link_error(e, lang),
    }
}
