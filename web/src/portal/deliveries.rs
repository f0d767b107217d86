//! Management › Deliveries: every message with its state, filters, and resending a failed one.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::Error;
use roster_core::domain::outbox::{self, Delivery};
use roster_core::model::MessageId;
use serde::Deserialize;
use uuid::Uuid;

use crate::extract::{CsrfForm, CurrentActor};
use crate::page::{Frame, PageError, redirect, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "portal/deliveries.html")]
struct DeliveriesPage {
    frame: Frame,
    rows: Vec<Delivery>,
    recipient: String,
    state: String,
    no_mail_server: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeliveriesQuery {
    recipient: String,
    state: String,
}

pub async fn show_deliveries(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(q): Query<DeliveriesQuery>,
) -> Response {
    match outbox::list_deliveries(&state.ctx, &actor, &q.recipient, &q.state).await {
        Ok(rows) => render(
            StatusCode::OK,
            &DeliveriesPage {
                frame: Frame::signed_in(&actor, "management"),
                rows,
                recipient: q.recipient,
                state: q.state,
                no_mail_server: !state.mail_configured,
            },
        ),
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyForm {}

pub async fn resend_delivery(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(actor, _): CsrfForm<EmptyForm>,
) -> Response {
    let Ok(id) = Uuid::try_parse(&id) else {
        return PageError::from_core(Error::NotFound, actor.lang, None).into_response();
    };
    match outbox::resend_message(&state.ctx, &actor, MessageId(id)).await {
        Ok(()) => redirect("/management/deliveries?state=queued"),
        Err(e) => PageError::from_core(e, actor.lang, None).into_response(),
    }
}
