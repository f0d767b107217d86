//! Any log view, filtered as on its page, downloaded as CSV or JSON Lines: `…/logs.csv`,
//! `…/logs.jsonl`. The file is streamed, a thousand entries per read, so an account's whole
//! history never sits in memory; a CSV cell a spreadsheet would run as a formula is
//! neutralised. The reader is checked again before every read.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roster_core::Error;
use roster_core::domain::Actor;
use roster_core::domain::timeline::{Entry, Filter, MAX_READ, cursor};
use roster_core::model::{NodeId, UserId};
use serde_json::json;

use super::logs::{LogsQuery, Source};
use crate::extract::CurrentActor;
use crate::page::PageError;
use crate::state::AppState;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    JsonLines,
}

const COLUMNS: [&str; 11] = [
    "at", "kind", "action", "actor", "target", "address", "token", "outcome", "changes", "message",
    "count",
];

fn csv_row(e: &Entry) -> Vec<String> {
    let changes: Vec<String> = e
        .changes
        .iter()
        .map(|c| {
            format!(
                "{}: {} → {}",
                c.field,
                c.before.as_deref().unwrap_or("—"),
                c.after.as_deref().unwrap_or("—")
            )
        })
        .collect();
    let target = e
        .target
        .as_ref()
        .map(|t| {
            if t.label.is_empty() {
                format!("{} {}", t.kind, t.id)
            } else {
                t.label.clone()
            }
        })
        .unwrap_or_default();
    let message = e
        .delivery
        .as_ref()
        .map(|d| format!("{} {} to {}: {}", d.channel, d.kind, d.recipient, d.state))
        .unwrap_or_default();
    vec![
        e.at.to_rfc3339(),
        e.kind.as_str().into(),
        e.action.clone(),
        e.actor.clone(),
        target,
        e.ip.clone(),
        e.token.clone().unwrap_or_default(),
        e.outcome.clone(),
        changes.join("; "),
        message,
        e.usage
            .as_ref()
            .map(|u| u.count.to_string())
            .unwrap_or_default(),
    ]
}

fn json_line(e: &Entry) -> String {
    let value = json!({
        "id": e.id.to_string(),
        "at": e.at.to_rfc3339(),
        "kind": e.kind.as_str(),
        "action": e.action,
        "actor": e.actor,
        "target": e.target.as_ref().map(|t| json!({ "kind": t.kind, "id": t.id, "name": t.label })),
        "address": e.ip,
        "token": e.token,
        "outcome": e.outcome,
        "changes": e.changes.iter().map(|c| json!({ "field": c.field, "before": c.before, "after": c.after })).collect::<Vec<_>>(),
        "message": e.delivery.as_ref().map(|d| json!({
            "channel": d.channel, "kind": d.kind, "recipient": d.recipient, "state": d.state,
            "attempts": d.attempts, "error": d.error,
            "sent_at": d.sent_at.map(|t| t.to_rfc3339()),
        })),
        "usage": e.usage.as_ref().map(|u| json!({
            "service": u.service, "kind": u.kind, "count": u.count, "event_id": u.event_id,
        })),
    });
    let mut line = value.to_string();
    line.push('\n');
    line
}

/// What the download has read so far.
struct Reading {
    state: AppState,
    session: String,
    source: Source,
    filter: Filter,
    format: Format,
    started: bool,
    done: bool,
}

async fn export(
    state: AppState,
    actor: Actor,
    source: Source,
    q: LogsQuery,
    format: Format,
    headers: axum::http::HeaderMap,
) -> Response {
    let mut filter = match q.filter() {
        Ok(f) => f,
        Err(e) => return PageError::from_core(e, actor.lang, None).into_response(),
    };
    filter.limit = Some(MAX_READ);
    // Refused before anything is sent (404), as the page is.
    let probe = Filter {
        limit: Some(1),
        ..filter.clone()
    };
    if let Err(e) = source.read(&state, &actor, &probe).await {
        return PageError::from_core(e, actor.lang, None).into_response();
    }
    let session = crate::extract::cookies::get(&headers, state.cookies.session).unwrap_or_default();
    let start = Reading {
        state,
        session,
        source,
        filter,
        format,
        started: false,
        done: false,
    };
    let chunks = futures_util::stream::unfold(start, |mut r| async move {
        if r.done {
            return None;
        }
        let mut out = String::new();
        if !r.started && r.format == Format::Csv {
            out.push_str(&roster_core::model::csv::write(&[COLUMNS
                .iter()
                .map(|c| c.to_string())
                .collect()]));
        }
        r.started = true;
        // Who is reading, again: a session that ended stops the download.
        let actor = match roster_core::domain::auth::authenticate(&r.state.ctx, &r.session).await {
            Ok(Some(a)) if a.stage == roster_core::domain::Stage::Full => a,
            _ => return None,
        };
        let line = match r.source.read(&r.state, &actor, &r.filter).await {
            Ok(line) => line,
            Err(e) => {
                tracing::warn!(error = %e, "log export stopped");
                return None;
            }
        };
        match r.format {
            Format::Csv => {
                let rows: Vec<Vec<String>> = line.entries.iter().map(csv_row).collect();
                out.push_str(&roster_core::model::csv::write(&rows));
            }
            Format::JsonLines => {
                for e in &line.entries {
                    out.push_str(&json_line(e));
                }
            }
        }
        match line.next.as_deref().and_then(cursor) {
            Some(key) => r.filter.before = Some(key),
            None => r.done = true,
        }
        Some((Ok::<_, std::convert::Infallible>(out), r))
    });
    let (kind, ext) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::JsonLines => ("application/x-ndjson", "jsonl"),
    };
    let mut res = (StatusCode::OK, Body::from_stream(chunks)).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"logs.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// The format the address ends in.
fn format_of(uri: &axum::http::Uri) -> Format {
    if uri.path().ends_with(".jsonl") {
        Format::JsonLines
    } else {
        Format::Csv
    }
}

/// `/users/{id}/logs.csv`, `/users/{id}/logs.jsonl`.
pub async fn export_user_logs(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    Query(q): Query<LogsQuery>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    match UserId::parse(&id) {
        Some(id) => export(state, actor, Source::User(id), q, format_of(&uri), headers).await,
        None => PageError::from_core(Error::NotFound, actor.lang, None).into_response(),
    }
}

/// `/nodes/{id}/logs.csv`, `/nodes/{id}/logs.jsonl`.
pub async fn export_node_logs(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    Query(q): Query<LogsQuery>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    match NodeId::parse(&id) {
        Some(id) => export(state, actor, Source::Node(id), q, format_of(&uri), headers).await,
        None => PageError::from_core(Error::NotFound, actor.lang, None).into_response(),
    }
}

/// `/toolbox/logs.csv`, `/toolbox/logs.jsonl`.
pub async fn export_own_logs(
    State(state): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(q): Query<LogsQuery>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    let id = actor.user_id;
    export(state, actor, Source::User(id), q, format_of(&uri), headers).await
}
