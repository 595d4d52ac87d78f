//! Load shedding, counted: every request refused with 503 `overloaded` (the render or heavy
//! queue full, `max_concurrent_requests` reached, the answer buffer full) is one count here.
//!
//! Shedding is the server working as designed under a load it cannot take, not a fault: a
//! flood can cause tens of thousands a minute, and a log line each would be a second flood (a
//! 40 s test once wrote 17.6 MB of them). So the count is kept for metrics ([`Shedding::total`])
//! and the log gets one summary line at most every [`SUMMARY_EVERY`], at the first refusal after
//! a quiet spell and then while the refusals go on.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Least time between two summary lines.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(5);

/// The count of shed requests since start-up, and the state of its log summary.
#[derive(Debug)]
pub struct Shedding {
    total: AtomicU64,
    /// When the last summary was written, and the total then.
    logged: Mutex<Option<(Instant, u64)>>,
}

impl Default for Shedding {
    fn default() -> Self {
        Self::new()
    }
}

impl Shedding {
    /// No request shed yet.
    pub fn new() -> Self {
        Self { total: AtomicU64::new(0), logged: Mutex::new(None) }
    }

    /// Counts one shed request, and writes a summary line when the last one is old enough.
    pub fn record(&self) {
        let total = self.total.fetch_add(1, Ordering::Relaxed) + 1;
        let now = Instant::now();
        // Never wait on the log's lock: another request is writing the summary.
        let Ok(mut logged) = self.logged.try_lock() else { return };
        let since = match *logged {
            Some((at, _)) if now.duration_since(at) < SUMMARY_EVERY => return,
            Some((at, before)) => Some((now.duration_since(at), total - before)),
            None => None,
        };
        *logged = Some((now, total));
        drop(logged);
        match since {
            Some((elapsed, shed)) => tracing::warn!(
                shed,
                seconds = elapsed.as_secs(),
                total,
                "shedding load: {shed} requests answered 503 overloaded in the last {} s ({total} since start-up)",
                elapsed.as_secs()
            ),
            None => {
                tracing::warn!(total, "shedding load: a request was answered 503 overloaded (the first since start-up)")
            }
        }
    }

    /// Requests shed since start-up.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shed_request_is_counted() {
        let s = Shedding::new();
        for _ in 0..1000 {
            s.record();
        }
        assert_eq!(s.total(), 1000);
        // One summary now, none of the 999 others within the interval.
        assert_eq!(s.logged.lock().ok().and_then(|l| l.map(|(_, t)| t)), Some(1));
    }
}
