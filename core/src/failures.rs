//! Requests with an unknown or wrong credential (API tokens, HTTP Basic, SCIM tokens), counted
//! per client address (an IPv6 address by its /64) and minute, in this node's memory.
//!
//! - An address past `BUDGET` failures in a minute is refused (429) before its credential is
//!   even looked up, until the minute ends; a real credential from elsewhere is never slowed.
//! - Memory is bounded: at most `CAPACITY` addresses are told apart in a minute; beyond that,
//!   new addresses share one count, audited together and never refused for it (a flood from
//!   many addresses must not refuse a newcomer). A flood of distinct credentials from one
//!   address is one entry.
//! - The audit trail gets one event per address and minute with the count (`api.auth.failed`,
//!   `{"count": n}`), written when the minute is over (`domain::auth::flush_failures`), so a flood does not fill the
//!   database.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::model::{Timestamp, address_bucket};

/// Failures an address may have in a minute before it is refused.
pub const BUDGET: u32 = 60;
/// Addresses told apart in a minute.
pub const CAPACITY: usize = 10_000;
/// Where addresses past the capacity are counted.
const OVERFLOW: &str = "other addresses";

#[derive(Default)]
struct Minute {
    start_ms: i64,
    counts: HashMap<String, u32>,
}

/// A count of one address in one minute: (minute start, address, failures).
pub(crate) type Due = (i64, String, u32);

/// The counts of this minute and those of past minutes not yet written.
#[derive(Default)]
pub struct AuthFailures {
    inner: Mutex<(Minute, Vec<Due>)>,
}

fn minute_of(now: Timestamp) -> i64 {
    now.millis() - now.millis().rem_euclid(60_000)
}

impl AuthFailures {
    /// The bucket an address counts in this minute (moving to a new minute as time passes).
    fn with_minute<T>(&self, now: Timestamp, f: impl FnOnce(&mut Minute) -> T) -> T {
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (minute, due) = &mut *guard;
        let start = minute_of(now);
        if minute.start_ms != start {
            let old = std::mem::take(&mut minute.counts);
            due.extend(old.into_iter().map(|(a, n)| (minute.start_ms, a, n)));
            minute.start_ms = start;
        }
        f(minute)
    }

    /// Whether an address has used up its failures this minute: 429 until the minute ends.
    pub fn refuse(&self, ip: &str, now: Timestamp) -> Result<()> {
        let bucket = address_bucket(ip);
        // Only an address's own count refuses it: addresses past the capacity share a count
        // for the audit trail, never a budget (else a flood from many addresses would refuse
        // every newcomer, real credentials included).
        let over = self.with_minute(now, |m| m.counts.get(&bucket).is_some_and(|n| *n >= BUDGET));
        if over {
            let wait = 60 - now.millis().rem_euclid(60_000) / 1000;
            return Err(Error::RateLimited {
                retry_after_secs: wait.max(1),
            });
        }
        Ok(())
    }

    /// Counts one failure of an address.
    pub fn count(&self, ip: &str, now: Timestamp) {
        let bucket = address_bucket(ip);
        self.with_minute(now, |m| {
            let key = if m.counts.contains_key(&bucket) || m.counts.len() < CAPACITY - 1 {
                bucket
            } else {
                OVERFLOW.to_string()
            };
            *m.counts.entry(key).or_insert(0) += 1;
        });
    }

    /// Addresses counted this minute (for tests of the bound).
    pub fn addresses(&self, now: Timestamp) -> usize {
        self.with_minute(now, |m| m.counts.len())
    }

    /// The counts of past minutes (all of them with `all`), taken out to be written.
    pub(crate) fn take(&self, now: Timestamp, all: bool) -> Vec<Due> {
        // Moves a minute that is over to the due ones.
        self.with_minute(now, |_| ());
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (minute, pending) = &mut *guard;
        let mut out = std::mem::take(pending);
        if all {
            let start = minute.start_ms;
            out.extend(minute.counts.drain().map(|(a, n)| (start, a, n)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_bounded() {
        let log = AuthFailures::default();
        let now = Timestamp::from_millis(1_800_000_000_000);
        for i in 0..(CAPACITY as u32 + 5_000) {
            log.count(
                &format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255),
                now,
            );
        }
        assert_eq!(log.addresses(now), CAPACITY);
        // Past the capacity, new addresses share one count, which refuses nobody.
        assert!(log.refuse("192.0.2.1", now).is_ok());
        assert!(log.refuse("10.0.0.1", now).is_ok());
    }

    #[test]
    fn budgets_are_per_address_and_minute() {
        let log = AuthFailures::default();
        let now = Timestamp::from_millis(1_800_000_000_000);
        for _ in 0..BUDGET - 1 {
            log.count("192.0.2.1", now);
        }
        assert!(log.refuse("192.0.2.1", now).is_ok());
        log.count("192.0.2.1", now);
        assert!(log.refuse("192.0.2.1", now).is_err());
        assert!(log.refuse("192.0.2.2", now).is_ok());
        // One IPv6 network is one client.
        for i in 0..BUDGET {
            log.count(&format!("2001:db8:0:1::{i:x}"), now);
        }
        assert!(log.refuse("2001:db8:0:1::ffff", now).is_err());
        assert!(log.refuse("2001:db8:0:2::1", now).is_ok());
        // A new minute starts afresh; the old one is due to be written, once.
        let later = now.plus_secs(60);
        assert!(log.refuse("192.0.2.1", later).is_ok());
        let due = log.take(later, false);
        assert_eq!(due.len(), 2);
        assert!(due.iter().any(|(_, a, n)| a == "192.0.2.1" && *n == BUDGET));
        assert!(log.take(later, false).is_empty());
    }
}
