//! A user's "Logs": one timeline of everything about them — sign-ins and failed attempts,
//! second-factor changes, every administrative change with before → after per field (who,
//! when, from where, with which token), invitations and every message sent to them with its
//! delivery state. Newest first, paged by key, narrowed by kind, actor and time range.
//!
//! Who reads it: the user themself, and administrators of the user's unit (Access to a user is
//! for their settings, not their sign-in history). An event by the user about someone else is
//! shown only to readers who administer where that event happened.

use serde_json::Value;
use uuid::Uuid;

use super::Actor;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::{Timestamp, UserId};
use crate::store::{self, timeline::Narrow};

/// Entries a page shows at most.
pub const PAGE: usize = 50;
/// Entries one read gives at most (an export reads page after page of these).
pub const MAX_READ: usize = 1_000;

/// What an entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SignIn,
    Factors,
    Changes,
    Messages,
    Tokens,
    Scim,
    /// What the services reported the user used.
    Usage,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::SignIn,
        Kind::Factors,
        Kind::Changes,
        Kind::Messages,
        Kind::Tokens,
        Kind::Scim,
        Kind::Usage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SignIn => "sign-in",
            Kind::Factors => "factors",
            Kind::Changes => "changes",
            Kind::Messages => "messages",
            Kind::Tokens => "tokens",
            Kind::Scim => "scim",
            Kind::Usage => "usage",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The condition on an event that picks this kind (fixed text, no input); the same rule as
    /// [`Kind::of`].
    fn actions(self) -> Option<&'static str> {
        const SIGN_IN: &str = "(e.action LIKE 'sign-%' OR e.action IN ('reauth', 'session.end'))";
        const FACTORS: &str = "(e.action LIKE 'mfa.%' OR e.action LIKE 'phone.verify%')";
        const TOKENS: &str = "(e.action LIKE 'token.%' OR e.action LIKE 'scim.token.%')";
        const SCIM: &str = "e.credential_id IN (SELECT s.id FROM scim_tokens s)";
        match self {
            Kind::SignIn => Some(SIGN_IN),
            Kind::Factors => Some(FACTORS),
            Kind::Tokens => Some(TOKENS),
            Kind::Scim => Some(SCIM),
            Kind::Changes => Some(concat!(
                "NOT (e.action LIKE 'sign-%' OR e.action IN ('reauth', 'session.end') \
                 OR e.action LIKE 'mfa.%' OR e.action LIKE 'phone.verify%' \
                 OR e.action LIKE 'token.%' OR e.action LIKE 'scim.token.%') AND ",
                "(e.credential_id IS NULL OR e.credential_id NOT IN (SELECT s.id FROM scim_tokens s))"
            )),
            Kind::Messages | Kind::Usage => None,
        }
    }

    fn of(action: &str, by_scim: bool) -> Kind {
        if by_scim {
            Kind::Scim
        } else if action.starts_with("sign-") || action == "reauth" || action == "session.end" {
            Kind::SignIn
        } else if action.starts_with("mfa.") || action.starts_with("phone.verify") {
            Kind::Factors
        } else if action.starts_with("token.") || action.starts_with("scim.token.") {
            Kind::Tokens
        } else {
            Kind::Changes
        }
    }
}

/// What the reader asks for, as the page's address carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub kind: Option<Kind>,
    /// Who acted: their address (or a token's label), exactly.
    pub actor: Option<String>,
    /// From the start of this day (UTC), up to the end of `to`.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Older than the entry this names (`<millis>_<id>`).
    pub before: Option<(i64, Uuid)>,
    /// Newer than the entry this names, oldest first: what a live view has not shown yet.
    pub after: Option<(i64, Uuid)>,
    /// Entries to read (None: a page's worth; at most [`MAX_READ`]).
    pub limit: Option<usize>,
}

impl Filter {
    pub(crate) fn page(&self) -> usize {
        self.limit.unwrap_or(PAGE).clamp(1, MAX_READ)
    }

    pub(crate) fn narrow(&self) -> Narrow<'_> {
        Narrow {
            from: self.from.map_or(i64::MIN, |t| t.millis()),
            to: self.to.map_or(i64::MAX, |t| t.millis() + 86_400_000),
            key: self.before.or(self.after),
            newer: self.after.is_some(),
            actor_label: self.actor.as_deref(),
            actions: self.kind.and_then(Kind::actions),
            limit: self.page() as i64 + 1,
        }
    }
}

impl Filter {
    /// The filter from the address's values; a bad value names its field.
    pub fn parse(kind: &str, actor: &str, from: &str, to: &str, before: &str) -> Result<Filter> {
        let mut p = crate::error::Problems::default();
        let kind = match kind.trim() {
            "" => None,
            k => Kind::parse(k).or_else(|| {
                p.add("kind", "logs-kind-invalid");
                None
            }),
        };
        let mut date = |field: &'static str, text: &str| match text.trim() {
            "" => None,
            t => Timestamp::parse_date(t).or_else(|| {
                p.add(field, "date-invalid");
                None
            }),
        };
        let (from, to) = (date("from", from), date("to", to));
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            p.add("to", "logs-range-backwards");
        }
        let before = match before.trim() {
            "" => None,
            b => cursor(b).or_else(|| {
                p.add("before", "logs-cursor-invalid");
                None
            }),
        };
        let actor = Some(actor.trim().to_lowercase()).filter(|a| !a.is_empty());
        p.finish()?;
        Ok(Filter {
            kind,
            actor,
            from,
            to,
            before,
            after: None,
            limit: None,
        })
    }
}

/// The key an entry's cursor names (`<millis>_<id>`, as in `Last-Event-ID`).
pub fn cursor(text: &str) -> Option<(i64, Uuid)> {
    let (at, id) = text.split_once('_')?;
    Some((at.parse().ok()?, Uuid::parse_str(id).ok()?))
}

/// One field's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A message sent (or to be sent) to the user, as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub channel: String,
    pub kind: String,
    pub recipient: String,
    /// `queued`, `sent` or `failed`.
    pub state: String,
    pub attempts: i64,
    /// The server's answer to the last try that failed.
    pub error: String,
    pub sent_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: Uuid,
    pub at: Timestamp,
    pub kind: Kind,
    /// The event's action (`user.update`, `sign-in.failed`, …) or the message's kind.
    pub action: String,
    /// Who acted: an address, a token's label, "scheduler".
    pub actor: String,
    /// The user whose log this is did it (to someone else, or to themself).
    pub by_them: bool,
    pub ip: String,
    pub outcome: String,
    /// The API or SCIM token it was done with.
    pub token: Option<String>,
    pub changes: Vec<Change>,
    pub delivery: Option<Delivery>,
    pub usage: Option<Usage>,
    /// Whom or what it was about, in a unit's or account's log.
    pub target: Option<Target>,
}

/// What an event was about, named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `user`, `node`, …
    pub kind: String,
    pub id: String,
    /// A user's name or address ("" when the user is gone).
    pub label: String,
}

/// What a service reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub service: String,
    pub kind: String,
    pub count: i64,
    /// The service's own id of the event.
    pub event_id: String,
}

impl Entry {
    /// The key of the page after this entry.
    pub fn cursor(&self) -> String {
        format!("{}_{}", self.at.millis(), self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub entries: Vec<Entry>,
    /// The cursor of the next (older) page, when there is one.
    pub next: Option<String>,
}

/// A user whose history (Logs, Statistics) `actor` may read: the user themself, or an
/// administrator of a subtree holding the user's unit; 404 for anyone else.
pub(crate) async fn readable_user(
    conn: &mut store::Conn,
    actor: &Actor,
    user: UserId,
) -> Result<store::user::UserRow> {
    let row = store::user::find_user(conn.ex(), user.0)
        .await?
        .ok_or(Error::NotFound)?;
    if actor.user_id != user {
        let node = store::node::get_node(conn.ex(), row.node_id).await?;
        if !actor.administers_path(&node.path) {
            return Err(Error::NotFound);
        }
    }
    Ok(row)
}

/// A unit or account whose history `actor` may read: its administrators' (and those above);
/// 404 for anyone else.
pub(crate) async fn readable_node(
    conn: &mut store::Conn,
    actor: &Actor,
    node: crate::model::NodeId,
) -> Result<store::node::NodeRow> {
    let row = store::node::find_node(conn.ex(), node.0)
        .await?
        .ok_or(Error::NotFound)?;
    if !actor.administers_path(&row.path) {
        return Err(Error::NotFound);
    }
    Ok(row)
}

/// A user's timeline for a reader allowed to see it (404 for anyone else).
pub async fn user_timeline(
    ctx: &Ctx,
    actor: &Actor,
    user: UserId,
    filter: &Filter,
) -> Result<Timeline> {
    let mut conn = ctx.db.conn().await?;
    let row = readable_user(&mut conn, actor, user).await?;
    let own = actor.user_id == user;
    let narrow = filter.narrow();
    let page = filter.page();
    let mut entries: Vec<Entry> = vec![];
    let only = |k: Kind| filter.kind.is_none() || filter.kind == Some(k);
    if filter.kind != Some(Kind::Messages) && filter.kind != Some(Kind::Usage) {
        // Everything about them is the reader's to see.
        for e in store::timeline::events(conn.ex(), row.id, true, &narrow).await? {
            entries.push(event_entry(e, row.id, own));
        }
        // What they did elsewhere only where the reader administers: read on past what the
        // reader may not see until a page is full or nothing older is left, so no page skips
        // what the next one would need.
        let mut by = narrow;
        let mut found = 0;
        loop {
            let batch = store::timeline::events(conn.ex(), row.id, false, &by).await?;
            let full = batch.len() as i64 == by.limit;
            by.key = batch.last().map(|e| (e.at, e.id));
            for e in batch {
                let about_them = e.target_kind == "user" && e.target_id == row.id.to_string();
                let visible = own
                    || about_them
                    || e.node_path
                        .as_deref()
                        .is_some_and(|p| actor.administers_path(p));
                if visible && !entries.iter().any(|x| x.id == e.id) {
                    entries.push(event_entry(e, row.id, own));
                    found += 1;
                }
            }
            if !full || found > page {
                break;
            }
        }
    }
    if only(Kind::Messages) && filter.actor.is_none() {
        for m in store::timeline::messages(conn.ex(), row.id, &narrow).await? {
            entries.push(message_entry(m));
        }
    }
    if only(Kind::Usage) {
        for u in store::usage::user_usage(conn.ex(), row.id, &narrow).await? {
            entries.push(usage_entry(u));
        }
    }
    if filter.after.is_some() {
        entries.sort_by_key(|e| (e.at, e.id));
    } else {
        entries.sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));
    }
    let more = entries.len() > page;
    entries.truncate(page);
    let next = more.then(|| entries.last().map(Entry::cursor)).flatten();
    Ok(Timeline { entries, next })
}

/// An event as the page shows it. A user reading their own log sees who acted, not from where
/// or with which token (that is their administrators' to know).
pub(crate) fn event_entry(e: store::timeline::EventRow, user: Uuid, own: bool) -> Entry {
    let by_them = e.actor_user_id == Some(user);
    let hide = own && !by_them;
    Entry {
        id: e.id,
        at: Timestamp::from_millis(e.at),
        kind: Kind::of(&e.action, e.by_scim),
        changes: changes(&e.before_data, &e.after_data),
        action: e.action,
        actor: e.actor_label,
        by_them,
        ip: if hide { String::new() } else { e.ip },
        outcome: e.outcome,
        token: if hide { None } else { e.credential_name },
        delivery: None,
        usage: None,
        target: None,
    }
}

fn usage_entry(u: store::usage::UsageEvent) -> Entry {
    Entry {
        id: u.id,
        at: Timestamp::from_millis(u.at),
        kind: Kind::Usage,
        action: format!("{}:{}", u.service, u.kind),
        actor: u.reporter,
        by_them: false,
        ip: String::new(),
        outcome: "ok".into(),
        token: None,
        changes: vec![],
        delivery: None,
        usage: Some(Usage {
            service: u.service,
            kind: u.kind,
            count: u.count,
            event_id: u.event_id,
        }),
        target: None,
    }
}

fn message_entry(m: store::timeline::MessageRow) -> Entry {
    Entry {
        id: m.id,
        at: Timestamp::from_millis(m.created_at),
        kind: Kind::Messages,
        action: m.kind.clone(),
        actor: String::new(),
        by_them: false,
        ip: String::new(),
        outcome: m.state.clone(),
        token: None,
        changes: vec![],
        delivery: Some(Delivery {
            channel: m.channel,
            kind: m.kind,
            recipient: m.recipient,
            state: m.state,
            attempts: m.attempts,
            error: m.last_error,
            sent_at: m.sent_at.map(Timestamp::from_millis),
        }),
        usage: None,
        target: None,
    }
}

/// Before → after for each field of two JSON objects (what was written with the event): the
/// fields that differ, in order; a value that is not an object counts as one field, `value`.
pub fn changes(before: &str, after: &str) -> Vec<Change> {
    let parse = |t: &str| -> Option<Value> {
        if t.is_empty() {
            None
        } else {
            serde_json::from_str(t).ok()
        }
    };
    let as_map = |v: Option<Value>| -> Vec<(String, Value)> {
        match v {
            Some(Value::Object(m)) => m.into_iter().collect(),
            Some(Value::Null) | None => vec![],
            Some(other) => vec![("value".into(), other)],
        }
    };
    let before = as_map(parse(before));
    let after = as_map(parse(after));
    let mut fields: Vec<&String> = before.iter().map(|(k, _)| k).collect();
    for (k, _) in &after {
        if !fields.contains(&k) {
            fields.push(k);
        }
    }
    // An empty value counts as none: a new user's blank fields are not news.
    let get = |list: &[(String, Value)], k: &str| {
        list.iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !is_empty(v))
    };
    fields
        .into_iter()
        .filter_map(|f| {
            let (b, a) = (get(&before, f), get(&after, f));
            (b != a).then(|| Change {
                field: f.clone(),
                before: b.map(shown),
                after: a.map(shown),
            })
        })
        .collect()
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// A value as the page shows it: text without quotes, lists joined, the rest as JSON.
fn shown(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Null => "—".into(),
        Value::Array(items) => items.into_iter().map(shown).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_each_field_that_differs() {
        let c = changes(
            r#"{"first_name":"Nina","status":"active","services":["sms"]}"#,
            r#"{"first_name":"Nina","status":"disabled","services":["sms","fax"],"notes":"x"}"#,
        );
        let shown: Vec<_> = c
            .iter()
            .map(|c| (c.field.as_str(), c.before.as_deref(), c.after.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                ("services", Some("sms"), Some("sms, fax")),
                ("status", Some("active"), Some("disabled")),
                ("notes", None, Some("x")),
            ]
        );
        assert_eq!(changes("", ""), vec![]);
        let created = changes("", r#"{"email":"a@b.test","phone":"","services":[]}"#);
        assert_eq!(
            created.len(),
            1,
            "blank fields of a new user are left out: {created:?}"
        );
        let first = changes(r#"{"services":[]}"#, r#"{"services":["sms"]}"#);
        assert_eq!(first[0].before, None, "nothing before, not an empty value");
        assert_eq!(changes("", "3")[0].after.as_deref(), Some("3"));
    }

    #[test]
    fn the_filter_names_the_bad_field() {
        let f = Filter::parse("changes", " Admin@A.test ", "2026-12-01", "2026-12-03", "").unwrap();
        assert_eq!(f.kind, Some(Kind::Changes));
        assert_eq!(f.actor.as_deref(), Some("admin@a.test"));
        let Err(Error::Invalid(p)) = Filter::parse("nope", "", "2026-13-01", "", "x") else {
            panic!("refused");
        };
        let fields: Vec<_> = p.iter().map(|x| x.field).collect();
        assert_eq!(fields, ["kind", "from", "before"]);
        assert!(Filter::parse("", "", "2026-12-03", "2026-12-01", "").is_err());
    }
}
