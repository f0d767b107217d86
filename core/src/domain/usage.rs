//! Usage the services report (`POST /api/v1/usage`): batches of events — who, which service,
//! what kind (`sms-sent`, `sms-parts`, `fax-pages`, …), how many, when, and the service's own
//! event id. A batch is checked whole (one bad event refuses it, naming the event and its
//! field) and kept in one transaction; an event id the reporter sent before is counted as a
//! duplicate and changes nothing. Users the reporter's token does not reach are counted and
//! named by event id in the answer, never kept and never told apart from users that do not
//! exist.

use std::collections::{BTreeMap, HashMap};

use super::Actor;
use super::actor::Credential;
use crate::context::Ctx;
use crate::error::{Error, FieldError};
use crate::model::Timestamp;
use crate::store::{self, usage::NamedBy, usage::UsageRow};

/// Events a batch may hold.
pub const MAX_BATCH: usize = 5_000;
/// The most one event may count.
const MAX_COUNT: i64 = 1_000_000;
/// How far ahead of the server's clock an event may be (clocks drift).
const FUTURE_SLACK_MS: i64 = 5 * 60_000;

/// Who an event is about, as the service knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Id(String),
    /// A sign-in address or a confirmed alias.
    Email(String),
    /// A number connected to the user, in E.164.
    Number(String),
    Login(String),
}

/// One event as reported.
#[derive(Debug, Clone)]
pub struct Reported {
    /// None: the event named no user, or more than one way.
    pub who: Option<Who>,
    pub service: String,
    pub kind: String,
    pub count: i64,
    pub at: String,
    pub id: String,
}

/// What became of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ingested {
    pub received: usize,
    /// Kept now.
    pub accepted: u64,
    /// Already kept from an earlier report (same event id).
    pub duplicates: u64,
    /// The ids of events whose user is unknown (to this token), in the batch's order.
    pub unknown: Vec<String>,
}

/// A refused batch: the first bad event (counted from 1) and its fields' problems.
#[derive(Debug)]
pub enum Refused {
    Event {
        number: usize,
        fields: Vec<FieldError>,
    },
    Other(Error),
}

impl From<Error> for Refused {
    fn from(e: Error) -> Refused {
        Refused::Other(e)
    }
}

/// A kind is lowercase letters, digits and dashes, 1 to 40 of them, starting with a letter.
fn is_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Checks one event; the problems of each field.
fn check(ctx: &Ctx, e: &Reported, now: Timestamp) -> std::result::Result<i64, Vec<FieldError>> {
    let mut p: Vec<FieldError> = vec![];
    let mut add = |field, code| p.push(FieldError { field, code });
    match &e.who {
        None => add("user", "usage-user-invalid"),
        Some(Who::Id(t) | Who::Email(t) | Who::Number(t) | Who::Login(t))
            if t.trim().is_empty() || t.len() > 320 =>
        {
            add("user", "usage-user-invalid")
        }
        Some(_) => {}
    }
    if !ctx.settings.catalog.has(&e.service) {
        add("service", "usage-service-unknown");
    }
    if !is_name(&e.kind, 40) {
        add("kind", "usage-kind-invalid");
    }
    if !(1..=MAX_COUNT).contains(&e.count) {
        add("count", "usage-count-invalid");
    }
    let at = match Timestamp::parse_rfc3339(&e.at) {
        Some(t) if t.millis() <= now.millis() + FUTURE_SLACK_MS => Some(t.millis()),
        Some(_) => {
            add("at", "usage-at-future");
            None
        }
        None => {
            add("at", "usage-at-invalid");
            None
        }
    };
    if e.id.is_empty() || e.id.len() > 100 || e.id.chars().any(char::is_control) {
        add("id", "usage-id-invalid");
    }
    match at {
        Some(at) if p.is_empty() => Ok(at),
        _ => Err(p),
    }
}

/// Keeps a batch reported with a usage token.
pub async fn ingest(
    ctx: &Ctx,
    actor: &Actor,
    events: &[Reported],
) -> std::result::Result<Ingested, Refused> {
    let reach = match &actor.credential {
        Credential::ApiToken(t) if t.usage => t.reach.clone(),
        _ => return Err(Error::Forbidden.into()),
    };
    if events.is_empty() || events.len() > MAX_BATCH {
        return Err(Error::field("events", "usage-batch-size").into());
    }
    let now = ctx.clock.now();
    let mut ats = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        match check(ctx, e, now) {
            Ok(at) => ats.push(at),
            Err(fields) => {
                return Err(Refused::Event {
                    number: i + 1,
                    fields,
                });
            }
        }
    }
    // Each name once, each way of naming in one query per 500 names.
    let mut names: BTreeMap<NamedBy, Vec<String>> = BTreeMap::new();
    let keyed: Vec<(NamedBy, String)> = events
        .iter()
        .map(|e| match e.who.as_ref() {
            Some(Who::Id(t)) => (NamedBy::Id, t.trim().to_lowercase()),
            Some(Who::Email(t)) => (NamedBy::Email, t.trim().to_lowercase()),
            Some(Who::Number(t)) => (NamedBy::Number, t.trim().to_string()),
            Some(Who::Login(t)) => (NamedBy::Login, t.trim().to_lowercase()),
            None => (NamedBy::Login, String::new()),
        })
        .collect();
    for (by, key) in &keyed {
        names.entry(*by).or_default().push(key.clone());
    }
    let mut tx = ctx.db.begin().await?;
    let mut found: HashMap<(NamedBy, String), (uuid::Uuid, uuid::Uuid)> = HashMap::new();
    for (by, mut keys) in names {
        keys.sort_unstable();
        keys.dedup();
        for r in store::usage::reach_users(tx.ex(), by, &keys).await? {
            // A user outside the token's reach is as unknown as one who does not exist.
            if !reach.is_empty() && r.path.starts_with(&reach) {
                found.insert((by, r.key), (r.user_id, r.node_id));
            }
        }
    }
    let mut out = Ingested {
        received: events.len(),
        ..Default::default()
    };
    let mut rows = Vec::with_capacity(events.len());
    let mut seen = std::collections::HashSet::with_capacity(events.len());
    for ((e, at), key) in events.iter().zip(ats).zip(keyed) {
        let Some(&(user_id, node_id)) = found.get(&key) else {
            out.unknown.push(e.id.clone());
            continue;
        };
        // The same id twice in one batch is kept once.
        if !seen.insert(e.id.as_str()) {
            out.duplicates += 1;
            continue;
        }
        rows.push(UsageRow {
            event_id: e.id.clone(),
            user_id,
            node_id,
            service: e.service.clone(),
            kind: e.kind.clone(),
            count: e.count,
            at,
        });
    }
    let kept = store::usage::insert_usage(tx.ex(), actor.user_id.0, &rows, now.millis()).await?;
    tx.commit().await?;
    out.accepted = kept;
    out.duplicates += rows.len() as u64 - kept;
    Ok(out)
}
