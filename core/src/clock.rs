//! Time is injected: the server uses the system clock, tests a clock they move.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::model::Timestamp;

#[derive(Clone, Debug)]
pub enum Clock {
    System,
    /// A clock that only moves when told to (tests).
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(start: Timestamp) -> Clock {
        Clock::Manual(Arc::new(AtomicI64::new(start.millis())))
    }

    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => {
                let millis = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0);
                Timestamp::from_millis(millis)
            }
            Clock::Manual(at) => Timestamp::from_millis(at.load(Ordering::SeqCst)),
        }
    }

    /// Moves a manual clock forward; the system clock cannot be moved.
    pub fn advance(&self, seconds: i64) {
        if let Clock::Manual(at) = self {
            at.fetch_add(seconds * 1000, Ordering::SeqCst);
        }
    }
}
