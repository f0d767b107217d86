//! Operations endpoints: liveness, readiness, and the not-found page.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::extract::PageLang;
use crate::page::PageError;
use crate::state::AppState;

/// Alive: the process answers.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: the database answers too.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.ctx.db.ping().await {
        Ok(()) => "ready\n".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database not reachable\n").into_response()
        }
    }
}

pub async fn not_found(PageLang(lang): PageLang) -> Response {
    PageError::new(StatusCode::NOT_FOUND, "error-not-found", lang, None).into_response()
}
