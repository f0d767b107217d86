use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::domain::node::{self, AccountListItem};
use roster_core::domain::status::{self, SystemStatus};

use crate::extract::CurrentActor;
use crate::page::{Frame, PageError, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "portal/management.html")]
struct ManagementPage {
    frame: Frame,
    accounts: Vec<AccountListItem>,
    status: SystemStatus,
}

/// Operator staff only: customer accounts, system status, recent events.
pub async fn show_management(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Response {
    let result = async {
        let status = status::system_status(&state.ctx, &actor).await?;
        let accounts = node::list_accounts(&state.ctx, &actor, 200).await?;
        Ok::<_, roster_core::Error>((status, accounts))
    }
    .await;
    match result {
        Ok((status, accounts)) => render(
            StatusCode::OK,
            &ManagementPage {
                frame: Frame::signed_in(&actor, "management"),
                accounts,
                status,
            },
        ),
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}
