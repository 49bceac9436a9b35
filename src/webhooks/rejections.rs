//! How many payment webhooks each source address had rejected this minute. Past the limit
//! a source is answered 429 and nothing of its requests is stored, so strangers cannot fill
//! the disk; verified notifications never pass through here, so a gateway is never slowed
//! by someone else's noise from a shared address.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Rejections stored per source address per minute; a real gateway sends none.
pub const PER_MINUTE: u32 = 20;
/// Beyond this many tracked addresses, windows that have ended are forgotten.
const MAX_TRACKED: usize = 10_000;

#[derive(Clone, Default)]
pub struct Rejections {
    windows: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
}

impl Rejections {
    /// Counts a rejection from `source`; `false` once it has had `PER_MINUTE` this minute.
    pub fn admit(&self, source: &str) -> bool {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= MAX_TRACKED {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let (start, count) = windows.entry(source.to_owned()).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        *count = count.saturating_add(1);
        *count <= PER_MINUTE
    }

    /// Seconds until `source` may be stored from again.
    pub fn retry_after(&self, source: &str) -> u64 {
        let windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        windows.get(source).map_or(0, |(start, _)| {
            WINDOW.saturating_sub(start.elapsed()).as_secs().max(1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_source_has_its_own_budget() {
        let r = Rejections::default();
        for _ in 0..PER_MINUTE {
            assert!(r.admit("10.0.0.1"));
        }
        assert!(!r.admit("10.0.0.1"));
        assert!(r.admit("10.0.0.2"));
        assert!(r.retry_after("10.0.0.1") >= 1);
    }
}
