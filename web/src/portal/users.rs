use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::domain::user;
use roster_core::model::UserStatus;

use crate::extract::CurrentActor;
use crate::page::{Frame, PageError, render};
use crate::state::AppState;

struct UserRow {
    name: String,
    email: String,
    type_key: &'static str,
    status: &'static str,
    status_key: &'static str,
}

#[derive(Template)]
#[template(path = "portal/users.html")]
struct UsersPage {
    frame: Frame,
    users: Vec<UserRow>,
}

/// The users the actor administers.
pub async fn show_users(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Response {
    let users = match user::list_users(&state.ctx, &actor, 200).await {
        Ok(users) => users,
        Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    let users = users
        .into_iter()
        .map(|u| UserRow {
            name: u.name,
            email: u.email,
            type_key: if u.user_type == "administrator" {
                "user-type-administrator"
            } else {
                "user-type-user"
            },
            status: u.status.as_str(),
            status_key: match u.status {
                UserStatus::Invited => "status-invited",
                UserStatus::Active => "status-active",
                UserStatus::Disabled => "status-disabled",
            },
        })
        .collect();
    render(
        StatusCode::OK,
        &UsersPage {
            frame: Frame::signed_in(&actor, "users"),
            users,
        },
    )
}
