//! "Logs": a user's timeline (`/users/{id}/logs` for their administrators, `/toolbox/logs` for
//! the user themself) and a unit's or account's (`/nodes/{id}/logs`, the operator's root: the
//! whole audit), with the filters in the address; a user's newest page is live.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_core::Error;
use roster_core::domain::timeline::{self, Entry, Filter, Kind, Timeline};
use roster_core::model::{NodeId, UserId};
use serde::Deserialize;

use roster_core::domain::Actor;

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
    /// A unit's or account's log (not a user's).
    node: bool,
    q: LogsQuery,
    kinds: Vec<&'static str>,
    entries: Vec<Entry>,
    /// The address of the next (older) page.
    older: Option<String>,
    /// The live view's address, on the newest page.
    stream: Option<String>,
    /// The same view as CSV and as JSON Lines.
    csv: String,
    jsonl: String,
    errors: FormErrors,
}

/// Whose log.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    User(UserId),
    Node(NodeId),
}

impl Source {
    /// One page (or, with `filter.limit`, one read) of the log, for a reader allowed to see it.
    pub async fn read(
        self,
        state: &AppState,
        actor: &Actor,
        filter: &Filter,
    ) -> Result<Timeline, Error> {
        match self {
            Source::User(id) => timeline::user_timeline(&state.ctx, actor, id, filter).await,
            Source::Node(id) => {
                roster_core::domain::node_log::node_timeline(&state.ctx, actor, id, filter).await
            }
        }
    }
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
    /// The filter the address asks for.
    pub fn filter(&self) -> Result<Filter, Error> {
        Filter::parse(&self.kind, &self.actor, &self.from, &self.to, &self.before)
    }

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
    logs_page(&state, &actor, Source::User(id), base, back, q).await
}

/// A unit's or account's log, for its administrators (the operator's root: the whole audit).
pub async fn show_node_logs(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    Query(q): Query<LogsQuery>,
) -> Response {
    let Some(id) = NodeId::parse(&id) else {
        return PageError::from_core(Error::NotFound, actor.lang, None).into_response();
    };
    let base = format!("/nodes/{id}/logs");
    logs_page(&state, &actor, Source::Node(id), base, String::new(), q).await
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
        Source::User(id),
        "/toolbox/logs".into(),
        "/toolbox".into(),
        q,
    )
    .await
}

async fn logs_page(
    state: &AppState,
    actor: &Actor,
    source: Source,
    base: String,
    mut back: String,
    q: LogsQuery,
) -> Response {
    let own = matches!(source, Source::User(id) if id == actor.user_id);
    let tab = if own { "" } else { "users" };
    let (filter, errors) = match q.filter() {
        Ok(f) => (f, vec![]),
        Err(Error::Invalid(list)) => (Filter::default(), list),
        Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    let line = match source.read(state, actor, &filter).await {
        Ok(line) => line,
        Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    let name = match source {
        Source::User(id) => roster_core::domain::user::get_own_detail(&state.ctx, actor, id)
            .await
            .map(|d| d.display_name())
            .unwrap_or_default(),
        Source::Node(id) => {
            match roster_core::domain::node::get_node(&state.ctx, actor, id).await {
                Ok(n) => {
                    back = match n.kind.as_str() {
                        "account" => "/account".into(),
                        "operator" => "/management".into(),
                        _ => format!("/units/{id}"),
                    };
                    n.name
                }
                Err(_) => String::new(),
            }
        }
    };
    // A refused filter shows what to correct, not an unfiltered list.
    let (entries, next) = if errors.is_empty() {
        (line.entries, line.next)
    } else {
        (vec![], None)
    };
    let older = next.as_deref().map(|c| q.with_before(&base, c));
    // The newest page follows new entries as they are written.
    let user_log = matches!(source, Source::User(_));
    let stream = (user_log
        && q.before.is_empty()
        && q.from.is_empty()
        && q.to.is_empty()
        && errors.is_empty())
    .then(|| {
        let newest = entries
            .first()
            .map(Entry::cursor)
            .unwrap_or_else(|| format!("{}_{}", state.ctx.clock.now().millis(), uuid::Uuid::max()));
        let pairs: Vec<(&str, &str)> = [
            ("kind", q.kind.as_str()),
            ("actor", q.actor.as_str()),
            ("after", newest.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        format!(
            "{base}/stream?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let export = |ext: &str| {
        let mut view = q.clone();
        view.before.clear();
        view.with_before(&format!("{base}.{ext}"), "")
    };
    render(
        status,
        &LogsPage {
            csv: export("csv"),
            jsonl: export("jsonl"),
            frame: Frame::signed_in(actor, tab),
            name,
            base,
            back,
            own,
            q,
            node: !user_log,
            // Messages and usage are a user's: a node's log offers the rest.
            kinds: Kind::ALL
                .iter()
                .filter(|k| user_log || !matches!(k, Kind::Messages | Kind::Usage))
                .map(|k| k.as_str())
                .collect(),
            entries,
            older,
            stream,
            errors: FormErrors::new(actor.lang, errors),
        },
    )
}

/// One entry, as the live view inserts it.
#[derive(Template)]
#[template(path = "portal/log_entry.html")]
struct EntryFragment<'a> {
    frame: &'a Frame,
    e: &'a Entry,
}

/// What a live view has said so far, and what it waits on.
struct Live {
    state: AppState,
    session: String,
    user: UserId,
    filter: Filter,
    /// The newest entry sent.
    key: (i64, uuid::Uuid),
    pending: std::collections::VecDeque<Entry>,
    /// The reader's language, as their session has it now.
    lang: roster_core::model::Lang,
    changes: tokio::sync::watch::Receiver<u64>,
    shutdown: tokio::sync::watch::Receiver<bool>,
}

/// `…/logs/stream`: Server-Sent Events of the entries newer than `Last-Event-ID` (or `after`),
/// each an `entry` event whose data is the entry's HTML and whose id is its cursor, so a
/// reconnecting browser replays what it missed from the database. The session is checked again
/// before every read (a session that ended or lost its grant ends the stream), each entry
/// passes the same scope check as the page, and shutdown closes every stream.
pub async fn stream_user_logs(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    Query(q): Query<StreamQuery>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some(id) = UserId::parse(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    live(state, actor, id, q, headers).await
}

/// The user's own live log.
pub async fn stream_own_logs(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(q): Query<StreamQuery>,
    headers: axum::http::HeaderMap,
) -> Response {
    let id = actor.user_id;
    live(state, actor, id, q, headers).await
}

/// A live view's filters and where it starts.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct StreamQuery {
    kind: String,
    actor: String,
    after: String,
}

async fn live(
    state: AppState,
    actor: Actor,
    id: UserId,
    q: StreamQuery,
    headers: axum::http::HeaderMap,
) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};

    let Ok(mut filter) = Filter::parse(&q.kind, &q.actor, "", "", "") else {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    };
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let from = resumed.unwrap_or(q.after);
    let now = state.ctx.clock.now().millis();
    let key = timeline::cursor(&from).unwrap_or((now, uuid::Uuid::max()));
    // Refused before the stream opens (404), like the page.
    filter.after = Some(key);
    if let Err(e) = timeline::user_timeline(&state.ctx, &actor, id, &filter).await {
        return PageError::from_core(e, actor.lang, None).into_response();
    }
    let session = crate::extract::cookies::get(&headers, state.cookies.session).unwrap_or_default();
    let start = Live {
        changes: state.ctx.db.changes(),
        shutdown: state.shutdown.subscribe(),
        state,
        session,
        user: id,
        filter,
        key,
        pending: Default::default(),
        lang: actor.lang,
    };
    let events = futures_util::stream::unfold(start, |mut live| async move {
        loop {
            if let Some(e) = live.pending.pop_front() {
                let frame = Frame::new(live.lang, String::new(), "");
                let html = EntryFragment {
                    frame: &frame,
                    e: &e,
                }
                .render()
                .unwrap_or_default();
                let event = Event::default().event("entry").id(e.cursor()).data(html);
                return Some((Ok::<_, std::convert::Infallible>(event), live));
            }
            // Who is asking, again: a session that ended or lost its rights ends the stream.
            let actor =
                match roster_core::domain::auth::authenticate(&live.state.ctx, &live.session).await
                {
                    Ok(Some(a)) if a.stage == roster_core::domain::Stage::Full => a,
                    _ => return None,
                };
            live.lang = actor.lang;
            live.filter.after = Some(live.key);
            match timeline::user_timeline(&live.state.ctx, &actor, live.user, &live.filter).await {
                Ok(line) => {
                    for e in line.entries {
                        live.key = (e.at.millis(), e.id);
                        live.pending.push_back(e);
                    }
                }
                Err(_) => return None,
            }
            if !live.pending.is_empty() {
                continue;
            }
            tokio::select! {
                changed = live.changes.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                    // A burst of commits is read once.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
                _ = live.shutdown.changed() => return None,
            }
        }
    });
    let mut res = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15)))
        .into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}
