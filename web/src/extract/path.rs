use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use roster_core::model::UserId;

use super::lang::page_lang;
use crate::page::PageError;
use crate::state::AppState;

/// The user id of a `/users/{id}/…` route; anything that is not an id is a 404 page.
pub struct UserPath(pub UserId);

impl FromRequestParts<AppState> for UserPath {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let id = Path::<String>::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|Path(s)| UserId::parse(&s));
        id.map(UserPath).ok_or_else(|| {
            PageError::new(
                StatusCode::NOT_FOUND,
                "error-not-found",
                page_lang(parts, state),
                None,
            )
            .into_response()
        })
    }
}
