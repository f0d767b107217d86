//! Second factors in the pages: the second step of sign-in, enrolment when the policy requires
//! a factor, the factors in the toolbox, an administrator's reset, and the policy of a node.
//! Passkeys need JavaScript (the browser's WebAuthn API); everything else works without it.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use roster_core::domain::mfa::{self, Answer, Challenge, Enrolled, Overview, TotpSetup};
use roster_core::domain::{Actor, Stage, me, phone};
use roster_core::model::{FactorId, NodeId};
use roster_core::{Error, FieldError, i18n};
use serde::Deserialize;
use uuid::Uuid;

use crate::extract::cookies::{self, Life};
use crate::extract::{CsrfForm, CurrentActor, UserPath};
use crate::page::{
    FormErrors, Frame, PageError, calling_code_options, redirect, render, safe_next,
};
use crate::portal::toolbox::EmptyForm;
use crate::state::AppState;

/// A redirect that also carries the session's new cookie (its id changed).
fn with_session(state: &AppState, token: &str, to: &str) -> Response {
    let mut res = redirect(to);
    res.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(
            state,
            state.cookies.session,
            token,
            Life::Browser,
            true,
            "Lax",
        ),
    );
    res
}

/// The frame of a page shown while sign-in is unfinished: no tabs, no toolbox link.
fn pending_frame(actor: &Actor, here: &str) -> Frame {
    match actor.stage {
        Stage::Full => Frame::signed_in(actor, ""),
        _ => Frame::new(actor.lang, actor.csrf_token.clone(), here),
    }
}

fn error_page(e: Error, actor: &Actor) -> Response {
    PageError::from_core(e, actor.lang, None).into_response()
}

// ---------------------------------------------------------------------------------------------
// The second step of sign-in

#[derive(Template)]
#[template(path = "auth/verify.html")]
struct VerifyPage {
    frame: Frame,
    c: Challenge,
    next: String,
    method: String,
    notice: String,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct VerifyQuery {
    next: String,
    sent: String,
}

async fn verify_page(
    state: &AppState,
    actor: &Actor,
    next: &str,
    method: &str,
    notice: String,
    status: StatusCode,
    errors: Vec<FieldError>,
) -> Response {
    let c = match mfa::challenge(&state.ctx, actor).await {
        Ok(c) => c,
        Err(e) => return error_page(e, actor),
    };
    let page = VerifyPage {
        frame: pending_frame(actor, "/signin/verify"),
        c,
        next: safe_next(next).to_string(),
        method: method.to_string(),
        notice,
        errors: FormErrors::new(actor.lang, errors),
    };
    render(status, &page)
}

pub async fn show_verify(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(q): Query<VerifyQuery>,
) -> Response {
    if actor.stage == Stage::Full {
        return redirect(safe_next(&q.next));
    }
    let notice = if q.sent == "1" {
        i18n::t(actor.lang, "mfa-sms-sent")
    } else {
        String::new()
    };
    verify_page(&state, &actor, &q.next, "", notice, StatusCode::OK, vec![]).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct VerifyForm {
    method: String,
    code: String,
    credential: String,
    next: String,
}

pub async fn verify(
    State(state): State<AppState>,
    CsrfForm(actor, f): CsrfForm<VerifyForm>,
) -> Response {
    let answer = match f.method.as_str() {
        "totp" => Answer::Totp(&f.code),
        "sms" => Answer::Sms(&f.code),
        "recovery" => Answer::Recovery(&f.code),
        "passkey" => Answer::Passkey(&f.credential),
        _ => return crate::page::bad_form(actor.lang),
    };
    match mfa::answer(&state.ctx, &actor, answer).await {
        Ok(token) => with_session(&state, &token, safe_next(&f.next)),
        Err(Error::Unauthenticated("mfa-too-many")) => {
            let mut res = redirect("/signin?notice=mfa-too-many");
            res.headers_mut().append(
                header::SET_COOKIE,
                cookies::expire(&state, state.cookies.session),
            );
            res
        }
        Err(Error::Invalid(errors)) => {
            verify_page(
                &state,
                &actor,
                &f.next,
                &f.method,
                String::new(),
                StatusCode::UNAUTHORIZED,
                errors,
            )
            .await
        }
        Err(e) => error_page(e, &actor),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct NextForm {
    next: String,
}

pub async fn send_sms(
    State(state): State<AppState>,
    CsrfForm(actor, f): CsrfForm<NextForm>,
) -> Response {
    match mfa::send_sign_in_code(&state.ctx, &actor).await {
        Ok(()) => {
            let next =
                serde_urlencoded::to_string([("next", safe_next(&f.next))]).unwrap_or_default();
            redirect(&format!("/signin/verify?sent=1&{next}"))
        }
        Err(Error::RateLimited { retry_after_secs }) => {
            let notice = i18n::t_args(
                actor.lang,
                "error-rate-limited",
                &[("seconds", retry_after_secs.into())],
            );
            let mut res = verify_page(
                &state,
                &actor,
                &f.next,
                "sms",
                notice,
                StatusCode::TOO_MANY_REQUESTS,
                vec![],
            )
            .await;
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Err(Error::Invalid(errors)) => {
            verify_page(
                &state,
                &actor,
                &f.next,
                "sms",
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
            )
            .await
        }
        Err(e) => error_page(e, &actor),
    }
}

/// The options for `navigator.credentials.get` (JSON).
pub async fn passkey_sign_in_options(
    State(state): State<AppState>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    json_or_error(mfa::start_passkey_sign_in(&state.ctx, &actor).await, &actor)
}

fn json_or_error(result: roster_core::Result<serde_json::Value>, actor: &Actor) -> Response {
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => {
            let status = match e {
                Error::Forbidden => StatusCode::FORBIDDEN,
                Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
                _ => StatusCode::CONFLICT,
            };
            let message = i18n::t(actor.lang, e.code());
            (status, Json(serde_json::json!({ "error": message }))).into_response()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Enrolment during sign-in

#[derive(Template)]
#[template(path = "auth/enrol.html")]
struct EnrolPage {
    frame: Frame,
    mfa: Overview,
    enrolling: bool,
    notice: String,
    errors: FormErrors,
    calling_codes: Vec<(String, String)>,
    phone_country: String,
    phone_number: String,
}

async fn enrol_page(
    state: &AppState,
    actor: &Actor,
    notice: &str,
    status: StatusCode,
    errors: Vec<FieldError>,
) -> Response {
    let o = match mfa::overview(&state.ctx, actor, actor.user_id).await {
        Ok(o) => o,
        Err(e) => return error_page(e, actor),
    };
    let t = match me::get_me(&state.ctx, actor, actor.user_id).await {
        Ok(t) => t,
        Err(e) => return error_page(e, actor),
    };
    let (phone_country, phone_number) = me::phone_parts(&t);
    let page = EnrolPage {
        frame: pending_frame(actor, "/mfa/enrol"),
        mfa: o,
        enrolling: true,
        notice: if notice.is_empty() {
            String::new()
        } else {
            i18n::t(actor.lang, notice)
        },
        errors: FormErrors::new(actor.lang, errors),
        calling_codes: calling_code_options(actor.lang),
        phone_country,
        phone_number,
    };
    render(status, &page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    saved: String,
}

pub async fn show_enrol(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(q): Query<NoticeQuery>,
) -> Response {
    if actor.stage != Stage::Enrol {
        return redirect("/toolbox#factors");
    }
    let notice = match q.saved.as_str() {
        "phone" => "saved-phone",
        "phone-code-sent" => "saved-phone-code-sent",
        "phone-verified" => "saved-phone-verified",
        _ => "",
    };
    enrol_page(&state, &actor, notice, StatusCode::OK, vec![]).await
}

async fn enrol_after(
    state: &AppState,
    actor: &Actor,
    saved: &str,
    result: roster_core::Result<()>,
) -> Response {
    match result {
        Ok(()) => redirect(&format!("/mfa/enrol?saved={saved}")),
        Err(Error::Invalid(errors)) => {
            enrol_page(state, actor, "", StatusCode::UNPROCESSABLE_ENTITY, errors).await
        }
        Err(Error::Conflict(code)) => {
            let errors = vec![FieldError { field: "", code }];
            enrol_page(state, actor, "", StatusCode::CONFLICT, errors).await
        }
        Err(Error::RateLimited { retry_after_secs }) => {
            let mut res = error_page(Error::RateLimited { retry_after_secs }, actor);
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Err(e) => error_page(e, actor),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PhoneForm {
    phone_country: String,
    phone_number: String,
}

/// The mobile number during enrolment (SMS codes go only to a verified number).
pub async fn enrol_phone(
    State(state): State<AppState>,
    CsrfForm(actor, f): CsrfForm<PhoneForm>,
) -> Response {
    let result = me::set_own_phone(&state.ctx, &actor, &f.phone_country, &f.phone_number).await;
    enrol_after(&state, &actor, "phone", result).await
}

pub async fn enrol_send_code(
    State(state): State<AppState>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    let result = phone::request_verification(&state.ctx, &actor).await;
    enrol_after(&state, &actor, "phone-code-sent", result).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CodeForm {
    code: String,
}

pub async fn enrol_verify_phone(
    State(state): State<AppState>,
    CsrfForm(actor, f): CsrfForm<CodeForm>,
) -> Response {
    let result = phone::verify(&state.ctx, &actor, &f.code).await;
    enrol_after(&state, &actor, "phone-verified", result).await
}

/// Enrolment done: the session becomes a full one, under a new id.
pub async fn finish_enrolment(
    State(state): State<AppState>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    match mfa::finish_enrolment(&state.ctx, &actor).await {
        Ok(token) => with_session(&state, &token, "/"),
        Err(Error::Conflict(code)) => {
            let errors = vec![FieldError { field: "", code }];
            enrol_page(&state, &actor, "", StatusCode::CONFLICT, errors).await
        }
        Err(e) => error_page(e, &actor),
    }
}

// ---------------------------------------------------------------------------------------------
// Factors in the toolbox (and during enrolment)

#[derive(Template)]
#[template(path = "portal/totp.html")]
struct TotpPage {
    frame: Frame,
    s: TotpSetup,
    name: String,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "portal/recovery.html")]
struct RecoveryPage {
    frame: Frame,
    codes: Vec<String>,
    enrolling: bool,
}

/// Where a factor change that needs a fresh proof of identity, or a finished one, goes next.
fn factors_home(actor: &Actor, saved: &str) -> String {
    match actor.stage {
        Stage::Enrol => "/mfa/enrol".to_string(),
        _ => format!("/toolbox?saved={saved}#factors"),
    }
}

fn factor_error(state: &AppState, actor: &Actor, e: Error) -> Response {
    let _ = state;
    match e {
        Error::Unauthenticated("reauth-required") => {
            crate::portal::auth::reauth::ask("/toolbox#factors")
        }
        Error::Conflict(code) => {
            let mut page = PageError::from_core(Error::Conflict(code), actor.lang, None);
            page.set_message(i18n::t(actor.lang, code));
            page.into_response()
        }
        e => error_page(e, actor),
    }
}

fn enrolled(actor: &Actor, e: Enrolled) -> Response {
    match e.recovery_codes {
        Some(codes) => {
            let page = RecoveryPage {
                frame: pending_frame(actor, "/toolbox"),
                codes,
                enrolling: actor.stage == Stage::Enrol,
            };
            render(StatusCode::OK, &page)
        }
        None => redirect(&factors_home(actor, "factor")),
    }
}

pub async fn start_totp(
    State(state): State<AppState>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    match mfa::start_totp(&state.ctx, &actor).await {
        Ok(s) => redirect(&format!("/toolbox/factors/totp/{}", s.factor_id)),
        Err(e) => factor_error(&state, &actor, e),
    }
}

fn totp_page(actor: &Actor, s: TotpSetup, name: &str, errors: Vec<FieldError>) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = TotpPage {
        frame: pending_frame(actor, "/toolbox"),
        s,
        name: name.to_string(),
        errors: FormErrors::new(actor.lang, errors),
    };
    render(status, &page)
}

fn parse_id(id: &str) -> Result<Uuid, Error> {
    Uuid::try_parse(id).map_err(|_| Error::NotFound)
}

pub async fn show_totp(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Response {
    let setup = match parse_id(&id) {
        Ok(id) => mfa::pending_totp(&state.ctx, &actor, id).await,
        Err(e) => Err(e),
    };
    match setup {
        Ok(s) => totp_page(&actor, s, "", vec![]),
        Err(e) => factor_error(&state, &actor, e),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TotpForm {
    name: String,
    code: String,
}

pub async fn confirm_totp(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, f): CsrfForm<TotpForm>,
) -> Response {
    let Ok(id) = parse_id(&id) else {
        return error_page(Error::NotFound, &actor);
    };
    match mfa::confirm_totp(&state.ctx, &actor, id, &f.name, &f.code).await {
        Ok(e) => enrolled(&actor, e),
        Err(Error::Invalid(errors)) => match mfa::pending_totp(&state.ctx, &actor, id).await {
            Ok(s) => totp_page(&actor, s, &f.name, errors),
            Err(e) => factor_error(&state, &actor, e),
        },
        Err(e) => factor_error(&state, &actor, e),
    }
}

pub async fn add_sms(
    State(state): State<AppState>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    match mfa::add_sms(&state.ctx, &actor).await {
        Ok(e) => enrolled(&actor, e),
        Err(Error::Invalid(list)) => {
            let code = list.first().map(|e| e.code).unwrap_or("error-invalid");
            factor_error(&state, &actor, Error::Conflict(code))
        }
        Err(e) => factor_error(&state, &actor, e),
    }
}

/// The options for `navigator.credentials.create` (JSON).
pub async fn passkey_options(
    State(state): State<AppState>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    json_or_error(mfa::start_passkey(&state.ctx, &actor).await, &actor)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PasskeyForm {
    name: String,
    credential: String,
}

pub async fn add_passkey(
    State(state): State<AppState>,
    CsrfForm(actor, f): CsrfForm<PasskeyForm>,
) -> Response {
    match mfa::finish_passkey(&state.ctx, &actor, &f.name, &f.credential).await {
        Ok(e) => enrolled(&actor, e),
        Err(Error::Invalid(list)) => {
            let code = list.first().map(|e| e.code).unwrap_or("error-invalid");
            factor_error(&state, &actor, Error::Conflict(code))
        }
        Err(e) => factor_error(&state, &actor, e),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RenameForm {
    name: String,
}

pub async fn rename_factor(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, f): CsrfForm<RenameForm>,
) -> Response {
    let result = match parse_id(&id) {
        Ok(id) => mfa::rename_factor(&state.ctx, &actor, FactorId(id), &f.name).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => redirect(&factors_home(&actor, "factor")),
        Err(Error::Invalid(list)) => {
            let code = list.first().map(|e| e.code).unwrap_or("error-invalid");
            factor_error(&state, &actor, Error::Conflict(code))
        }
        Err(e) => factor_error(&state, &actor, e),
    }
}

pub async fn remove_factor(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    let result = match parse_id(&id) {
        Ok(id) => mfa::remove_factor(&state.ctx, &actor, FactorId(id)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => redirect(&factors_home(&actor, "factor-removed")),
        Err(e) => factor_error(&state, &actor, e),
    }
}

pub async fn new_recovery_codes(
    State(state): State<AppState>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    match mfa::new_recovery_codes(&state.ctx, &actor).await {
        Ok(codes) => enrolled(
            &actor,
            Enrolled {
                recovery_codes: Some(codes),
            },
        ),
        Err(e) => factor_error(&state, &actor, e),
    }
}

// ---------------------------------------------------------------------------------------------
// Administrators: a user's factors, and the policy of a node

pub async fn reset_factors(
    State(state): State<AppState>,
    UserPath(id): UserPath,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    match mfa::reset_factors(&state.ctx, &actor, id).await {
        Ok(()) => redirect(&format!("/users/{id}?saved=mfa#mfa")),
        Err(e) => error_page(e, &actor),
    }
}

/// The policy form: `mfa_policy` (inherit, administrators, everyone), `mfa_factors` (several),
/// and where to return.
pub async fn set_policy(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, f): CsrfForm<crate::page::Fields>,
) -> Response {
    if !f.check(&["mfa_policy", "mfa_factors", "back"], &["mfa_factors"]) {
        return crate::page::bad_form(actor.lang);
    }
    let Ok(node) = Uuid::try_parse(&id).map(NodeId) else {
        return error_page(Error::NotFound, &actor);
    };
    let factors = f.all("mfa_factors");
    let policy = f.get("mfa_policy");
    let back = f.get("back");
    let back = safe_next(&back);
    match mfa::set_policy(&state.ctx, &actor, node, Some(&policy), Some(&factors)).await {
        Ok(()) => redirect(&format!("{back}?saved=mfa#mfa")),
        Err(Error::Invalid(list)) => {
            let code = list.first().map(|e| e.code).unwrap_or("error-invalid");
            let mut page = PageError::from_core(Error::Invalid(list), actor.lang, None);
            page.set_message(i18n::t(actor.lang, code));
            page.into_response()
        }
        Err(e) => error_page(e, &actor),
    }
}
