use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::domain::session::{self, SessionView};

use crate::extract::CurrentActor;
use crate::page::{Frame, PageError, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "portal/devices.html")]
struct DevicesPage {
    frame: Frame,
    sessions: Vec<SessionView>,
}

/// The browsers and devices signed in as the actor.
pub async fn show_devices(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Response {
    match session::list_own_sessions(&state.ctx, &actor).await {
        Ok(sessions) => render(
            StatusCode::OK,
            &DevicesPage {
                frame: Frame::signed_in(&actor, "devices"),
                sessions,
            },
        ),
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}
