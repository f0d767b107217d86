use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LinkTokenRow {
    pub purpose: String,
    pub user_id: Option<Uuid>,
    pub node_id: Option<Uuid>,
    pub data: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub(crate) struct NewLinkToken<'a> {
    pub token_hash: &'a [u8],
    pub purpose: &'a str,
    pub user_id: Option<Uuid>,
    pub node_id: Option<Uuid>,
    pub data: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub(crate) async fn insert_link_token(ex: Ex<'_>, t: NewLinkToken<'_>) -> Result<()> {
    let sql = "INSERT INTO link_tokens (token_hash, purpose, user_id, node_id, data, created_at, \
               expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    on!(ex, c => sqlx::query(sql).bind(t.token_hash).bind(t.purpose).bind(t.user_id)
        .bind(t.node_id).bind(t.data).bind(t.now).bind(t.expires_at).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn find_link_token(ex: Ex<'_>, token_hash: &[u8]) -> Result<Option<LinkTokenRow>> {
    let sql = "SELECT purpose, user_id, node_id, data, expires_at, used_at FROM link_tokens \
               WHERE token_hash = $1";
    Ok(
        on!(ex, c => sqlx::query_as::<_, LinkTokenRow>(sql).bind(token_hash).fetch_optional(&mut *c).await)?,
    )
}

/// Marks a token used; false when it was already used (a concurrent second use loses).
pub(crate) async fn use_link_token(ex: Ex<'_>, token_hash: &[u8], now: i64) -> Result<bool> {
    let sql = "UPDATE link_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL";
    let n = on!(ex, c => sqlx::query(sql).bind(token_hash).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Voids every unused token of one purpose for one node (a new link replaces the old).
pub(crate) async fn void_node_tokens(
    ex: Ex<'_>,
    purpose: &str,
    node: Uuid,
    now: i64,
) -> Result<()> {
    let sql = "UPDATE link_tokens SET used_at = $3 WHERE purpose = $1 AND node_id = $2 \
               AND used_at IS NULL";
    on!(ex, c => sqlx::query(sql).bind(purpose).bind(node).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Voids every unused token of one purpose for one user (a new link replaces the old).
pub(crate) async fn void_user_tokens(
    ex: Ex<'_>,
    purpose: &str,
    user: Uuid,
    now: i64,
) -> Result<()> {
    let sql = "UPDATE link_tokens SET used_at = $3 WHERE purpose = $1 AND user_id = $2 AND used_at IS NULL";
    on!(ex, c => sqlx::query(sql).bind(purpose).bind(user).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Every token of one purpose for one user, newest first.
pub(crate) async fn list_user_tokens(
    ex: Ex<'_>,
    purpose: &str,
    user: Uuid,
) -> Result<Vec<LinkTokenRow>> {
    let sql = "SELECT purpose, user_id, node_id, data, expires_at, used_at FROM link_tokens \
               WHERE purpose = $1 AND user_id = $2 ORDER BY created_at DESC LIMIT 20";
    Ok(
        on!(ex, c => sqlx::query_as::<_, LinkTokenRow>(sql).bind(purpose).bind(user).fetch_all(&mut *c).await)?,
    )
}

/// A link that expired unused and is not yet in the audit trail.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ExpiredLink {
    pub token_hash: Vec<u8>,
    pub user_id: Option<Uuid>,
    pub node_id: Option<Uuid>,
    pub expires_at: i64,
}

/// Up to `limit` links of `purpose` that expired unused before `now` and were not noted yet.
pub(crate) async fn expired_unnoted(
    ex: Ex<'_>,
    purpose: &str,
    now: i64,
    limit: i64,
) -> Result<Vec<ExpiredLink>> {
    let sql = "SELECT token_hash, user_id, node_id, expires_at FROM link_tokens \
               WHERE expires_at <= $2 AND used_at IS NULL AND expiry_noted IS NULL \
               AND purpose = $1 ORDER BY expires_at, token_hash LIMIT $3";
    Ok(
        on!(ex, c => sqlx::query_as::<_, ExpiredLink>(sql).bind(purpose).bind(now).bind(limit)
        .fetch_all(&mut *c).await)?,
    )
}

/// Marks an expired link as written into the audit trail; false when it was already.
pub(crate) async fn note_expiry(ex: Ex<'_>, token_hash: &[u8], now: i64) -> Result<bool> {
    let sql = "UPDATE link_tokens SET expiry_noted = $2 \
               WHERE token_hash = $1 AND expiry_noted IS NULL";
    let n = on!(ex, c => sqlx::query(sql).bind(token_hash).bind(now).execute(&mut *c).await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
