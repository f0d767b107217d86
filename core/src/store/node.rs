use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct NodeRow {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub kind: String,
    pub name: String,
    pub path: String,
    pub depth: i64,
    pub account_id: Uuid,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub default_language: String,
    pub default_country: String,
    pub user_count: i64,
    pub version: i64,
    pub created_at: i64,
    pub mfa_policy: Option<String>,
    pub mfa_factors: Option<String>,
}

macro_rules! columns {
    () => {
        "id, parent_id, kind, name, path, depth, account_id, contact_name, contact_email, \
         contact_phone, default_language, default_country, user_count, version, created_at, \
         mfa_policy, mfa_factors"
    };
}

pub(crate) async fn insert_node(ex: Ex<'_>, n: &NodeRow, now: i64) -> Result<()> {
    let sql = "INSERT INTO nodes (id, parent_id, kind, name, path, depth, account_id, contact_name, \
               contact_email, contact_phone, default_language, default_country, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)";
    on!(ex, c => sqlx::query(sql)
        .bind(n.id).bind(n.parent_id).bind(&n.kind).bind(&n.name).bind(&n.path).bind(n.depth)
        .bind(n.account_id).bind(&n.contact_name).bind(&n.contact_email).bind(&n.contact_phone)
        .bind(&n.default_language).bind(&n.default_country).bind(now)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn find_operator_root(ex: Ex<'_>) -> Result<Option<NodeRow>> {
    let sql = concat!("SELECT ", columns!(), " FROM nodes WHERE kind = 'operator'");
    Ok(on!(ex, c => sqlx::query_as::<_, NodeRow>(sql).fetch_optional(&mut *c).await)?)
}

pub(crate) async fn find_node(ex: Ex<'_>, id: Uuid) -> Result<Option<NodeRow>> {
    let sql = concat!("SELECT ", columns!(), " FROM nodes WHERE id = $1");
    Ok(on!(ex, c => sqlx::query_as::<_, NodeRow>(sql).bind(id).fetch_optional(&mut *c).await)?)
}

pub(crate) async fn get_node(ex: Ex<'_>, id: Uuid) -> Result<NodeRow> {
    let sql = concat!("SELECT ", columns!(), " FROM nodes WHERE id = $1");
    Ok(on!(ex, c => sqlx::query_as::<_, NodeRow>(sql).bind(id).fetch_one(&mut *c).await)?)
}

/// The nodes inside the subtree at `path` that are not accounts of their own (units), with it.
pub(crate) async fn list_tenant_nodes(
    ex: Ex<'_>,
    path: &str,
    tenant: Uuid,
) -> Result<Vec<NodeRow>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM nodes WHERE path >= $1 AND path < $2 AND account_id = $3 \
         ORDER BY depth, name, id"
    );
    let end = subtree_end(path);
    Ok(
        on!(ex, c => sqlx::query_as::<_, NodeRow>(sql).bind(path).bind(&end).bind(tenant).fetch_all(&mut *c).await)?,
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct AccountRow {
    #[sqlx(flatten)]
    pub node: NodeRow,
    pub users: i64,
}

/// The accounts directly under a node (the operator root's customers, or a reseller's clients),
/// with how many users each holds.
pub(crate) async fn list_child_accounts(
    ex: Ex<'_>,
    parent: Uuid,
    limit: i64,
) -> Result<Vec<AccountRow>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        ", (SELECT CAST(COALESCE(SUM(n2.user_count), 0) AS BIGINT) FROM nodes n2 \
         WHERE n2.account_id = nodes.id) AS users \
         FROM nodes WHERE parent_id = $1 AND kind = 'account' ORDER BY name, id LIMIT $2"
    );
    Ok(
        on!(ex, c => sqlx::query_as::<_, AccountRow>(sql).bind(parent).bind(limit).fetch_all(&mut *c).await)?,
    )
}

/// Writes name, contact and defaults when the version still matches; false when it changed.
pub(crate) async fn update_node(
    ex: Ex<'_>,
    n: &NodeRow,
    expected_version: i64,
    now: i64,
) -> Result<bool> {
    let sql = "UPDATE nodes SET name = $2, contact_name = $3, contact_email = $4, contact_phone = $5, \
               default_language = $6, default_country = $7, version = version + 1, updated_at = $8 \
               WHERE id = $1 AND version = $9";
    let n = on!(ex, c => sqlx::query(sql).bind(n.id).bind(&n.name).bind(&n.contact_name)
        .bind(&n.contact_email).bind(&n.contact_phone).bind(&n.default_language)
        .bind(&n.default_country).bind(now).bind(expected_version)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Moves the subtree at `old_path` under a new parent: every path in it is rewritten.
pub(crate) async fn move_subtree(
    ex: Ex<'_>,
    node: Uuid,
    new_parent: Uuid,
    old_path: &str,
    new_path: &str,
    depth_delta: i64,
    now: i64,
) -> Result<()> {
    let end = subtree_end(old_path);
    let sql = "UPDATE nodes SET path = $3 || substr(path, CAST($4 AS INTEGER)), depth = depth + $5, updated_at = $6, \
               parent_id = CASE WHEN id = $7 THEN $8 ELSE parent_id END, \
               version = CASE WHEN id = $7 THEN version + 1 ELSE version END \
               WHERE path >= $1 AND path < $2";
    let from = old_path.len() as i64 + 1;
    on!(ex, c => sqlx::query(sql).bind(old_path).bind(&end).bind(new_path).bind(from)
        .bind(depth_delta).bind(now).bind(node).bind(new_parent)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn count_children(ex: Ex<'_>, id: Uuid) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM nodes WHERE parent_id = $1";
    Ok(on!(ex, c => sqlx::query_scalar::<_, i64>(sql).bind(id).fetch_one(&mut *c).await)?)
}

pub(crate) async fn delete_node(ex: Ex<'_>, id: Uuid) -> Result<()> {
    let sql = "DELETE FROM nodes WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn adjust_user_count(ex: Ex<'_>, id: Uuid, delta: i64) -> Result<()> {
    let sql = "UPDATE nodes SET user_count = user_count + $2 WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(id).bind(delta).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Serializes commands that check a rule over a whole account (its last administrator):
/// PostgreSQL locks the account's row; SQLite has one writer at a time already.
pub(crate) async fn lock_node(ex: Ex<'_>, id: Uuid) -> Result<()> {
    if let Ex::Postgres(c) = ex {
        sqlx::query("SELECT id FROM nodes WHERE id = $1 FOR UPDATE")
            .bind(id)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// The exclusive upper bound of the paths in the subtree at `path`: paths hold hex digits and
/// '/', so every descendant's path sorts below the prefix followed by 'g'.
pub(crate) fn subtree_end(path: &str) -> String {
    format!("{path}g")
}

pub(crate) async fn list_children(ex: Ex<'_>, id: Uuid) -> Result<Vec<NodeRow>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM nodes WHERE parent_id = $1 ORDER BY name, id"
    );
    Ok(on!(ex, c => sqlx::query_as::<_, NodeRow>(sql).bind(id).fetch_all(&mut *c).await)?)
}

/// The MFA settings (policy, factors) of a node and each of its ancestors, deepest first: one
/// recursive query up the parent links.
pub(crate) async fn mfa_settings_up(
    ex: Ex<'_>,
    node: Uuid,
) -> Result<Vec<(String, Option<String>, Option<String>)>> {
    let sql = "WITH RECURSIVE up (id, parent_id, depth, kind, mfa_policy, mfa_factors) AS ( \
                 SELECT id, parent_id, depth, kind, mfa_policy, mfa_factors FROM nodes WHERE id = $1 \
                 UNION ALL \
                 SELECT n.id, n.parent_id, n.depth, n.kind, n.mfa_policy, n.mfa_factors \
                 FROM nodes n JOIN up ON n.id = up.parent_id) \
               SELECT kind, mfa_policy, mfa_factors FROM up ORDER BY depth DESC";
    Ok(
        on!(ex, c => sqlx::query_as::<_, (String, Option<String>, Option<String>)>(sql).bind(node).fetch_all(&mut *c).await)?,
    )
}

/// Sets (or, with None, clears to inherit) a node's MFA policy and allowed factors.
pub(crate) async fn set_mfa_settings(
    ex: Ex<'_>,
    id: Uuid,
    policy: Option<&str>,
    factors: Option<&str>,
    now: i64,
) -> Result<()> {
    let sql = "UPDATE nodes SET mfa_policy = $2, mfa_factors = $3, updated_at = $4, \
               version = version + 1 WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(id).bind(policy).bind(factors).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Person users below `path` without a confirmed second factor, by name.
pub(crate) async fn users_without_factor(
    ex: Ex<'_>,
    path: &str,
    limit: i64,
) -> Result<Vec<UnenrolledRow>> {
    let sql = "SELECT u.id, u.node_id, u.first_name, u.last_name, u.email, u.user_type, \
               u.mfa_required, u.status, \
               EXISTS (SELECT 1 FROM grants g WHERE g.subject_user_id = u.id) AS has_grants \
               FROM users u JOIN nodes n ON n.id = u.node_id \
               WHERE n.path >= $1 AND n.path < $2 AND u.kind = 'person' AND u.status <> 'disabled' \
               AND NOT EXISTS (SELECT 1 FROM factors f WHERE f.user_id = u.id AND f.confirmed) \
               ORDER BY u.sort_name, u.id LIMIT $3";
    let end = subtree_end(path);
    Ok(
        on!(ex, c => sqlx::query_as::<_, UnenrolledRow>(sql).bind(path).bind(&end).bind(limit).fetch_all(&mut *c).await)?,
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct UnenrolledRow {
    pub id: Uuid,
    pub node_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub user_type: String,
    pub mfa_required: bool,
    pub status: String,
    pub has_grants: bool,
}
