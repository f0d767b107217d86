use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use roster_core::domain::Actor;
use roster_core::model::Lang;

use super::cookies;
use crate::state::AppState;

/// The page language: the signed-in user's choice, else the language cookie, else the
/// browser's `Accept-Language`.
pub struct PageLang(pub Lang);

impl FromRequestParts<AppState> for PageLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(PageLang(page_lang(parts, state)))
    }
}

pub fn page_lang(parts: &Parts, state: &AppState) -> Lang {
    if let Some(actor) = parts.extensions.get::<Actor>() {
        return actor.lang;
    }
    if let Some(lang) =
        cookies::get(&parts.headers, state.cookies.lang).and_then(|c| Lang::parse(&c))
    {
        return lang;
    }
    let accept = parts
        .headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Lang::negotiate(accept)
}
