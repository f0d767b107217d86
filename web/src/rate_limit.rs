//! The API's request windows: one minute per credential (an unknown or wrong credential counts
//! against its client address), kept in this node's memory. Valid credentials each have their
//! own window; addresses (requests without a valid credential) are told apart up to
//! `CAPACITY`, and addresses past it share one window, so a flood of distinct header values
//! cannot grow the map.

use std::collections::HashMap;
use std::sync::Mutex;

/// Keys told apart in one window.
pub const CAPACITY: usize = 10_000;
/// Where keys past the capacity count.
const OVERFLOW: &str = "overflow";

/// Requests per window, per key.
pub struct RateLimiter {
    pub(crate) per_minute: u32,
    window: Mutex<(i64, HashMap<String, u32>)>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute: per_minute.max(1),
            window: Mutex::new((0, HashMap::new())),
        }
    }

    /// Counts one request; returns (remaining, seconds to the window's end), or None when over.
    pub(crate) fn take(&self, key: &str, now_secs: i64) -> (Option<u32>, i64) {
        let start = now_secs - now_secs.rem_euclid(60);
        let reset = start + 60 - now_secs;
        let mut guard = match self.window.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (window, counts) = &mut *guard;
        if *window != start {
            *window = start;
            counts.clear();
        }
        // A valid credential always has its own window (there are only so many live ones);
        // addresses past the capacity share one.
        let credential = !key.starts_with("ip:");
        let key = if credential || counts.contains_key(key) || counts.len() < CAPACITY - 1 {
            key
        } else {
            OVERFLOW
        };
        let n = counts.entry(key.to_string()).or_insert(0);
        if *n >= self.per_minute {
            return (None, reset);
        }
        *n += 1;
        (Some(self.per_minute - *n), reset)
    }

    /// Keys counted in the current window (for tests of the bound).
    pub fn keys(&self) -> usize {
        self.window.lock().map(|g| g.1.len()).unwrap_or(0)
    }
}
