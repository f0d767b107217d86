//! The pages behind emailed links: accepting an invitation, resetting a password, confirming or
//! cancelling an email change. A link's GET shows a form and uses nothing; the POST uses it.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roster_core::domain::{address, email, invitation, reset};
use roster_core::model::Lang;
use roster_core::{Error, i18n};
use serde::Deserialize;

use crate::extract::{AnonCsrfForm, ClientIp, PageLang, anon_csrf_token};
use crate::page::{FormErrors, Frame, PageError, redirect, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "auth/choose_password.html")]
struct ChoosePasswordPage {
    frame: Frame,
    title: &'static str,
    intro: &'static str,
    submit: &'static str,
    action: &'static str,
    token: String,
    email: String,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "auth/link_action.html")]
struct LinkActionPage {
    frame: Frame,
    title: &'static str,
    intro: &'static str,
    submit: &'static str,
    action: &'static str,
    token: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "auth/link_error.html")]
struct LinkErrorPage {
    frame: Frame,
    message: String,
}

#[derive(Template)]
#[template(path = "auth/reset.html")]
struct ResetPage {
    frame: Frame,
    sent: bool,
    email: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenQuery {
    token: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordForm {
    token: String,
    password: String,
    password_repeat: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TokenForm {
    token: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ResetRequestForm {
    email: String,
}

/// The page for a link that is invalid, used or expired (404 or 410), in the user's language.
pub fn link_error(e: Error, lang: Lang) -> Response {
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

/// Renders with the browser's anonymous CSRF cookie (set when it had none).
fn with_csrf(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    page: impl FnOnce(Frame) -> Response,
) -> Response {
    let (csrf, cookie) = anon_csrf_token(state, headers);
    let mut res = page(Frame::new(lang, csrf, "/signin"));
    *res.status_mut() = status;
    if let Some(c) = cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

struct PasswordFlow {
    title: &'static str,
    intro: &'static str,
    submit: &'static str,
    action: &'static str,
}

const INVITATION: PasswordFlow = PasswordFlow {
    title: "invitation-title",
    intro: "invitation-intro",
    submit: "invitation-submit",
    action: "/invitation",
};
const RESET: PasswordFlow = PasswordFlow {
    title: "reset-title",
    intro: "reset-confirm-intro",
    submit: "invitation-submit",
    action: "/reset/confirm",
};

fn password_page(
    flow: &PasswordFlow,
    frame: Frame,
    token: String,
    email: String,
    errors: FormErrors,
) -> Response {
    let page = ChoosePasswordPage {
        frame,
        title: flow.title,
        intro: flow.intro,
        submit: flow.submit,
        action: flow.action,
        token,
        email,
        errors,
    };
    render(StatusCode::OK, &page)
}

pub async fn show_invitation(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    match invitation::check_invitation(&state.ctx, &q.token).await {
        Ok(email) => with_csrf(&state, &headers, lang, StatusCode::OK, |f| {
            password_page(&INVITATION, f, q.token, email, FormErrors::default())
        }),
        Err(e) => link_error(e, lang),
    }
}

pub async fn accept_invitation(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    AnonCsrfForm(f): AnonCsrfForm<PasswordForm>,
) -> Response {
    match invitation::accept_invitation(&state.ctx, &f.token, &f.password, &f.password_repeat, &ip)
        .await
    {
        Ok(()) => redirect("/signin?notice=invitation-done"),
        Err(Error::Invalid(list)) => {
            let email = invitation::check_invitation(&state.ctx, &f.token)
                .await
                .unwrap_or_default();
            with_csrf(
                &state,
                &headers,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                |fr| password_page(&INVITATION, fr, f.token, email, FormErrors::new(lang, list)),
            )
        }
        Err(e) => link_error(e, lang),
    }
}

pub async fn show_reset_request(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
) -> Response {
    with_csrf(&state, &headers, lang, StatusCode::OK, |frame| {
        render(
            StatusCode::OK,
            &ResetPage {
                frame,
                sent: false,
                email: String::new(),
            },
        )
    })
}

/// The same answer whether the address exists or not.
pub async fn request_reset(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    AnonCsrfForm(f): AnonCsrfForm<ResetRequestForm>,
) -> Response {
    if let Err(e) = reset::request_reset(&state.ctx, &f.email, &ip).await {
        return PageError::from_core(e, lang, None).into_response();
    }
    let email: String = f.email.trim().chars().take(254).collect();
    with_csrf(&state, &headers, lang, StatusCode::OK, |frame| {
        render(
            StatusCode::OK,
            &ResetPage {
                frame,
                sent: true,
                email,
            },
        )
    })
}

pub async fn show_reset(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    match reset::check_reset(&state.ctx, &q.token).await {
        Ok(()) => with_csrf(&state, &headers, lang, StatusCode::OK, |f| {
            password_page(&RESET, f, q.token, String::new(), FormErrors::default())
        }),
        Err(e) => link_error(e, lang),
    }
}

/// Uses the reset link; signs nobody in, and ends this browser's session too.
pub async fn complete_reset(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    AnonCsrfForm(f): AnonCsrfForm<PasswordForm>,
) -> Response {
    match reset::complete_reset(&state.ctx, &f.token, &f.password, &f.password_repeat, &ip).await {
        Ok(()) => {
            let mut res = redirect("/signin?notice=reset-done");
            res.headers_mut().append(
                header::SET_COOKIE,
                crate::extract::cookies::expire(&state, state.cookies.session),
            );
            res.headers_mut().insert(
                "clear-site-data",
                HeaderValue::from_static(r#""cache", "storage""#),
            );
            res
        }
        Err(Error::Invalid(list)) => with_csrf(
            &state,
            &headers,
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            |fr| {
                password_page(
                    &RESET,
                    fr,
                    f.token,
                    String::new(),
                    FormErrors::new(lang, list),
                )
            },
        ),
        Err(e) => link_error(e, lang),
    }
}

fn action_page(frame: Frame, purpose: &str, token: String, detail: String) -> Response {
    let (title, intro, submit, action) = if purpose == address::ALIAS_VERIFY {
        (
            "alias-confirm-title",
            "alias-confirm-intro",
            "alias-confirm-submit",
            "/alias/confirm",
        )
    } else if purpose == email::VERIFY {
        (
            "email-confirm-title",
            "email-confirm-intro",
            "email-confirm-submit",
            "/email/confirm",
        )
    } else {
        (
            "email-cancel-title",
            "email-cancel-intro",
            "email-cancel-submit",
            "/email/cancel",
        )
    };
    render(
        StatusCode::OK,
        &LinkActionPage {
            frame,
            title,
            intro,
            submit,
            action,
            token,
            detail,
        },
    )
}

async fn show_email_link(
    state: AppState,
    lang: Lang,
    token: String,
    headers: HeaderMap,
    purpose: &'static str,
) -> Response {
    match email::check_link(&state.ctx, &token, purpose).await {
        Ok(new) => with_csrf(&state, &headers, lang, StatusCode::OK, |f| {
            action_page(f, purpose, token, new)
        }),
        Err(e) => link_error(e, lang),
    }
}

pub async fn show_email_confirm(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    show_email_link(state, lang, q.token, headers, email::VERIFY).await
}

pub async fn show_email_cancel(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    show_email_link(state, lang, q.token, headers, email::CANCEL).await
}

pub async fn confirm_email(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    ClientIp(ip): ClientIp,
    AnonCsrfForm(f): AnonCsrfForm<TokenForm>,
) -> Response {
    let result = email::confirm_email_change(&state.ctx, &f.token, &ip).await;
    after_email_link(result, lang, "email-confirm-done")
}

pub async fn cancel_email(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    ClientIp(ip): ClientIp,
    AnonCsrfForm(f): AnonCsrfForm<TokenForm>,
) -> Response {
    let result = email::cancel_email_change(&state.ctx, &f.token, &ip).await;
    after_email_link(result, lang, "email-cancel-done")
}

fn after_email_link(result: roster_core::Result<()>, lang: Lang, notice: &str) -> Response {
    match result {
        Ok(()) => redirect(&format!("/signin?notice={notice}")),
        Err(e) => link_error(e, lang),
    }
}

/// The page behind an alias's confirmation link: names the address, uses nothing.
pub async fn show_alias_confirm(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    match address::check_alias_link(&state.ctx, &q.token).await {
        Ok(alias) => with_csrf(&state, &headers, lang, StatusCode::OK, |f| {
            action_page(f, address::ALIAS_VERIFY, q.token, alias)
        }),
        Err(e) => link_error(e, lang),
    }
}

pub async fn confirm_alias(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    ClientIp(ip): ClientIp,
    AnonCsrfForm(f): AnonCsrfForm<TokenForm>,
) -> Response {
    let result = address::confirm_alias(&state.ctx, &f.token, &ip).await;
    after_email_link(result, lang, "alias-confirm-done")
}
