use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub id_hash: Vec<u8>,
    pub ref_id: Uuid,
    pub user_id: Uuid,
    pub csrf_token: String,
    pub created_at: i64,
    pub auth_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
    /// 'full', or 'mfa' / 'enrol' while sign-in waits for a second factor.
    pub stage: String,
    pub mfa_failures: i64,
}

macro_rules! columns {
    () => {
        "id_hash, ref_id, user_id, csrf_token, created_at, auth_at, last_seen_at, expires_at, ip, \
         user_agent, stage, mfa_failures"
    };
}

pub(crate) async fn insert_session(ex: Ex<'_>, s: &SessionRow) -> Result<()> {
    let sql = concat!(
        "INSERT INTO sessions (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    on!(ex, c => sqlx::query(sql).bind(&s.id_hash).bind(s.ref_id).bind(s.user_id).bind(&s.csrf_token)
        .bind(s.created_at).bind(s.auth_at).bind(s.last_seen_at).bind(s.expires_at).bind(&s.ip)
        .bind(&s.user_agent).bind(&s.stage).bind(s.mfa_failures).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn find_session(ex: Ex<'_>, id_hash: &[u8]) -> Result<Option<SessionRow>> {
    let sql = concat!("SELECT ", columns!(), " FROM sessions WHERE id_hash = $1");
    Ok(
        on!(ex, c => sqlx::query_as::<_, SessionRow>(sql).bind(id_hash).fetch_optional(&mut *c).await)?,
    )
}

pub(crate) async fn touch_session(ex: Ex<'_>, id_hash: &[u8], now: i64) -> Result<()> {
    let sql = "UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1";
    on!(ex, c => sqlx::query(sql).bind(id_hash).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn delete_session(ex: Ex<'_>, id_hash: &[u8]) -> Result<bool> {
    let sql = "DELETE FROM sessions WHERE id_hash = $1";
    let done = on!(ex, c => sqlx::query(sql).bind(id_hash).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

pub(crate) async fn list_sessions_of(ex: Ex<'_>, user: Uuid, now: i64) -> Result<Vec<SessionRow>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM sessions WHERE user_id = $1 AND expires_at > $2 \
         ORDER BY last_seen_at DESC"
    );
    Ok(
        on!(ex, c => sqlx::query_as::<_, SessionRow>(sql).bind(user).bind(now).fetch_all(&mut *c).await)?,
    )
}

/// Removes sessions that can no longer be used (absolute expiry or idle limit passed).
pub(crate) async fn delete_stale_sessions(ex: Ex<'_>, now: i64, idle_cutoff: i64) -> Result<u64> {
    let sql = "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2";
    Ok(
        on!(ex, c => sqlx::query(sql).bind(now).bind(idle_cutoff).execute(&mut *c).await.map(|r| r.rows_affected()))?,
    )
}

/// Ends every session of a user (disabled, deleted, or signed out everywhere).
pub(crate) async fn delete_sessions_of(ex: Ex<'_>, user: Uuid) -> Result<u64> {
    let sql = "DELETE FROM sessions WHERE user_id = $1";
    Ok(on!(ex, c => sqlx::query(sql).bind(user).execute(&mut *c).await.map(|r| r.rows_affected()))?)
}

/// Ends every session of a user but one (after a password change).
pub(crate) async fn delete_other_sessions(ex: Ex<'_>, user: Uuid, keep: &[u8]) -> Result<u64> {
    let sql = "DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2";
    Ok(
        on!(ex, c => sqlx::query(sql).bind(user).bind(keep).execute(&mut *c).await.map(|r| r.rows_affected()))?,
    )
}

/// Ends one session of a user, named by its public handle; false when there is no such.
pub(crate) async fn delete_session_by_ref(ex: Ex<'_>, user: Uuid, ref_id: Uuid) -> Result<bool> {
    let sql = "DELETE FROM sessions WHERE user_id = $1 AND ref_id = $2";
    let n = on!(ex, c => sqlx::query(sql).bind(user).bind(ref_id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Gives a session a new id (the cookie changes) and records a fresh proof of identity.
pub(crate) async fn rotate_session(
    ex: Ex<'_>,
    old_hash: &[u8],
    new_hash: &[u8],
    now: i64,
) -> Result<bool> {
    let sql =
        "UPDATE sessions SET id_hash = $2, auth_at = $3, last_seen_at = $3 WHERE id_hash = $1";
    let n = on!(ex, c => sqlx::query(sql).bind(old_hash).bind(new_hash).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Counts a wrong second-factor answer; returns the new count.
/// Reserves one answer of a half-signed-in session, in one statement: the new count, or None
/// when the session has used up `max` (or is gone).
pub(crate) async fn reserve_mfa_answer(
    ex: Ex<'_>,
    id_hash: &[u8],
    max: i64,
) -> Result<Option<i64>> {
    let sql = "UPDATE sessions SET mfa_failures = mfa_failures + 1 \
               WHERE id_hash = $1 AND mfa_failures < $2 RETURNING mfa_failures";
    Ok(
        on!(ex, c => sqlx::query_scalar::<_, i64>(sql).bind(id_hash).bind(max).fetch_optional(&mut *c).await)?,
    )
}

/// Finishes sign-in: a new id, a new CSRF token, the full stage and the full lifetime.
pub(crate) async fn promote_session(
    ex: Ex<'_>,
    old_hash: &[u8],
    new_hash: &[u8],
    csrf_token: &str,
    now: i64,
    expires_at: i64,
) -> Result<bool> {
    let sql = "UPDATE sessions SET id_hash = $2, csrf_token = $3, auth_at = $4, last_seen_at = $4, \
               expires_at = $5, stage = 'full', mfa_failures = 0 WHERE id_hash = $1";
    let n = on!(ex, c => sqlx::query(sql).bind(old_hash).bind(new_hash).bind(csrf_token).bind(now)
        .bind(expires_at).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
