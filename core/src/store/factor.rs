//! Second factors, recovery codes and passkey ceremonies in progress.

use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct FactorRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub name: String,
    pub secret: Option<Vec<u8>>,
    pub data: String,
    pub last_step: i64,
    pub confirmed: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

pub(crate) async fn insert_factor(ex: Ex<'_>, f: &FactorRow) -> Result<()> {
    let sql = "INSERT INTO factors (id, user_id, kind, name, secret, data, last_step, confirmed, \
               created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    on!(ex, c => sqlx::query(sql).bind(f.id).bind(f.user_id).bind(&f.kind).bind(&f.name)
        .bind(&f.secret).bind(&f.data).bind(f.last_step).bind(f.confirmed).bind(f.created_at)
        .bind(f.last_used_at).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A user's factors, oldest first (unconfirmed TOTP seeds included).
pub(crate) async fn list_factors(ex: Ex<'_>, user: Uuid) -> Result<Vec<FactorRow>> {
    let sql = concat!(
        "SELECT id, user_id, kind, name, secret, data, last_step, confirmed, created_at, ",
        "last_used_at FROM factors WHERE user_id = $1 ORDER BY created_at, id"
    );
    Ok(on!(ex, c => sqlx::query_as::<_, FactorRow>(sql).bind(user).fetch_all(&mut *c).await)?)
}

/// Accepts a TOTP time step once: false when this step (or a later one) was already used.
pub(crate) async fn accept_step(ex: Ex<'_>, id: Uuid, step: i64, now: i64) -> Result<bool> {
    let sql = "UPDATE factors SET last_step = $2, last_used_at = $3, confirmed = TRUE \
               WHERE id = $1 AND last_step < $2";
    let n = on!(ex, c => sqlx::query(sql).bind(id).bind(step).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Records a use (and a passkey's updated credential).
pub(crate) async fn touch_factor(ex: Ex<'_>, id: Uuid, data: Option<&str>, now: i64) -> Result<()> {
    let sql = "UPDATE factors SET last_used_at = $2, data = COALESCE($3, data) WHERE id = $1";
    on!(ex, c => sqlx::query(sql).bind(id).bind(now).bind(data).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn rename_factor(ex: Ex<'_>, id: Uuid, user: Uuid, name: &str) -> Result<bool> {
    let sql = "UPDATE factors SET name = $3 WHERE id = $1 AND user_id = $2 AND confirmed";
    let n = on!(ex, c => sqlx::query(sql).bind(id).bind(user).bind(name).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub(crate) async fn delete_factor(ex: Ex<'_>, id: Uuid, user: Uuid) -> Result<bool> {
    let sql = "DELETE FROM factors WHERE id = $1 AND user_id = $2";
    let n = on!(ex, c => sqlx::query(sql).bind(id).bind(user).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Removes factors of a user: all of them, or only those of one kind.
pub(crate) async fn delete_factors_of(ex: Ex<'_>, user: Uuid, kind: Option<&str>) -> Result<u64> {
    let sql = "DELETE FROM factors WHERE user_id = $1 AND ($2 IS NULL OR kind = $2)";
    Ok(
        on!(ex, c => sqlx::query(sql).bind(user).bind(kind).execute(&mut *c).await.map(|r| r.rows_affected()))?,
    )
}

/// Drops TOTP seeds that were never confirmed.
pub(crate) async fn delete_unconfirmed(ex: Ex<'_>, user: Uuid) -> Result<()> {
    let sql = "DELETE FROM factors WHERE user_id = $1 AND NOT confirmed";
    on!(ex, c => sqlx::query(sql).bind(user).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Replaces a user's recovery codes with new hashes.
pub(crate) async fn replace_recovery_codes(
    ex: Ex<'_>,
    user: Uuid,
    hashes: &[String],
    now: i64,
) -> Result<()> {
    on!(ex, c => {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user).execute(&mut *c).await?;
        for h in hashes {
            sqlx::query("INSERT INTO recovery_codes (id, user_id, code_hash, created_at) VALUES ($1, $2, $3, $4)")
                .bind(Uuid::now_v7()).bind(user).bind(h).bind(now).execute(&mut *c).await?;
        }
        Ok::<(), sqlx::Error>(())
    })?;
    Ok(())
}

/// The unused recovery codes of a user: (id, hash).
pub(crate) async fn unused_recovery_codes(ex: Ex<'_>, user: Uuid) -> Result<Vec<(Uuid, String)>> {
    let sql = "SELECT id, code_hash FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL ORDER BY id";
    Ok(on!(ex, c => sqlx::query_as::<_, (Uuid, String)>(sql).bind(user).fetch_all(&mut *c).await)?)
}

/// Uses a recovery code once; false when it was used meanwhile.
pub(crate) async fn use_recovery_code(ex: Ex<'_>, id: Uuid, now: i64) -> Result<bool> {
    let sql = "UPDATE recovery_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL";
    let n = on!(ex, c => sqlx::query(sql).bind(id).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub(crate) async fn delete_recovery_codes(ex: Ex<'_>, user: Uuid) -> Result<()> {
    let sql = "DELETE FROM recovery_codes WHERE user_id = $1";
    on!(ex, c => sqlx::query(sql).bind(user).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Keeps a passkey ceremony's state for the session that began it (one per purpose).
pub(crate) async fn put_ceremony(
    ex: Ex<'_>,
    session_hash: &[u8],
    purpose: &str,
    state: &str,
    expires_at: i64,
) -> Result<()> {
    on!(ex, c => {
        sqlx::query("DELETE FROM webauthn_states WHERE (session_hash = $1 AND purpose = $2) OR expires_at < $3")
            .bind(session_hash).bind(purpose).bind(expires_at - 3_600_000).execute(&mut *c).await?;
        sqlx::query("INSERT INTO webauthn_states (session_hash, purpose, state, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(session_hash).bind(purpose).bind(state).bind(expires_at).execute(&mut *c).await?;
        Ok::<(), sqlx::Error>(())
    })?;
    Ok(())
}

/// Takes (and removes) a ceremony's state when it has not expired.
pub(crate) async fn take_ceremony(
    ex: Ex<'_>,
    session_hash: &[u8],
    purpose: &str,
    now: i64,
) -> Result<Option<String>> {
    let sql = "DELETE FROM webauthn_states WHERE session_hash = $1 AND purpose = $2 \
               RETURNING state, expires_at";
    let row = on!(ex, c => sqlx::query_as::<_, (String, i64)>(sql).bind(session_hash).bind(purpose).fetch_optional(&mut *c).await)?;
    Ok(row.filter(|(_, exp)| *exp > now).map(|(s, _)| s))
}
