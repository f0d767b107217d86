use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

pub(crate) async fn insert_node_grant(
    ex: Ex<'_>,
    subject: Uuid,
    role: &str,
    node: Uuid,
    created_by: Option<Uuid>,
    now: i64,
) -> Result<()> {
    let sql = "INSERT INTO grants (id, subject_user_id, role, target_node_id, created_by, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    on!(ex, c => sqlx::query(sql).bind(Uuid::now_v7()).bind(subject).bind(role).bind(node)
        .bind(created_by).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A grant held by a user, with the target node's path and kind (when it targets a node).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct HeldGrant {
    pub role: String,
    pub target_node_id: Option<Uuid>,
    pub node_path: Option<String>,
    pub node_kind: Option<String>,
    pub node_name: Option<String>,
}

pub(crate) async fn list_grants_of(ex: Ex<'_>, subject: Uuid) -> Result<Vec<HeldGrant>> {
    let sql = "SELECT g.role, g.target_node_id, n.path AS node_path, \
               n.kind AS node_kind, n.name AS node_name \
               FROM grants g LEFT JOIN nodes n ON n.id = g.target_node_id \
               WHERE g.subject_user_id = $1 ORDER BY n.depth, g.created_at";
    Ok(on!(ex, c => sqlx::query_as::<_, HeldGrant>(sql).bind(subject).fetch_all(&mut *c).await)?)
}

/// How many active administrators hold a grant on exactly this node.
pub(crate) async fn count_active_admins_of_node(ex: Ex<'_>, node: Uuid) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM grants g JOIN users u ON u.id = g.subject_user_id \
               WHERE g.target_node_id = $1 AND g.role = 'administrator' AND u.status = 'active'";
    Ok(on!(ex, c => sqlx::query_scalar::<_, i64>(sql).bind(node).fetch_one(&mut *c).await)?)
}
