//! API tokens (stored as SHA-256).

use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ApiTokenRow {
    pub id: Uuid,
    pub token_hash: Vec<u8>,
    pub user_id: Uuid,
    pub node_id: Option<Uuid>,
    pub name: String,
    pub read_only: bool,
    pub created_by: Option<Uuid>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// `admin` or `lookup`.
    pub scope: String,
}

macro_rules! columns {
    () => {
        "id, token_hash, user_id, node_id, name, read_only, created_by, created_at, expires_at, \
         last_used_at, revoked_at, scope"
    };
}

pub(crate) async fn insert_api_token(ex: Ex<'_>, t: ApiTokenRow) -> Result<()> {
    let sql = concat!(
        "INSERT INTO api_tokens (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    on!(ex, c => sqlx::query(sql).bind(t.id).bind(&t.token_hash).bind(t.user_id).bind(t.node_id)
        .bind(&t.name).bind(t.read_only).bind(t.created_by).bind(t.created_at).bind(t.expires_at)
        .bind(t.last_used_at).bind(t.revoked_at).bind(&t.scope).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn find_api_token(ex: Ex<'_>, id: Uuid) -> Result<Option<ApiTokenRow>> {
    let sql = concat!("SELECT ", columns!(), " FROM api_tokens WHERE id = $1");
    Ok(on!(ex, c => sqlx::query_as::<_, ApiTokenRow>(sql).bind(id).fetch_optional(&mut *c).await)?)
}

/// A token found by its hash with its user and the paths it reaches from, in one query.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct TokenHolder {
    pub token_id: Uuid,
    pub token_node_id: Option<Uuid>,
    pub token_read_only: bool,
    pub token_expires_at: Option<i64>,
    pub token_last_used_at: Option<i64>,
    pub token_revoked_at: Option<i64>,
    pub token_scope: String,
    /// The path of the node the user sits in.
    pub home_path: String,
    /// The path of the node the token is narrowed to, if it is.
    pub token_node_path: Option<String>,
    #[sqlx(flatten)]
    pub user: super::user::UserRow,
}

pub(crate) async fn find_token_holder(ex: Ex<'_>, hash: &[u8]) -> Result<Option<TokenHolder>> {
    const SQL: &str = concat!(
        "SELECT ",
        super::user::user_columns!(),
        ", t.token_id, t.token_node_id, t.token_read_only, t.token_expires_at, \
         t.token_last_used_at, t.token_revoked_at, t.token_scope, \
         (SELECT n.path FROM nodes n WHERE n.id = users.node_id) AS home_path, \
         (SELECT n.path FROM nodes n WHERE n.id = t.token_node_id) AS token_node_path \
         FROM (SELECT id AS token_id, user_id AS token_user_id, node_id AS token_node_id, \
         read_only AS token_read_only, expires_at AS token_expires_at, \
         last_used_at AS token_last_used_at, revoked_at AS token_revoked_at, scope AS token_scope \
         FROM api_tokens WHERE token_hash = $1) t JOIN users ON users.id = t.token_user_id"
    );
    Ok(
        on!(ex, c => sqlx::query_as::<_, TokenHolder>(SQL).bind(hash).fetch_optional(&mut *c).await)?,
    )
}

/// A user's tokens, newest first.
pub(crate) async fn list_api_tokens(ex: Ex<'_>, user: Uuid) -> Result<Vec<ApiTokenRow>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
    );
    Ok(on!(ex, c => sqlx::query_as::<_, ApiTokenRow>(sql).bind(user).fetch_all(&mut *c).await)?)
}

pub(crate) async fn revoke_api_token(ex: Ex<'_>, id: Uuid, now: i64) -> Result<()> {
    let sql = "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
    on!(ex, c => sqlx::query(sql).bind(id).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn touch_api_token(ex: Ex<'_>, id: Uuid, now: i64) -> Result<()> {
    let sql = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(id).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Whether a user holds a token that still works (not revoked, not expired).
pub(crate) async fn has_live_tokens(ex: Ex<'_>, user: Uuid, now: i64) -> Result<bool> {
    let sql = "SELECT EXISTS (SELECT 1 FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL \
               AND (expires_at IS NULL OR expires_at > $2))";
    Ok(
        on!(ex, c => sqlx::query_scalar::<_, bool>(sql).bind(user).bind(now).fetch_one(&mut *c).await)?,
    )
}

/// Revokes every live token of a user (a password reset, "sign out everywhere"); how many.
pub(crate) async fn revoke_tokens_of(ex: Ex<'_>, user: Uuid, now: i64) -> Result<u64> {
    let sql = "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";
    Ok(
        on!(ex, c => sqlx::query(sql).bind(user).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?,
    )
}
