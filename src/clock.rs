//! The time request handlers judge calling windows at: the real time, unless a test fixes it.
//! Calling hours cannot be tested on a clock that moves with the day; the dispatcher has its
//! own injected clock for the same reason.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

/// Shared by every clone of the state, so fixing it reaches the server a test started.
#[derive(Clone, Debug, Default)]
pub struct Clock(Arc<RwLock<Option<DateTime<Utc>>>>);

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self.0.read() {
            Ok(fixed) => fixed.unwrap_or_else(Utc::now),
            Err(_) => Utc::now(),
        }
    }

    /// From now on `now()` answers `at` (tests only: nothing outside the process can set it).
    pub fn fix(&self, at: DateTime<Utc>) {
        if let Ok(mut fixed) = self.0.write() {
            *fixed = Some(at);
        }
    }
}
