//! The password a user must choose after a generated or administrator-set one.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::Error;
use roster_core::domain::me;
use serde::Deserialize;

use crate::extract::{CsrfForm, CurrentActor};
use crate::page::{FormErrors, Frame, PageError, redirect, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "auth/change_password.html")]
struct ChangePasswordPage {
    frame: Frame,
    errors: FormErrors,
}

pub async fn show_change_password(CurrentActor(actor): CurrentActor) -> Response {
    let mut frame = Frame::signed_in(&actor, "");
    frame.here = "/password".into();
    render(
        StatusCode::OK,
        &ChangePasswordPage {
            frame,
            errors: FormErrors::default(),
        },
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
#[derive(Default)]
pub struct ChangePasswordForm {
    password: String,
    password_repeat: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    CsrfForm(actor, f): CsrfForm<ChangePasswordForm>,
) -> Response {
    let change = me::PasswordChange {
        current: None,
        new: &f.password,
        repeat: &f.password_repeat,
        sign_out_others: true,
    };
    match me::change_password(&state.ctx, &actor, &change).await {
        Ok(()) => redirect("/"),
        Err(Error::Invalid(list)) => {
            let mut frame = Frame::signed_in(&actor, "");
            frame.here = "/password".into();
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ChangePasswordPage {
                    frame,
                    errors: FormErrors::new(actor.lang, list),
                },
            )
        }
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}
