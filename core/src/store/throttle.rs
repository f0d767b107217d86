use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ThrottleRow {
    pub failures: i64,
    pub last_failure_at: i64,
}

pub(crate) async fn find_throttle(ex: Ex<'_>, key: &str) -> Result<Option<ThrottleRow>> {
    let sql = "SELECT failures, last_failure_at FROM throttle WHERE key = $1";
    Ok(on!(ex, c => sqlx::query_as::<_, ThrottleRow>(sql).bind(key).fetch_optional(&mut *c).await)?)
}

/// Counts one more failure; a count whose last failure is older than `window_start` restarts.
pub(crate) async fn record_failure(
    ex: Ex<'_>,
    key: &str,
    now: i64,
    window_start: i64,
) -> Result<()> {
    let sql = "INSERT INTO throttle (key, failures, last_failure_at) VALUES ($1, 1, $2) \
               ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN throttle.last_failure_at < $3 THEN 1 \
                               ELSE throttle.failures + 1 END, \
               last_failure_at = $2";
    on!(ex, c => sqlx::query(sql).bind(key).bind(now).bind(window_start).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn clear_throttle(ex: Ex<'_>, key: &str) -> Result<()> {
    let sql = "DELETE FROM throttle WHERE key = $1";
    on!(ex, c => sqlx::query(sql).bind(key).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
