//! Re-authentication before sensitive changes: the password again, then a new session id.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use roster_core::Error;
use serde::Deserialize;

use crate::extract::cookies::{self, Life};
use crate::extract::{CsrfForm, CurrentActor};
use crate::page::{FormErrors, Frame, PageError, redirect, render, safe_next};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "auth/reauth.html")]
struct ReauthPage {
    frame: Frame,
    next: String,
    email: String,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ReauthForm {
    password: String,
    next: String,
}

pub async fn show_reauth(
    CurrentActor(actor): CurrentActor,
    Query(q): Query<NextQuery>,
) -> Response {
    let page = ReauthPage {
        frame: Frame::signed_in(&actor, ""),
        next: safe_next(&q.next).to_string(),
        email: actor.email.clone(),
        errors: FormErrors::default(),
    };
    render(StatusCode::OK, &page)
}

pub async fn reauth(
    State(state): State<AppState>,
    CsrfForm(actor, f): CsrfForm<ReauthForm>,
) -> Response {
    match roster_core::domain::reauth::reauthenticate(&state.ctx, &actor, &f.password).await {
        Ok(token) => {
            let mut res = redirect(safe_next(&f.next));
            res.headers_mut().append(
                header::SET_COOKIE,
                cookies::set(
                    &state,
                    state.cookies.session,
                    &token,
                    Life::Browser,
                    true,
                    "Lax",
                ),
            );
            res
        }
        Err(Error::Invalid(errors)) => {
            let page = ReauthPage {
                frame: Frame::signed_in(&actor, ""),
                next: safe_next(&f.next).to_string(),
                email: actor.email.clone(),
                errors: FormErrors::new(actor.lang, errors),
            };
            render(StatusCode::UNAUTHORIZED, &page)
        }
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

/// Where a sensitive change that needs a fresh proof of identity sends the browser.
pub fn ask(next: &str) -> Response {
    let encoded = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    redirect(&format!("/reauth?{encoded}"))
}
