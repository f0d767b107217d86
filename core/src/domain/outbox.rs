//! The Deliveries page: every message with its state, filtered, and resending a failed one.
//! Operators see all; other administrators the messages of their own scope.

use serde_json::json;

use super::{Actor, audit};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::{MessageId, NodeKind, Timestamp};
use crate::store;

#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: MessageId,
    pub channel: String,
    pub kind: String,
    pub recipient: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: String,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

/// The actor's widest scope as a path filter (None for operators: everything).
fn scope_path(actor: &Actor) -> Result<Option<String>> {
    if actor.scopes.iter().any(|s| s.kind == NodeKind::Operator) {
        return Ok(None);
    }
    actor
        .primary_scope()
        .map(|s| Some(s.path.clone()))
        .ok_or(Error::NotFound)
}

pub async fn list_deliveries(
    ctx: &Ctx,
    actor: &Actor,
    recipient: &str,
    state: &str,
) -> Result<Vec<Delivery>> {
    let path = scope_path(actor)?;
    let state = if ["queued", "sent", "failed"].contains(&state) {
        state
    } else {
        ""
    };
    let recipient = recipient.trim().to_lowercase();
    let mut conn = ctx.db.conn().await?;
    let rows =
        store::outbox::list_messages(conn.ex(), path.as_deref(), &recipient, state, 200).await?;
    Ok(rows
        .into_iter()
        .map(|r| Delivery {
            id: MessageId(r.id),
            channel: r.channel,
            kind: r.kind,
            recipient: r.recipient,
            state: r.state,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: Timestamp::from_millis(r.created_at),
            sent_at: r.sent_at.map(Timestamp::from_millis),
        })
        .collect())
}

/// Sends a failed message again (a new series of tries).
pub async fn resend_message(ctx: &Ctx, actor: &Actor, id: MessageId) -> Result<()> {
    let id = id.0;
    let path = scope_path(actor)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let row = store::outbox::find_message(tx.ex(), id)
        .await?
        .ok_or(Error::NotFound)?;
    if let Some(path) = &path {
        let node = match row.node_id {
            Some(n) => store::node::find_node(tx.ex(), n).await?,
            None => None,
        };
        if !node.is_some_and(|n| n.path.starts_with(path.as_str())) {
            return Err(Error::NotFound);
        }
    }
    if !store::outbox::requeue(tx.ex(), id, now.millis()).await? {
        return Err(Error::Conflict("delivery-not-failed"));
    }
    audit::Event::new(actor, "delivery.resend")
        .target("message", id, row.node_id)
        .before(json!({"state": row.state, "last_error": row.last_error}))
        .after(json!({"state": "queued"}))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}
