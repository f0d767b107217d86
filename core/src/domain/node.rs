//! The node tree as the shell needs it so far: the actor's own node, and the accounts list.

use crate::context::Ctx;
use crate::domain::Actor;
use crate::error::{Error, Result};
use crate::model::{NodeId, NodeKind, Timestamp};
use crate::store;

#[derive(Debug, Clone)]
pub struct NodeView {
    pub id: NodeId,
    pub kind: NodeKind,
    pub name: String,
    pub default_language: String,
    pub default_country: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct AccountListItem {
    pub id: NodeId,
    pub name: String,
    pub users: i64,
    pub created_at: Timestamp,
}

fn view(row: store::node::NodeRow) -> NodeView {
    NodeView {
        id: NodeId(row.id),
        kind: NodeKind::parse(&row.kind).unwrap_or(NodeKind::Unit),
        name: row.name,
        default_language: row.default_language,
        default_country: row.default_country,
        contact_name: row.contact_name,
        contact_email: row.contact_email,
        contact_phone: row.contact_phone,
        created_at: Timestamp::from_millis(row.created_at),
    }
}

/// The widest node the actor administers (the Account tab's subject).
pub async fn administered_node(ctx: &Ctx, actor: &Actor) -> Result<NodeView> {
    let scope = actor.primary_scope().ok_or(Error::NotFound)?;
    let mut conn = ctx.db.conn().await?;
    Ok(view(
        store::node::get_node(conn.ex(), scope.node_id.0).await?,
    ))
}

/// The customer accounts directly under the operator root; operator staff only.
pub async fn list_accounts(ctx: &Ctx, actor: &Actor, limit: i64) -> Result<Vec<AccountListItem>> {
    let root = actor
        .scopes
        .iter()
        .find(|s| s.kind == NodeKind::Operator)
        .ok_or(Error::NotFound)?;
    let mut conn = ctx.db.conn().await?;
    let rows = store::node::list_child_accounts(conn.ex(), root.node_id.0, limit).await?;
    Ok(rows
        .into_iter()
        .map(|r| AccountListItem {
            id: NodeId(r.node.id),
            name: r.node.name,
            users: r.users,
            created_at: Timestamp::from_millis(r.node.created_at),
        })
        .collect())
}
