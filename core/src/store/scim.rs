//! SCIM tokens and the providers' external ids.

use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ScimTokenRow {
    pub id: Uuid,
    pub node_id: Uuid,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

pub(crate) async fn insert_token(
    ex: Ex<'_>,
    id: Uuid,
    hash: &[u8],
    node: Uuid,
    name: &str,
    created_by: Option<Uuid>,
    now: i64,
) -> Result<()> {
    let sql = "INSERT INTO scim_tokens (id, token_hash, node_id, name, created_by, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    on!(ex, c => sqlx::query(sql).bind(id).bind(hash).bind(node).bind(name).bind(created_by)
        .bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn find_token(ex: Ex<'_>, hash: &[u8]) -> Result<Option<ScimTokenRow>> {
    let sql = "SELECT id, node_id, revoked_at, last_used_at FROM scim_tokens WHERE token_hash = $1";
    Ok(
        on!(ex, c => sqlx::query_as::<_, ScimTokenRow>(sql).bind(hash).fetch_optional(&mut *c).await)?,
    )
}

pub(crate) async fn touch_token(ex: Ex<'_>, id: Uuid, now: i64) -> Result<()> {
    let sql = "UPDATE scim_tokens SET last_used_at = $2 WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(id).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn external_id(ex: Ex<'_>, user: Uuid) -> Result<Option<String>> {
    let sql = "SELECT external_id FROM scim_external_ids WHERE user_id = $1";
    Ok(on!(ex, c => sqlx::query_scalar::<_, String>(sql).bind(user).fetch_optional(&mut *c).await)?)
}

/// Sets (or with None removes) a user's external id; false when another user of the account
/// has it.
pub(crate) async fn set_external_id(
    ex: Ex<'_>,
    user: Uuid,
    account: Uuid,
    external: Option<&str>,
) -> Result<bool> {
    let r = on!(ex, c => {
        sqlx::query("DELETE FROM scim_external_ids WHERE user_id = $1").bind(user).execute(&mut *c).await?;
        match external {
            None => Ok(1),
            Some(e) => {
                let taken = sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM scim_external_ids WHERE account_id = $1 AND external_id = $2")
                    .bind(account).bind(e).fetch_one(&mut *c).await?;
                if taken > 0 {
                    return Ok(false);
                }
                sqlx::query("INSERT INTO scim_external_ids (user_id, account_id, external_id) VALUES ($1, $2, $3)")
                    .bind(user).bind(account).bind(e).execute(&mut *c).await.map(|r| r.rows_affected())
            }
        }
    });
    match r {
        Ok(_) => Ok(true),
        Err(e) => Err(e.into()),
    }
}
