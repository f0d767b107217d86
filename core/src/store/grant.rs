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

pub(crate) async fn insert_user_grant(
    ex: Ex<'_>,
    subject: Uuid,
    role: &str,
    target: Uuid,
    created_by: Option<Uuid>,
    now: i64,
) -> Result<()> {
    let sql = "INSERT INTO grants (id, subject_user_id, role, target_user_id, created_by, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    on!(ex, c => sqlx::query(sql).bind(Uuid::now_v7()).bind(subject).bind(role).bind(target)
        .bind(created_by).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes `subject`'s grant on node `node`; false when there was none.
pub(crate) async fn delete_node_grant(ex: Ex<'_>, subject: Uuid, node: Uuid) -> Result<bool> {
    let sql = "DELETE FROM grants WHERE subject_user_id = $1 AND target_node_id = $2";
    let n = on!(ex, c => sqlx::query(sql).bind(subject).bind(node).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Removes `subject`'s grant on user `target`; false when there was none.
pub(crate) async fn delete_user_grant(ex: Ex<'_>, subject: Uuid, target: Uuid) -> Result<bool> {
    let sql = "DELETE FROM grants WHERE subject_user_id = $1 AND target_user_id = $2";
    let n = on!(ex, c => sqlx::query(sql).bind(subject).bind(target).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// A grant held by a user, with the target node's path and kind (when it targets a node).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct HeldGrant {
    pub role: String,
    pub target_node_id: Option<Uuid>,
    pub target_user_id: Option<Uuid>,
    pub node_path: Option<String>,
    pub node_kind: Option<String>,
    pub node_name: Option<String>,
}

pub(crate) async fn list_grants_of(ex: Ex<'_>, subject: Uuid) -> Result<Vec<HeldGrant>> {
    let sql = "SELECT g.role, g.target_node_id, g.target_user_id, n.path AS node_path, \
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

/// A grant that reaches someone, with its holder and where it sits.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct GrantHolder {
    pub subject_user_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub status: String,
    pub node_name: Option<String>,
    pub node_kind: Option<String>,
    pub node_depth: Option<i64>,
}

/// Administrators of these nodes (grants on exactly them), shallowest node first.
pub(crate) async fn list_node_admins(ex: Ex<'_>, nodes: &[Uuid]) -> Result<Vec<GrantHolder>> {
    if nodes.is_empty() {
        return Ok(vec![]);
    }
    let placeholders: Vec<String> = (1..=nodes.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT g.subject_user_id, u.first_name, u.last_name, u.email, u.status, \
         n.name AS node_name, n.kind AS node_kind, n.depth AS node_depth \
         FROM grants g JOIN users u ON u.id = g.subject_user_id JOIN nodes n ON n.id = g.target_node_id \
         WHERE g.role = 'administrator' AND g.target_node_id IN ({}) \
         ORDER BY n.depth, u.sort_name, u.id",
        placeholders.join(", ")
    );
    Ok(on!(ex, c => {
        let mut q = sqlx::query_as::<_, GrantHolder>(sqlx::AssertSqlSafe(sql.clone()));
        for n in nodes {
            q = q.bind(*n);
        }
        q.fetch_all(&mut *c).await
    })?)
}

/// Users given "Access" to this one user.
pub(crate) async fn list_user_delegates(ex: Ex<'_>, target: Uuid) -> Result<Vec<GrantHolder>> {
    let sql = "SELECT g.subject_user_id, u.first_name, u.last_name, u.email, u.status, \
               CAST(NULL AS TEXT) AS node_name, CAST(NULL AS TEXT) AS node_kind, \
               CAST(NULL AS BIGINT) AS node_depth \
               FROM grants g JOIN users u ON u.id = g.subject_user_id \
               WHERE g.role = 'administrator' AND g.target_user_id = $1 ORDER BY u.sort_name, u.id";
    Ok(on!(ex, c => sqlx::query_as::<_, GrantHolder>(sql).bind(target).fetch_all(&mut *c).await)?)
}

/// Whether a user holds any grant (administers something).
pub(crate) async fn holds_grants(ex: Ex<'_>, subject: Uuid) -> Result<bool> {
    let sql = "SELECT EXISTS (SELECT 1 FROM grants WHERE subject_user_id = $1)";
    Ok(on!(ex, c => sqlx::query_scalar::<_, bool>(sql).bind(subject).fetch_one(&mut *c).await)?)
}

/// What one grant of a user reaches: the path of the node it administers, or the path of the
/// node of the single user it gives Access to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Reach {
    pub node_path: Option<String>,
    pub user_node_path: Option<String>,
}

/// Everything `subject` administers, as node paths (see [`Reach`]).
pub(crate) async fn list_reach_of(ex: Ex<'_>, subject: Uuid) -> Result<Vec<Reach>> {
    let sql = "SELECT n.path AS node_path, un.path AS user_node_path FROM grants g \
               LEFT JOIN nodes n ON n.id = g.target_node_id \
               LEFT JOIN users u ON u.id = g.target_user_id \
               LEFT JOIN nodes un ON un.id = u.node_id \
               WHERE g.subject_user_id = $1";
    Ok(on!(ex, c => sqlx::query_as::<_, Reach>(sql).bind(subject).fetch_all(&mut *c).await)?)
}

/// Users homed in the subtree at `path` who hold any grant (the ones a move of the subtree
/// could concern beyond its plain users).
pub(crate) async fn holders_homed_within(ex: Ex<'_>, path: &str) -> Result<Vec<Uuid>> {
    let sql = "SELECT DISTINCT g.subject_user_id FROM grants g \
               JOIN users u ON u.id = g.subject_user_id JOIN nodes n ON n.id = u.node_id \
               WHERE n.path >= $1 AND n.path < $2";
    let end = super::node::subtree_end(path);
    Ok(
        on!(ex, c => sqlx::query_scalar::<_, Uuid>(sql).bind(path).bind(&end).fetch_all(&mut *c).await)?,
    )
}

/// Whether anything still gives rights over this one node: a grant on it, or a live API or
/// SCIM token narrowed to it.
pub(crate) async fn node_has_rights(ex: Ex<'_>, node: Uuid) -> Result<bool> {
    let sql = "SELECT EXISTS (SELECT 1 FROM grants WHERE target_node_id = $1) \
               OR EXISTS (SELECT 1 FROM api_tokens WHERE node_id = $1 AND revoked_at IS NULL) \
               OR EXISTS (SELECT 1 FROM scim_tokens WHERE node_id = $1 AND revoked_at IS NULL)";
    Ok(on!(ex, c => sqlx::query_scalar::<_, bool>(sql).bind(node).fetch_one(&mut *c).await)?)
}
