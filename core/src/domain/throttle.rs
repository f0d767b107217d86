//! Throttling of guesses: failures are counted per key (a client address, a typed email
//! address, a user's second factor) in the database, so every node sees them. After a key's
//! free failures it must wait a delay that doubles with each further failure, up to a cap;
//! failures older than the window are forgotten.
//!
//! An attempt is *reserved* before it is checked: one transaction locks the key's row, refuses
//! while the key must wait, and otherwise counts the attempt as a failure. A right answer then
//! takes its reservation back. So however many guesses arrive at once, at most the free ones
//! (and one per delay) are ever checked.

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::Timestamp;
use crate::store::{self, Ex, Tx};

/// Failures allowed per key before delays start (sign-in, second factors).
pub const FREE_FAILURES: i64 = 5;
/// Failures are forgotten this long after the last one.
pub const WINDOW_SECS: i64 = 60 * 60;

/// A throttle key and its rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    pub name: String,
    /// Failures allowed before delays start.
    pub free: i64,
    /// The longest delay.
    pub cap_secs: i64,
}

impl Key {
    pub(crate) fn new(name: String, free: i64, cap_secs: i64) -> Key {
        Key {
            name,
            free,
            cap_secs,
        }
    }
}

/// Until when a key with `failures` failures, the last at `last`, must wait (None: it may go).
pub(crate) fn wait_until(
    failures: i64,
    last: i64,
    free: i64,
    cap_secs: i64,
    now: Timestamp,
) -> Option<Timestamp> {
    if failures < free || last < now.millis() - WINDOW_SECS * 1000 {
        return None;
    }
    let exp = (failures - free).min(20) as u32;
    let delay = 2_i64.pow(exp).min(cap_secs);
    Some(Timestamp::from_millis(last).plus_secs(delay)).filter(|u| *u > now)
}

/// Reserves one attempt on every key, all or none: 429 (nothing counted) while any of them
/// must wait; otherwise each counts the attempt as a failure until `release`d.
pub(crate) async fn reserve(ctx: &Ctx, keys: &[Key], now: Timestamp) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    reserve_in(&mut tx, keys, now).await?;
    tx.commit().await
}

/// `reserve` inside the caller's transaction (which must not commit after an error).
pub(crate) async fn reserve_in(tx: &mut Tx, keys: &[Key], now: Timestamp) -> Result<()> {
    let mut counts = Vec::with_capacity(keys.len());
    let mut wait: Option<Timestamp> = None;
    for key in keys {
        let row = store::throttle::lock_throttle(tx.ex(), &key.name).await?;
        wait = wait.max(wait_until(
            row.failures,
            row.last_failure_at,
            key.free,
            key.cap_secs,
            now,
        ));
        let fresh = row.last_failure_at < now.millis() - WINDOW_SECS * 1000;
        counts.push(if fresh { 1 } else { row.failures + 1 });
    }
    if let Some(until) = wait {
        return Err(Error::RateLimited {
            retry_after_secs: now.secs_until(until),
        });
    }
    for (key, failures) in keys.iter().zip(counts) {
        store::throttle::set_throttle(tx.ex(), &key.name, failures, now.millis()).await?;
    }
    Ok(())
}

/// Takes back the reservation of an attempt that was right.
pub(crate) async fn release(ex: Ex<'_>, key: &Key) -> Result<()> {
    store::throttle::release(ex, &key.name).await
}

/// Forgets a key's failures (the owner proved who they are).
pub(crate) async fn clear(ex: Ex<'_>, key: &Key) -> Result<()> {
    store::throttle::clear_throttle(ex, &key.name).await
}

/// Removes counters that count for nothing any more (run on a schedule).
pub async fn sweep(ctx: &Ctx) -> Result<u64> {
    let before = ctx.clock.now().millis() - WINDOW_SECS * 1000;
    let mut tx = ctx.db.begin().await?;
    let n = store::throttle::sweep_throttle(tx.ex(), before).await?;
    tx.commit().await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_free_failures_double_and_are_capped() {
        let now = Timestamp::from_millis(10_000_000);
        let last = now.millis();
        assert_eq!(wait_until(4, last, 5, 60, now), None);
        assert_eq!(wait_until(5, last, 5, 60, now), Some(now.plus_secs(1)));
        assert_eq!(wait_until(8, last, 5, 60, now), Some(now.plus_secs(8)));
        assert_eq!(wait_until(45, last, 5, 60, now), Some(now.plus_secs(60)));
        // Past the delay, and past the window, the key may go again.
        assert_eq!(wait_until(5, last - 2_000, 5, 60, now), None);
        assert_eq!(
            wait_until(50, last - WINDOW_SECS * 1000 - 1, 5, 60, now),
            None
        );
    }
}
