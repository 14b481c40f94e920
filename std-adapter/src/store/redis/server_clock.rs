//! A lower bound on the server's clock, kept without a call per claim.
//!
//! The fast claim (`SET … NX`) cannot read the server's `TIME`, yet a stamp
//! too far in the future must still be answered `Stale` by the server's
//! clock. The store reads `TIME` when made and every [`REFRESH`] after, and
//! between reads adds this process's monotonic time elapsed since the reply
//! arrived: the server's clock has advanced at least that much since (rates
//! agree; both clocks are NTP-disciplined), so the estimate is never ahead of
//! it. A stamp the estimate cannot clear goes to the claim script, where the
//! server's own `TIME` decides. Only a server clock stepped backwards since
//! the last read (at most [`REFRESH`] ago) lets the fast path accept a stamp
//! up to that step beyond the skew; on a Cluster, the nodes' clocks are
//! taken to agree (each node is its own authority for its records' expiry).

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

/// How often the reference is read again.
pub(super) const REFRESH: Duration = Duration::from_secs(10);

pub(super) struct ServerClock {
    /// The origin of the monotonic offsets below.
    origin: Instant,
    /// The server's Unix ms at `origin`, a lower bound.
    base: AtomicU64,
    /// When the reference was last taken (ms after `origin`), or claimed by
    /// a task about to take it.
    taken: AtomicU64,
}

impl ServerClock {
    /// From a `TIME` reply `server_ms` that arrived at `arrived`.
    pub(super) fn new(server_ms: u64, arrived: Instant) -> Self {
        let clock = ServerClock {
            origin: arrived,
            base: AtomicU64::new(0),
            taken: AtomicU64::new(0),
        };
        clock.set(server_ms, arrived);
        clock
    }

    fn since_origin(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_millis()).unwrap_or(u64::MAX)
    }

    /// Records a `TIME` reply `server_ms` that arrived at `arrived`.
    pub(super) fn set(&self, server_ms: u64, arrived: Instant) {
        let base = server_ms.saturating_sub(self.since_origin(arrived));
        self.base.store(base, Ordering::Relaxed);
    }

    /// At most the server's Unix ms at `at`.
    pub(super) fn at_least(&self, at: Instant) -> u64 {
        self.base
            .load(Ordering::Relaxed)
            .saturating_add(self.since_origin(at))
    }

    /// Whether the caller should read `TIME` again now; true for one caller
    /// per [`REFRESH`].
    pub(super) fn due(&self, at: Instant) -> bool {
        let now = self.since_origin(at);
        let taken = self.taken.load(Ordering::Relaxed);
        let period = u64::try_from(REFRESH.as_millis()).unwrap_or(u64::MAX);
        now.saturating_sub(taken) >= period
            && self
                .taken
                .compare_exchange(taken, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_trails_the_reference_and_refreshes_once_per_period() {
        let t0 = Instant::now();
        let clock = ServerClock::new(1_000_000, t0);
        assert_eq!(clock.at_least(t0), 1_000_000);
        assert_eq!(clock.at_least(t0 + Duration::from_millis(250)), 1_000_250);
        assert!(!clock.due(t0 + Duration::from_secs(1)));
        let later = t0 + REFRESH;
        assert!(clock.due(later));
        assert!(!clock.due(later), "one refresher per period");
        // The server was behind our estimate: the lower bound follows it down.
        clock.set(1_000_000 + 5_000, later);
        assert_eq!(clock.at_least(later), 1_005_000);
    }
}
