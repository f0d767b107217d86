use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct NodeRow {
    pub id: Uuid,
    pub kind: String,
    pub name: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub default_language: String,
    pub default_country: String,
    pub created_at: i64,
}

macro_rules! columns {
    () => {
        "id, kind, name, contact_name, contact_email, contact_phone, default_language, \
         default_country, created_at"
    };
}

pub(crate) struct NewNode<'a> {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub kind: &'a str,
    pub name: &'a str,
    pub path: &'a str,
    pub depth: i64,
    pub account_id: Option<Uuid>,
    pub default_language: &'a str,
    pub default_country: &'a str,
    pub now: i64,
}

pub(crate) async fn insert_node(ex: Ex<'_>, n: NewNode<'_>) -> Result<()> {
    let sql = "INSERT INTO nodes (id, parent_id, kind, name, path, depth, account_id, \
               default_language, default_country, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)";
    on!(ex, c => sqlx::query(sql)
        .bind(n.id).bind(n.parent_id).bind(n.kind).bind(n.name).bind(n.path).bind(n.depth)
        .bind(n.account_id).bind(n.default_language).bind(n.default_country).bind(n.now)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn find_operator_root(ex: Ex<'_>) -> Result<Option<NodeRow>> {
    let sql = concat!("SELECT ", columns!(), " FROM nodes WHERE kind = 'operator'");
    Ok(on!(ex, c => sqlx::query_as::<_, NodeRow>(sql).fetch_optional(&mut *c).await)?)
}

pub(crate) async fn get_node(ex: Ex<'_>, id: Uuid) -> Result<NodeRow> {
    let sql = concat!("SELECT ", columns!(), " FROM nodes WHERE id = $1");
    Ok(on!(ex, c => sqlx::query_as::<_, NodeRow>(sql).bind(id).fetch_one(&mut *c).await)?)
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
        ", (SELECT COUNT(*) FROM users u WHERE u.account_id = nodes.id) AS users \
         FROM nodes WHERE parent_id = $1 AND kind = 'account' ORDER BY name, id LIMIT $2"
    );
    Ok(
        on!(ex, c => sqlx::query_as::<_, AccountRow>(sql).bind(parent).bind(limit).fetch_all(&mut *c).await)?,
    )
}

/// The exclusive upper bound of the paths in the subtree at `path`: paths hold hex digits and
/// '/', so every descendant's path sorts below the prefix followed by 'g'.
pub(crate) fn subtree_end(path: &str) -> String {
    format!("{path}g")
}
