use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

pub(crate) async fn insert_device(ex: Ex<'_>, id_hash: &[u8], user: Uuid, now: i64) -> Result<()> {
    let sql = "INSERT INTO known_devices (id_hash, user_id, created_at, last_used_at) \
               VALUES ($1, $2, $3, $3)";
    on!(ex, c => sqlx::query(sql).bind(id_hash).bind(user).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Whether this device cookie belongs to a browser that has signed in as `user` before.
pub(crate) async fn is_known_device(ex: Ex<'_>, id_hash: &[u8], user: Uuid) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM known_devices WHERE id_hash = $1 AND user_id = $2";
    let n = on!(ex, c => sqlx::query_scalar::<_, i64>(sql).bind(id_hash).bind(user).fetch_one(&mut *c).await)?;
    Ok(n > 0)
}

pub(crate) async fn touch_device(ex: Ex<'_>, id_hash: &[u8], now: i64) -> Result<()> {
    let sql = "UPDATE known_devices SET last_used_at = $2 WHERE id_hash = $1";
    on!(ex, c => sqlx::query(sql).bind(id_hash).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
