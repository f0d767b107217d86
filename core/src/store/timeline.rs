//! A user's timeline: audit events about them or by them, and the messages sent to them,
//! newest first and paged by key (`at`, `id`).

use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct EventRow {
    pub id: Uuid,
    pub at: i64,
    pub actor_user_id: Option<Uuid>,
    pub actor_label: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub node_path: Option<String>,
    pub before_data: String,
    pub after_data: String,
    pub ip: String,
    pub outcome: String,
    /// The API or SCIM token the change was made with, by its name.
    pub credential_name: Option<String>,
    /// Made by an identity provider over SCIM.
    pub by_scim: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct MessageRow {
    pub id: Uuid,
    pub created_at: i64,
    pub channel: String,
    pub kind: String,
    pub recipient: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: String,
    pub sent_at: Option<i64>,
}

/// What the events are narrowed to; every value is bound, only the choice of fixed fragments
/// is written into the text.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Narrow<'a> {
    pub from: i64,
    pub to: i64,
    /// Older than this key (newer, with `newer`).
    pub key: Option<(i64, Uuid)>,
    /// Entries after the key, oldest first (a live view catching up), instead of before it.
    pub newer: bool,
    pub actor_label: Option<&'a str>,
    /// A fixed condition on `action` (one of the kinds' fragments).
    pub actions: Option<&'static str>,
    pub limit: i64,
}

impl Narrow<'_> {
    /// The key to start from: the given one, else the newest (or, with `newer`, the oldest).
    pub(crate) fn start(&self) -> (i64, Uuid) {
        match (self.key, self.newer) {
            (Some(k), _) => k,
            (None, false) => (i64::MAX, Uuid::max()),
            (None, true) => (i64::MIN, Uuid::nil()),
        }
    }
}

const EVENT_COLUMNS: &str = "e.id, e.at, e.actor_user_id, e.actor_label, e.action, e.target_kind, \
     e.target_id, (SELECT n.path FROM nodes n WHERE n.id = e.node_id) AS node_path, \
     e.before_data, e.after_data, e.ip, e.outcome, \
     COALESCE((SELECT t.name FROM api_tokens t WHERE t.id = e.credential_id), \
              (SELECT s.name FROM scim_tokens s WHERE s.id = e.credential_id)) AS credential_name, \
     EXISTS (SELECT 1 FROM scim_tokens s WHERE s.id = e.credential_id) AS by_scim";

/// Whose events: about a user, by a user, in a subtree, or all of them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Whose<'a> {
    About(Uuid),
    By(Uuid),
    /// Events of the nodes whose path starts with this one.
    Under(&'a str),
    All,
}

/// Events about `user` (`about`) or by them (`!about`), narrowed, newest first.
pub(crate) async fn events(
    ex: Ex<'_>,
    user: Uuid,
    about: bool,
    n: &Narrow<'_>,
) -> Result<Vec<EventRow>> {
    let whose = if about {
        Whose::About(user)
    } else {
        Whose::By(user)
    };
    events_of(ex, whose, n).await
}

/// The events of `whose`, narrowed, newest first (oldest first with `newer`).
pub(crate) async fn events_of(
    ex: Ex<'_>,
    whose: Whose<'_>,
    n: &Narrow<'_>,
) -> Result<Vec<EventRow>> {
    let (text, id) = match whose {
        Whose::About(u) => (u.to_string(), u),
        Whose::By(u) => (String::new(), u),
        Whose::Under(path) => (format!("{path}%"), Uuid::nil()),
        Whose::All => (String::new(), Uuid::nil()),
    };
    let mut sql = format!("SELECT {EVENT_COLUMNS} FROM audit_events e WHERE ");
    sql.push_str(match whose {
        Whose::About(_) => "e.target_kind = 'user' AND e.target_id = $1 AND $2 = $2",
        Whose::By(_) => "e.actor_user_id = $2 AND $1 = $1",
        Whose::Under(_) => {
            "e.node_id IN (SELECT s.id FROM nodes s WHERE s.path LIKE $1) AND $2 = $2"
        }
        Whose::All => "$1 = $1 AND $2 = $2",
    });
    sql.push_str(if n.newer {
        " AND e.at >= $3 AND e.at < $4 AND (e.at > $5 OR (e.at = $5 AND e.id > $6))"
    } else {
        " AND e.at >= $3 AND e.at < $4 AND (e.at < $5 OR (e.at = $5 AND e.id < $6))"
    });
    if n.actor_label.is_some() {
        sql.push_str(" AND LOWER(e.actor_label) = $7");
    } else {
        sql.push_str(" AND $7 = $7");
    }
    if let Some(actions) = n.actions {
        sql.push_str(" AND ");
        sql.push_str(actions);
    }
    sql.push_str(if n.newer {
        " ORDER BY e.at, e.id LIMIT $8"
    } else {
        " ORDER BY e.at DESC, e.id DESC LIMIT $8"
    });
    let (before_at, before_id) = n.start();
    on!(ex, c => {
        let q = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(sql.clone()))
            .bind(text.as_str())
            .bind(id)
            .bind(n.from)
            .bind(n.to)
            .bind(before_at)
            .bind(before_id)
            .bind(n.actor_label.unwrap_or(""))
            .bind(n.limit);
        q.fetch_all(&mut *c).await
    })
    .map_err(Into::into)
}

/// Messages to `user`, narrowed by time and key, newest first.
pub(crate) async fn messages(ex: Ex<'_>, user: Uuid, n: &Narrow<'_>) -> Result<Vec<MessageRow>> {
    const OLDER: &str = "SELECT id, created_at, channel, kind, recipient, state, attempts, \
        last_error, sent_at FROM outbox WHERE user_id = $1 AND created_at >= $2 \
        AND created_at < $3 AND (created_at < $4 OR (created_at = $4 AND id < $5)) \
        ORDER BY created_at DESC, id DESC LIMIT $6";
    const NEWER: &str = "SELECT id, created_at, channel, kind, recipient, state, attempts, \
        last_error, sent_at FROM outbox WHERE user_id = $1 AND created_at >= $2 \
        AND created_at < $3 AND (created_at > $4 OR (created_at = $4 AND id > $5)) \
        ORDER BY created_at, id LIMIT $6";
    let sql = if n.newer { NEWER } else { OLDER };
    let (before_at, before_id) = n.start();
    Ok(
        on!(ex, c => sqlx::query_as::<_, MessageRow>(sql).bind(user).bind(n.from).bind(n.to)
        .bind(before_at).bind(before_id).bind(n.limit).fetch_all(&mut *c).await)?,
    )
}

/// How users are named in a log: their name, else their address or login.
pub(crate) async fn names_of(ex: Ex<'_>, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT id, COALESCE(NULLIF(TRIM(first_name || ' ' || last_name), ''), NULLIF(email, ''), \
         login, '') FROM users WHERE id IN ({})",
        super::placeholders(ids.len())
    );
    Ok(on!(ex, c => {
        let mut q = sqlx::query_as::<_, (Uuid, String)>(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(&mut *c).await
    })?)
}
