use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

/// Queues an email in the caller's transaction: it is sent only if the change commits.
pub(crate) async fn enqueue_email(
    ex: Ex<'_>,
    kind: &str,
    recipient: &str,
    user: Option<Uuid>,
    node: Option<Uuid>,
    payload: &str,
    now: i64,
) -> Result<()> {
    let sql = "INSERT INTO outbox (id, channel, kind, recipient, user_id, node_id, payload, state, \
               next_attempt_at, created_at) VALUES ($1, 'email', $2, $3, $4, $5, $6, 'queued', $7, $7)";
    on!(ex, c => sqlx::query(sql).bind(Uuid::now_v7()).bind(kind).bind(recipient).bind(user)
        .bind(node).bind(payload).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
