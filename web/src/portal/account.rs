use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::domain::node::{self, NodeView};
use roster_core::model::{Lang, NodeKind};

use crate::extract::CurrentActor;
use crate::page::{Frame, PageError, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "portal/account.html")]
struct AccountPage {
    frame: Frame,
    node: NodeView,
    kind_key: &'static str,
    language_name: &'static str,
}

/// The node the actor administers: its name, kind, defaults and contact.
pub async fn show_account(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Response {
    let node = match node::administered_node(&state.ctx, &actor).await {
        Ok(node) => node,
        Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    let kind_key = match node.kind {
        NodeKind::Operator => "node-kind-operator",
        NodeKind::Account => "node-kind-account",
        NodeKind::Unit => "node-kind-unit",
    };
    let language_name = Lang::parse(&node.default_language)
        .unwrap_or_default()
        .native_name();
    render(
        StatusCode::OK,
        &AccountPage {
            frame: Frame::signed_in(&actor, "account"),
            node,
            kind_key,
            language_name,
        },
    )
}
