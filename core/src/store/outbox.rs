use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

/// Queues a message on `channel` (`email`, `sms`) in the caller's transaction: it is sent
/// only if the change commits.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn enqueue(
    ex: Ex<'_>,
    channel: &str,
    kind: &str,
    recipient: &str,
    user: Option<Uuid>,
    node: Option<Uuid>,
    payload: &str,
    now: i64,
) -> Result<()> {
    let sql = "INSERT INTO outbox (id, channel, kind, recipient, user_id, node_id, payload, state, \
               next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $8)";
    let id = Uuid::now_v7();
    tracing::info!(message = %id, channel, kind, "message queued");
    on!(ex, c => sqlx::query(sql).bind(id).bind(channel).bind(kind).bind(recipient).bind(user)
        .bind(node).bind(payload).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct OutboxRow {
    pub id: Uuid,
    pub channel: String,
    pub kind: String,
    pub recipient: String,
    pub user_id: Option<Uuid>,
    pub node_id: Option<Uuid>,
    pub payload: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

macro_rules! columns {
    () => {
        "id, channel, kind, recipient, user_id, node_id, payload, state, attempts, next_attempt_at, \
         last_error, created_at, sent_at"
    };
}

/// Leases up to `limit` due messages to `owner` until `lease_until`. On PostgreSQL rows another
/// node holds are skipped (`FOR UPDATE SKIP LOCKED`), so each message goes to one node. Only
/// the channels this node can deliver are claimed; the rest wait for a node that can.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn claim_due(
    ex: Ex<'_>,
    owner: &str,
    now: i64,
    lease_until: i64,
    limit: i64,
    email: bool,
    sms: bool,
) -> Result<Vec<OutboxRow>> {
    let pick = "SELECT id FROM outbox WHERE state = 'queued' AND next_attempt_at <= $2 \
                AND (lease_until IS NULL OR lease_until <= $2) \
                AND (($5 AND channel = 'email') OR ($6 AND channel = 'sms')) ORDER BY next_attempt_at LIMIT $4";
    let lock = match ex {
        Ex::Sqlite(_) => "",
        Ex::Postgres(_) => " FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        concat!(
            "UPDATE outbox SET lease_owner = $1, lease_until = $3 WHERE id IN ({}{}) RETURNING ",
            columns!()
        ),
        pick, lock
    );
    Ok(
        on!(ex, c => sqlx::query_as::<_, OutboxRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(owner).bind(now).bind(lease_until).bind(limit).bind(email).bind(sms)
        .fetch_all(&mut *c).await)?,
    )
}

pub(crate) async fn mark_sent(ex: Ex<'_>, id: Uuid, now: i64) -> Result<()> {
    let sql = "UPDATE outbox SET state = 'sent', sent_at = $2, attempts = attempts + 1, \
               lease_owner = NULL, lease_until = NULL, last_error = '' WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(id).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a failed try: back to the queue for `next_attempt_at`, or failed for good.
pub(crate) async fn mark_attempt_failed(
    ex: Ex<'_>,
    id: Uuid,
    error: &str,
    next_attempt_at: Option<i64>,
) -> Result<()> {
    let sql = "UPDATE outbox SET attempts = attempts + 1, last_error = $2, lease_owner = NULL, \
               lease_until = NULL, state = CASE WHEN $3 < 0 THEN 'failed' ELSE 'queued' END, \
               next_attempt_at = CASE WHEN $3 < 0 THEN next_attempt_at ELSE $3 END WHERE id = $1";
    let error: String = error.chars().take(500).collect();
    on!(ex, c => sqlx::query(sql).bind(id).bind(&error).bind(next_attempt_at.unwrap_or(-1)).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Puts a failed message back in the queue, due now, with its tries counted from zero.
pub(crate) async fn requeue(ex: Ex<'_>, id: Uuid, now: i64) -> Result<bool> {
    let sql = "UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = $2, last_error = '', \
               lease_owner = NULL, lease_until = NULL WHERE id = $1 AND state = 'failed'";
    let n = on!(ex, c => sqlx::query(sql).bind(id).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub(crate) async fn find_message(ex: Ex<'_>, id: Uuid) -> Result<Option<OutboxRow>> {
    let sql = concat!("SELECT ", columns!(), " FROM outbox WHERE id = $1");
    Ok(on!(ex, c => sqlx::query_as::<_, OutboxRow>(sql).bind(id).fetch_optional(&mut *c).await)?)
}

/// Messages newest first, optionally only those of nodes in the subtree at `path`, with a
/// recipient starting with `recipient` and in `state`.
pub(crate) async fn list_messages(
    ex: Ex<'_>,
    path: Option<&str>,
    recipient: &str,
    state: &str,
    limit: i64,
) -> Result<Vec<OutboxRow>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM outbox o WHERE ($1 = '' OR o.node_id IN \
         (SELECT id FROM nodes WHERE path >= $1 AND path < $2)) \
         AND ($3 = '' OR (o.recipient >= $3 AND o.recipient < $4)) AND ($5 = '' OR o.state = $5) \
         ORDER BY o.created_at DESC, o.id DESC LIMIT $6"
    );
    let path = path.unwrap_or("");
    let end = super::node::subtree_end(path);
    let recipient_end = format!("{recipient}\u{10FFFF}");
    Ok(
        on!(ex, c => sqlx::query_as::<_, OutboxRow>(sql).bind(path).bind(&end).bind(recipient)
        .bind(&recipient_end).bind(state).bind(limit).fetch_all(&mut *c).await)?,
    )
}

/// The messages of one kind to one user, newest first (the invitation history).
pub(crate) async fn list_for_user(ex: Ex<'_>, user: Uuid, kind: &str) -> Result<Vec<OutboxRow>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM outbox WHERE user_id = $1 AND kind = $2 ORDER BY created_at DESC, id DESC LIMIT 20"
    );
    Ok(
        on!(ex, c => sqlx::query_as::<_, OutboxRow>(sql).bind(user).bind(kind).fetch_all(&mut *c).await)?,
    )
}

/// How many messages of `kind` were queued for `user` since `since`.
pub(crate) async fn count_recent(ex: Ex<'_>, user: Uuid, kind: &str, since: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM outbox WHERE user_id = $1 AND kind = $2 AND created_at >= $3";
    Ok(
        on!(ex, c => sqlx::query_scalar::<_, i64>(sql).bind(user).bind(kind).bind(since).fetch_one(&mut *c).await)?,
    )
}
