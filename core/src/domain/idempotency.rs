//! Idempotency keys for API creates (docs/API.md): a retry with the same key and the
//! same request gets the first answer again; the same key with another request is refused.
//! Answers are kept 24 hours, without any secret they carried (shown once means once).

use crate::context::Ctx;
use crate::error::Result;
use crate::store;

/// Answers are kept this long.
pub const KEEP_SECS: i64 = 24 * 3600;

/// What to do with a request that carries a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// First time: run it, then `finish` (or `forget` when it should not be kept).
    Fresh,
    /// Answered before: send this again.
    Replay {
        status: u16,
        location: String,
        body: String,
    },
    /// The key was used for another request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

pub async fn begin(ctx: &Ctx, scope: &[u8], key: &str, request_hash: &[u8]) -> Result<Begin> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let fresh = store::idempotency::claim(
        tx.ex(),
        scope,
        key,
        request_hash,
        now.millis(),
        now.plus_secs(-KEEP_SECS).millis(),
    )
    .await?;
    let row = if fresh {
        None
    } else {
        store::idempotency::find(tx.ex(), scope, key).await?
    };
    tx.commit().await?;
    Ok(match row {
        None if fresh => Begin::Fresh,
        None => Begin::InProgress,
        Some(r) if r.request_hash != request_hash => Begin::Mismatch,
        Some(r) if r.status == 0 => Begin::InProgress,
        Some(r) => Begin::Replay {
            status: u16::try_from(r.status).unwrap_or(500),
            location: r.location,
            body: r.body,
        },
    })
}

/// Keeps the answer (any `secret` field of a JSON body is dropped first).
pub async fn finish(
    ctx: &Ctx,
    scope: &[u8],
    key: &str,
    status: u16,
    location: &str,
    body: &str,
) -> Result<()> {
    let body = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut map)) => {
            map.remove("secret");
            serde_json::Value::Object(map).to_string()
        }
        _ => body.to_string(),
    };
    let mut tx = ctx.db.begin().await?;
    store::idempotency::finish(tx.ex(), scope, key, i64::from(status), location, &body).await?;
    tx.commit().await
}

/// Releases a key whose request should be retried for real (a server error, a throttle).
pub async fn forget(ctx: &Ctx, scope: &[u8], key: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    store::idempotency::forget(tx.ex(), scope, key).await?;
    tx.commit().await
}
