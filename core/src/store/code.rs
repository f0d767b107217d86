use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct CodeRow {
    pub id: Uuid,
    pub phone: String,
    pub code_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// The sign-in attempt (session handle) a sign-in code belongs to; "" for other purposes.
    pub bound_to: String,
}

pub(crate) struct NewCode<'a> {
    pub user: Uuid,
    pub purpose: &'a str,
    pub phone: &'a str,
    pub code_hash: &'a str,
    pub now: i64,
    pub expires_at: i64,
    pub bound_to: &'a str,
}

/// Stores a new code, voiding the user's unused ones of the same purpose.
pub(crate) async fn insert_code(ex: Ex<'_>, c: NewCode<'_>) -> Result<()> {
    on!(ex, conn => {
        sqlx::query("UPDATE sms_codes SET used_at = $3 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL")
            .bind(c.user).bind(c.purpose).bind(c.now).execute(&mut *conn).await?;
        sqlx::query("INSERT INTO sms_codes (id, user_id, purpose, phone, code_hash, created_at, expires_at, bound_to) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(Uuid::now_v7()).bind(c.user).bind(c.purpose).bind(c.phone).bind(c.code_hash)
            .bind(c.now).bind(c.expires_at).bind(c.bound_to).execute(&mut *conn).await?;
        Ok::<(), sqlx::Error>(())
    })?;
    Ok(())
}

/// The newest code of one purpose for one user.
pub(crate) async fn latest_code(ex: Ex<'_>, user: Uuid, purpose: &str) -> Result<Option<CodeRow>> {
    let sql = "SELECT id, phone, code_hash, created_at, expires_at, used_at, bound_to FROM sms_codes \
               WHERE user_id = $1 AND purpose = $2 ORDER BY created_at DESC, id DESC LIMIT 1";
    Ok(
        on!(ex, c => sqlx::query_as::<_, CodeRow>(sql).bind(user).bind(purpose).fetch_optional(&mut *c).await)?,
    )
}

/// Reserves one try of a code before it is checked, in one statement: the tries counted with
/// this one, or None when the code has none left.
pub(crate) async fn reserve_attempt(ex: Ex<'_>, id: Uuid, max: i64) -> Result<Option<i64>> {
    let sql = "UPDATE sms_codes SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2 \
               RETURNING attempts";
    Ok(
        on!(ex, c => sqlx::query_scalar::<_, i64>(sql).bind(id).bind(max).fetch_optional(&mut *c).await)?,
    )
}

/// Uses a code once; false when it was used meanwhile.
pub(crate) async fn use_code(ex: Ex<'_>, id: Uuid, now: i64) -> Result<bool> {
    let sql = "UPDATE sms_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL";
    let n = on!(ex, c => sqlx::query(sql).bind(id).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// How many codes of a purpose the user was sent since `since` (the daily cap).
pub(crate) async fn count_since(ex: Ex<'_>, user: Uuid, purpose: &str, since: i64) -> Result<i64> {
    let sql =
        "SELECT COUNT(*) FROM sms_codes WHERE user_id = $1 AND purpose = $2 AND created_at >= $3";
    Ok(
        on!(ex, c => sqlx::query_scalar::<_, i64>(sql).bind(user).bind(purpose).bind(since).fetch_one(&mut *c).await)?,
    )
}
