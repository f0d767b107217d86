//! The bounded hasher: every argon2id hash and verification of Roster (passwords, system users'
//! secrets, SMS and recovery codes) runs here, on the blocking pool, a few at a time, with no
//! transaction open. argon2id takes 19 MiB and tens of milliseconds of a core each: a flood of
//! sign-ins waits for a turn instead of starving the node, and past the queue time the node
//! answers busy (429) instead of queueing without bound.

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::password;

/// A turn at hashing, or 429 when every turn stays taken for the context's queue time.
async fn permit(ctx: &Ctx) -> Result<tokio::sync::OwnedSemaphorePermit> {
    match tokio::time::timeout(ctx.hash_queue, ctx.hashing.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) => Err(Error::internal("hashing closed")),
        Err(_) => Err(Error::RateLimited {
            retry_after_secs: 1,
        }),
    }
}

/// Checks a typed secret against a stored hash. With no stored hash it spends the same work on
/// a dummy, so unknown users answer in the same time as known ones.
pub(crate) async fn verify(ctx: &Ctx, typed: &str, stored: Option<String>) -> Result<bool> {
    let _permit = permit(ctx).await?;
    let cost = ctx.settings.hash_cost;
    let typed = typed.to_string();
    tokio::task::spawn_blocking(move || match stored {
        Some(h) => password::verify(&typed, &h),
        None => {
            password::verify_dummy(cost, &typed);
            false
        }
    })
    .await
    .map_err(Error::internal)
}

/// Hashes a new secret.
pub(crate) async fn hash(ctx: &Ctx, secret: &str) -> Result<String> {
    let _permit = permit(ctx).await?;
    let cost = ctx.settings.hash_cost;
    let secret = secret.to_string();
    tokio::task::spawn_blocking(move || password::hash(cost, &secret))
        .await
        .map_err(Error::internal)?
}
