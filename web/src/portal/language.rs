use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use roster_core::domain::user;
use roster_core::model::Lang;
use serde::Deserialize;

use crate::extract::cookies::{self, Life};
use crate::extract::{AnonCsrfForm, MaybeActor, PageLang};
use crate::page::{PageError, redirect, safe_next};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    back: String,
}

/// The language selector: stored on the user when signed in, else in a cookie.
pub async fn change_language(
    State(state): State<AppState>,
    MaybeActor(actor): MaybeActor,
    PageLang(current): PageLang,
    AnonCsrfForm(form): AnonCsrfForm<LanguageForm>,
) -> Response {
    let Some(lang) = Lang::parse(&form.lang) else {
        return PageError::from_core(
            roster_core::Error::field("lang", "error-invalid"),
            current,
            None,
        )
        .into_response();
    };
    if let Some(actor) = &actor
        && let Err(e) = user::set_own_language(&state.ctx, actor, lang).await
    {
        return PageError::from_core(e, current, None).into_response();
    }
    let mut res = redirect(safe_next(&form.back));
    let year = 365 * 24 * 3600;
    res.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(
            &state,
            state.cookies.lang,
            lang.code(),
            Life::Seconds(year),
            false,
            "Lax",
        ),
    );
    res
}
