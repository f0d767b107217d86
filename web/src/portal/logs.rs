//! "Logs": a user's timeline (`/users/{id}/logs` for their administrators, `/toolbox/logs` for
//! the user themself), with its filters in the address.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::Error;
use roster_core::domain::timeline::{self, Entry, Filter, Kind};
use roster_core::model::UserId;
use serde::Deserialize;

use crate::extract::CurrentActor;
use crate::page::{FormErrors, Frame, PageError, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "portal/logs.html")]
struct LogsPage {
    frame: Frame,
    /// Whose log it is, and where the page lives.
    name: String,
    base: String,
    back: String,
    own: bool,
    q: LogsQuery,
    kinds: Vec<&'static str>,
    entries: Vec<Entry>,
    /// The address of the next (older) page.
    older: Option<String>,
    errors: FormErrors,
}

/// The filters as the address carries them.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct LogsQuery {
    kind: String,
    actor: String,
    from: String,
    to: String,
    before: String,
}

impl LogsQuery {
    /// The address of this view with `before` set to `cursor`.
    fn with_before(&self, base: &str, cursor: &str) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("kind", self.kind.as_str()),
            ("actor", self.actor.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("before", cursor),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        format!(
            "{base}?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    }
}

/// An administrator's view of a user's log.
pub async fn show_user_logs(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    Query(q): Query<LogsQuery>,
) -> Response {
    let Some(id) = UserId::parse(&id) else {
        return PageError::from_core(Error::NotFound, actor.lang, None).into_response();
    };
    let base = format!("/users/{id}/logs");
    let back = format!("/users/{id}");
    logs_page(&state, &actor, id, base, back, q).await
}

/// The user's own log, from their toolbox.
pub async fn show_own_logs(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(q): Query<LogsQuery>,
) -> Response {
    let id = actor.user_id;
    logs_page(
        &state,
        &actor,
        id,
        "/toolbox/logs".into(),
        "/toolbox".into(),
        q,
    )
    .await
}

async fn logs_page(
    state: &AppState,
    actor: &roster_core::domain::Actor,
    id: UserId,
    base: String,
    back: String,
    q: LogsQuery,
) -> Response {
    let own = id == actor.user_id;
    let tab = if own { "" } else { "users" };
    let (filter, errors) = match Filter::parse(&q.kind, &q.actor, &q.from, &q.to, &q.before) {
        Ok(f) => (f, vec![]),
        Err(Error::Invalid(list)) => (Filter::default(), list),
        Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    let result = async {
        let line = timeline::user_timeline(&state.ctx, actor, id, &filter).await?;
        let who = roster_core::domain::user::get_own_detail(&state.ctx, actor, id).await;
        Ok::<_, Error>((who, line))
    }
    .await;
    let (who, line) = match result {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    let name = who.map(|d| d.display_name()).unwrap_or_default();
    // A refused filter shows what to correct, not an unfiltered list.
    let (entries, next) = if errors.is_empty() {
        (line.entries, line.next)
    } else {
        (vec![], None)
    };
    let older = next.as_deref().map(|c| q.with_before(&base, c));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &LogsPage {
            frame: Frame::signed_in(actor, tab),
            name,
            base,
            back,
            own,
            q,
            kinds: Kind::ALL.iter().map(|k| k.as_str()).collect(),
            entries,
            older,
            errors: FormErrors::new(actor.lang, errors),
        },
    )
}
