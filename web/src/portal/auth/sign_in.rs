use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roster_core::Error;
use roster_core::domain::Stage;
use roster_core::domain::auth::{self, SignIn};
use roster_core::i18n;
use serde::Deserialize;

use crate::extract::RequestId;
use crate::extract::cookies::{self, Life};
use crate::extract::{AnonCsrfForm, ClientIp, MaybeActor, PageLang, anon_csrf_token};
use crate::page::{Frame, PageError, redirect, render, safe_next};
use crate::state::AppState;

/// Notices the sign-in page may show, named by `?notice=`; anything else is ignored.
const NOTICES: [&str; 8] = [
    "mfa-too-many",
    "setup-done",
    "signout-done",
    "invitation-done",
    "reset-done",
    "email-confirm-done",
    "email-cancel-done",
    "alias-confirm-done",
];

#[derive(Template)]
#[template(path = "auth/sign_in.html")]
struct SignInPage {
    frame: Frame,
    email: String,
    next: String,
    notice: String,
    error: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignInQuery {
    next: String,
    notice: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn show_sign_in(
    State(state): State<AppState>,
    MaybeActor(actor): MaybeActor,
    PageLang(lang): PageLang,
    Query(q): Query<SignInQuery>,
    headers: HeaderMap,
) -> Response {
    if actor.is_some() {
        return redirect(safe_next(&q.next));
    }
    let (csrf, set_cookie) = anon_csrf_token(&state, &headers);
    let notice = NOTICES
        .iter()
        .find(|n| **n == q.notice)
        .map(|n| i18n::t(lang, n))
        .unwrap_or_default();
    let page = SignInPage {
        frame: Frame::new(lang, csrf, "/signin"),
        email: String::new(),
        next: safe_next(&q.next).to_string(),
        notice,
        error: String::new(),
    };
    with_cookie(render(StatusCode::OK, &page), set_cookie)
}

pub async fn sign_in(
    State(state): State<AppState>,
    MaybeActor(actor): MaybeActor,
    PageLang(lang): PageLang,
    ClientIp(ip): ClientIp,
    request_id: Option<axum::Extension<RequestId>>,
    headers: HeaderMap,
    AnonCsrfForm(form): AnonCsrfForm<SignInForm>,
) -> Response {
    let request_id = request_id.map(|axum::Extension(r)| r);
    // A sign-in always starts a new session: whatever session this browser had ends here.
    if let Some(old) = &actor
        && let Err(e) = auth::sign_out(&state.ctx, old, &ip).await
    {
        return PageError::from_core(e, lang, request_id).into_response();
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let device = cookies::get(&headers, state.cookies.device);
    let result = auth::sign_in(
        &state.ctx,
        SignIn {
            email: &form.email,
            password: &form.password,
            ip: &ip,
            user_agent,
            device_token: device.as_deref(),
        },
    )
    .await;
    match result {
        Ok(signed_in) => {
            let next = safe_next(&form.next);
            let to = match signed_in.stage {
                Stage::Full => next.to_string(),
                Stage::Mfa => {
                    let q = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                    format!("/signin/verify?{q}")
                }
                Stage::Enrol => "/mfa/enrol".to_string(),
            };
            let mut res = redirect(&to);
            let h = res.headers_mut();
            h.append(
                header::SET_COOKIE,
                cookies::set(
                    &state,
                    state.cookies.session,
                    &signed_in.session_token,
                    Life::Browser,
                    true,
                    "Lax",
                ),
            );
            if let Some(device) = signed_in.new_device_token {
                let year = 365 * 24 * 3600;
                h.append(
                    header::SET_COOKIE,
                    cookies::set(
                        &state,
                        state.cookies.device,
                        &device,
                        Life::Seconds(year),
                        true,
                        "Strict",
                    ),
                );
            }
            res
        }
        Err(e @ (Error::Unauthenticated(_) | Error::RateLimited { .. })) => {
            let (status, message, retry) = match e {
                Error::RateLimited { retry_after_secs } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    i18n::t_args(
                        lang,
                        "error-rate-limited",
                        &[("seconds", retry_after_secs.into())],
                    ),
                    Some(retry_after_secs),
                ),
                _ => (
                    StatusCode::UNAUTHORIZED,
                    i18n::t(lang, "signin-failed"),
                    None,
                ),
            };
            let (csrf, set_cookie) = anon_csrf_token(&state, &headers);
            let page = SignInPage {
                frame: Frame::new(lang, csrf, "/signin"),
                email: form.email.trim().chars().take(254).collect(),
                next: safe_next(&form.next).to_string(),
                notice: String::new(),
                error: message,
            };
            let mut res = with_cookie(render(status, &page), set_cookie);
            if let Some(secs) = retry.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
                res.headers_mut().insert(header::RETRY_AFTER, secs);
            }
            res
        }
        Err(e) => PageError::from_core(e, lang, request_id).into_response(),
    }
}

fn with_cookie(mut res: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}
