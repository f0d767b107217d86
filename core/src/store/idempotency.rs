//! Idempotency keys of API creates.

use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct KeyRow {
    pub request_hash: Vec<u8>,
    pub status: i64,
    pub location: String,
    pub body: String,
}

/// Claims a key; false when it is taken (by a finished or a running request).
pub(crate) async fn claim(
    ex: Ex<'_>,
    scope: &[u8],
    key: &str,
    request_hash: &[u8],
    now: i64,
    expired_before: i64,
) -> Result<bool> {
    let n = on!(ex, c => {
        sqlx::query("DELETE FROM idempotency_keys WHERE scope_hash = $1 AND key = $2 AND created_at < $3")
            .bind(scope).bind(key).bind(expired_before).execute(&mut *c).await?;
        sqlx::query("INSERT INTO idempotency_keys (scope_hash, key, request_hash, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(scope).bind(key).bind(request_hash).bind(now).execute(&mut *c).await
            .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

pub(crate) async fn find(ex: Ex<'_>, scope: &[u8], key: &str) -> Result<Option<KeyRow>> {
    let sql = "SELECT request_hash, status, location, body FROM idempotency_keys \
               WHERE scope_hash = $1 AND key = $2";
    Ok(
        on!(ex, c => sqlx::query_as::<_, KeyRow>(sql).bind(scope).bind(key).fetch_optional(&mut *c).await)?,
    )
}

pub(crate) async fn finish(
    ex: Ex<'_>,
    scope: &[u8],
    key: &str,
    status: i64,
    location: &str,
    body: &str,
) -> Result<()> {
    let sql = "UPDATE idempotency_keys SET status = $3, location = $4, body = $5 \
               WHERE scope_hash = $1 AND key = $2";
    on!(ex, c => sqlx::query(sql).bind(scope).bind(key).bind(status).bind(location).bind(body)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn forget(ex: Ex<'_>, scope: &[u8], key: &str) -> Result<()> {
    let sql = "DELETE FROM idempotency_keys WHERE scope_hash = $1 AND key = $2";
    on!(ex, c => sqlx::query(sql).bind(scope).bind(key).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
