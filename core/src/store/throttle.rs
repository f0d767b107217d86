use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ThrottleRow {
    pub failures: i64,
    pub last_failure_at: i64,
}

pub(crate) async fn clear_throttle(ex: Ex<'_>, key: &str) -> Result<()> {
    let sql = "DELETE FROM throttle WHERE key = $1";
    on!(ex, c => sqlx::query(sql).bind(key).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A throttle key's row, locked until the transaction ends (created with no failures when it
/// was missing), so that reserving an attempt is one decision at a time across nodes.
pub(crate) async fn lock_throttle(ex: Ex<'_>, key: &str) -> Result<ThrottleRow> {
    let insert = "INSERT INTO throttle (key, failures, last_failure_at) VALUES ($1, 0, 0) \
                  ON CONFLICT (key) DO NOTHING";
    Ok(match ex {
        // SQLite's one writer already runs one transaction at a time.
        Ex::Sqlite(c) => {
            sqlx::query(insert).bind(key).execute(&mut *c).await?;
            sqlx::query_as::<_, ThrottleRow>(
                "SELECT failures, last_failure_at FROM throttle WHERE key = $1",
            )
            .bind(key)
            .fetch_one(&mut *c)
            .await?
        }
        Ex::Postgres(c) => {
            sqlx::query(insert).bind(key).execute(&mut *c).await?;
            sqlx::query_as::<_, ThrottleRow>(
                "SELECT failures, last_failure_at FROM throttle WHERE key = $1 FOR UPDATE",
            )
            .bind(key)
            .fetch_one(&mut *c)
            .await?
        }
    })
}

/// Sets a key's count (after `lock_throttle`).
pub(crate) async fn set_throttle(ex: Ex<'_>, key: &str, failures: i64, last: i64) -> Result<()> {
    let sql = "UPDATE throttle SET failures = $2, last_failure_at = $3 WHERE key = $1";
    on!(ex, c => sqlx::query(sql).bind(key).bind(failures).bind(last).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Takes back one reserved attempt that turned out right.
pub(crate) async fn release(ex: Ex<'_>, key: &str) -> Result<()> {
    let sql = "UPDATE throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0";
    on!(ex, c => sqlx::query(sql).bind(key).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes counters whose last failure is older than `before` (they count for nothing).
pub(crate) async fn sweep_throttle(ex: Ex<'_>, before: i64) -> Result<u64> {
    let sql = "DELETE FROM throttle WHERE last_failure_at < $1";
    Ok(
        on!(ex, c => sqlx::query(sql).bind(before).execute(&mut *c).await.map(|r| r.rows_affected()))?,
    )
}
