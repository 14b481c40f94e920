//! Wall-clock time from time-sync frames plus a free-running monotonic counter.
//!
//! The board has no battery-backed RTC, so the endpoint has no idea of the
//! date until a `T` frame tells it; until then every request is answered
//! `503 no_time`. Between syncs the monotonic counter (SysTick on the board)
//! advances the clock. A sync may move the clock forward only: winding it back
//! would revive expired tokens and forgotten idempotency keys. The endpoint
//! syncs only from verified time tokens (see [`crate::endpoint`]).

/// A counter of milliseconds since boot that never goes backwards.
pub trait Monotonic {
    /// Milliseconds since an arbitrary fixed origin.
    fn millis(&mut self) -> u64;
}

/// Keeps the clock's high-water mark where a reset does not erase it: RAM
/// that a warm reset leaves alone, a backup register, flash. With it the
/// endpoint refuses, after a reset, every time token not newer than the
/// clock read before it (see [`crate::endpoint`]).
pub trait Persist {
    /// The mark stored before the reset, if one survived it intact.
    fn load(&mut self) -> Option<u64>;
    /// Stores a new, higher mark (Unix seconds).
    fn store(&mut self, secs: u64);
}

/// Nothing survives a reset: the endpoint's default.
pub struct Volatile;

impl Persist for Volatile {
    fn load(&mut self) -> Option<u64> {
        None
    }

    fn store(&mut self, _: u64) {}
}

/// Why a time sync was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SyncError {
    /// The new time is earlier than the clock already reads.
    Backwards,
}

/// Unix seconds = last synced time + whole seconds elapsed since the sync.
pub struct SyncedClock<M> {
    mono: M,
    anchor: Option<Anchor>,
}

#[derive(Clone, Copy)]
struct Anchor {
    secs: u64,
    millis: u64,
}

impl<M: Monotonic> SyncedClock<M> {
    /// A clock that does not know the time yet.
    pub const fn new(mono: M) -> Self {
        SyncedClock { mono, anchor: None }
    }

    /// Unix seconds now, or `None` before the first sync.
    pub fn now(&mut self) -> Option<u64> {
        let anchor = self.anchor?;
        let elapsed = self.mono.millis().saturating_sub(anchor.millis) / 1000;
        Some(anchor.secs.saturating_add(elapsed))
    }

    /// Sets the clock to `secs`, refusing to go back in time.
    pub fn sync(&mut self, secs: u64) -> Result<(), SyncError> {
        if self.now().is_some_and(|now| secs < now) {
            return Err(SyncError::Backwards);
        }
        self.anchor = Some(Anchor { secs, millis: self.mono.millis() });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::Cell;

    struct Fake<'a>(&'a Cell<u64>);

    impl Monotonic for Fake<'_> {
        fn millis(&mut self) -> u64 {
            self.0.get()
        }
    }

    #[test]
    fn unknown_until_synced_then_advances_and_never_goes_back() {
        let ms = Cell::new(5_000);
        let mut clock = SyncedClock::new(Fake(&ms));
        assert_eq!(clock.now(), None);
        clock.sync(1_000).unwrap();
        assert_eq!(clock.now(), Some(1_000));
        ms.set(7_999);
        assert_eq!(clock.now(), Some(1_002));
        assert_eq!(clock.sync(1_001), Err(SyncError::Backwards));
        clock.sync(1_002).unwrap();
        clock.sync(2_000).unwrap();
        assert_eq!(clock.now(), Some(2_000));
    }
}
