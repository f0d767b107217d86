//! Accepting an invitation: the link shows a form (consuming nothing); posting it sets the
//! user's own password and uses the link.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roster_core::domain::invitation;
use roster_core::model::Lang;
use roster_core::{Error, i18n};
use serde::Deserialize;

use crate::extract::{AnonCsrfForm, ClientIp, PageLang, anon_csrf_token};
use crate::page::{FormErrors, Frame, PageError, redirect, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "auth/invitation.html")]
struct InvitationPage {
    frame: Frame,
    token: String,
    email: String,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "auth/link_error.html")]
struct LinkErrorPage {
    frame: Frame,
    message: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenQuery {
    token: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AcceptForm {
    token: String,
    password: String,
    password_repeat: String,
}

fn link_error(e: Error, lang: Lang) -> Response {
    let status = match &e {
        Error::Unauthenticated("link-expired" | "link-used") => StatusCode::GONE,
        Error::Unauthenticated(_) => StatusCode::NOT_FOUND,
        _ => return PageError::from_core(e, lang, None).into_response(),
    };
    render(
        status,
        &LinkErrorPage {
            frame: Frame::new(lang, String::new(), "/signin"),
            message: i18n::t(lang, e.code()),
        },
    )
}

pub async fn show_invitation(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    let email = match invitation::check_invitation(&state.ctx, &q.token).await {
        Ok(email) => email,
        Err(e) => return link_error(e, lang),
    };
    let (csrf, set_cookie) = anon_csrf_token(&state, &headers);
    let page = InvitationPage {
        frame: Frame::new(lang, csrf, "/signin"),
        token: q.token,
        email,
        errors: FormErrors::default(),
    };
    let mut res = render(StatusCode::OK, &page);
    if let Some(c) = set_cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

pub async fn accept_invitation(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    AnonCsrfForm(f): AnonCsrfForm<AcceptForm>,
) -> Response {
    match invitation::accept_invitation(&state.ctx, &f.token, &f.password, &f.password_repeat, &ip)
        .await
    {
        Ok(()) => redirect("/signin?notice=invitation-done"),
        Err(Error::Invalid(list)) => {
            let email = invitation::check_invitation(&state.ctx, &f.token)
                .await
                .unwrap_or_default();
            let (csrf, _) = anon_csrf_token(&state, &headers);
            let page = InvitationPage {
                frame: Frame::new(lang, csrf, "/signin"),
                token: f.token,
                email,
                errors: FormErrors::new(lang, list),
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => link_error(e, lang),
    }
}
