//! The in-memory store: the core window, sharded behind short-held mutexes.
//!
//! The default when no Redis is configured. One process only: records are
//! lost on restart and are not shared between instances. A store started with
//! [`MemoryStore::with_restart_floor`] answers `Stale` to every new key whose
//! stamp is not newer than the floor, so a retry of a request that ran before
//! the restart is refused instead of run again. Each shard is a
//! [`Window`] of [`SHARD_SLOTS`] records behind a `std::sync::Mutex` that is
//! never held across an `.await`. The window's guarantees (at most one `Fresh`
//! per live key, `Stale` after a safe eviction, `Full` when nothing may be
//! evicted) hold per shard, and a key always maps to the same shard.
//!
//! The store has as many shards as its capacity needs and no more: a lock is
//! held for one bucket scan, and on a 2-core machine 8 tasks ran
//! begin+complete no faster on 2, 8 or 32 shards than on one (about 2–3
//! million pairs per second either way, release build).
//!
//! # Quota and memory
//!
//! Beside the windows, one [`ledger`] (its own mutex, always taken after a
//! window's) holds every claim until its record ends: the stored responses
//! (a window slot holds only a claim id), each scope's count of live records
//! for [`StoreConfig::max_keys_per_scope`], and the bytes charged. A claim
//! over its scope's quota is answered [`Begin::Quota`] and released at once;
//! one that would take the ledger past its capacity (records) or its byte
//! budget is answered [`Begin::Full`]. Live means in flight, completed or
//! abandoned, and not yet ended (plus [`ledger::GRACE_MS`]); an abort frees
//! its record at once, an ended one leaves on the next call. A record the
//! window evicted under pressure still counts until it would have ended.
//!
//! Memory: a store of `capacity` records and a budget of `max_bytes`
//! ([`MemoryStore::bounded`]) holds `capacity.div_ceil(1024)` windows of
//! [`WINDOW_BYTES`] each, and its records charge
//!
//! ```text
//! in flight:  RECORD_BYTES + max_response_bytes + 128 × HEADER_BYTES   (reserved)
//! completed:  RECORD_BYTES + stored_size + headers × HEADER_BYTES
//! ```
//!
//! with the windows plus the sum of the charges kept at most `max_bytes`
//! ([`RECORD_BYTES`] = 512, [`HEADER_BYTES`] = 96: the ledger entry, its
//! queue items and the response's allocations). A full budget is `Full`,
//! like a full window, and [`MemoryStore::retry_after`] says when the
//! earliest record in the way ends.

use std::{
    hash::{BuildHasher, Hasher, RandomState},
    sync::{Arc, Mutex, PoisonError},
};

use tessera_core::window::{Ticket, Window, WindowConfig};

use super::{
    Begin, Clock, IdempotencyStore, Request, StoreConfig, StoreError, StoredResponse, SystemClock,
};

pub mod ledger;

use ledger::{ClaimId, Ledger, Refusal};
pub use ledger::{HEADER_BYTES, RECORD_BYTES};

/// Records per shard.
pub const SHARD_SLOTS: usize = 1024;

/// Bytes of one shard's window (allocated up front).
pub const WINDOW_BYTES: usize = std::mem::size_of::<Window<ClaimId, SHARD_SLOTS>>();

type Shard = Mutex<Box<Window<ClaimId, SHARD_SLOTS>>>;

/// An in-process store of at least `capacity` records.
pub struct MemoryStore<C: Clock = SystemClock> {
    shards: Box<[Shard]>,
    ledger: Mutex<Ledger>,
    /// Randomly keyed SipHash for the shard choice, so attacker-chosen keys
    /// cannot crowd one shard.
    picker: RandomState,
    config: StoreConfig,
    clock: C,
}

/// Ownership of an in-flight record in a [`MemoryStore`].
#[derive(Debug, PartialEq, Eq)]
pub struct MemoryTicket {
    shard: usize,
    ticket: Ticket,
    claim: ClaimId,
}

impl MemoryStore<SystemClock> {
    /// A store of at least `capacity` records (rounded up to whole shards) on
    /// the system clock, with no byte budget. Fails only if the OS has no
    /// randomness for the secrets.
    pub fn new(capacity: usize, config: StoreConfig) -> Result<Self, StoreError> {
        Self::with_clock(capacity, config, SystemClock)
    }

    /// A store of at least `capacity` records whose windows and records take
    /// at most `max_bytes` (see the [module docs](self) for what is counted).
    pub fn bounded(
        capacity: usize,
        max_bytes: usize,
        config: StoreConfig,
    ) -> Result<Self, StoreError> {
        Self::bounded_with_clock(capacity, max_bytes, config, SystemClock)
    }
}

/// The windows of a store of `capacity` records.
pub fn shards_for(capacity: usize) -> usize {
    capacity.div_ceil(SHARD_SLOTS).max(1)
}

impl<C: Clock> MemoryStore<C> {
    /// A store on `clock` (tests drive virtual time with it).
    pub fn with_clock(capacity: usize, config: StoreConfig, clock: C) -> Result<Self, StoreError> {
        Self::bounded_with_clock(capacity, usize::MAX, config, clock)
    }

    /// [`MemoryStore::bounded`] on `clock`.
    pub fn bounded_with_clock(
        capacity: usize,
        max_bytes: usize,
        config: StoreConfig,
        clock: C,
    ) -> Result<Self, StoreError> {
        let window = WindowConfig::new(
            millis(config.lease),
            millis(config.ttl),
            millis(config.max_skew),
        )
        .map_err(StoreError::Config)?;
        let count = shards_for(capacity);
        let shards = (0..count)
            .map(|_| Ok(Mutex::new(Box::new(Window::new(secret()?, window)))))
            .collect::<Result<Vec<_>, StoreError>>()?
            .into_boxed_slice();
        let budget = max_bytes.saturating_sub(count.saturating_mul(WINDOW_BYTES));
        let ledger = Ledger::new(
            count.saturating_mul(SHARD_SLOTS),
            budget,
            config.max_response_bytes,
            config.max_keys_per_scope,
        );
        Ok(MemoryStore {
            shards,
            ledger: Mutex::new(ledger),
            picker: RandomState::new(),
            config,
            clock,
        })
    }

    /// Refuses (`Stale`) every key without a record whose stamp, in
    /// milliseconds since the Unix epoch, is not newer than `floor_ms`. Start
    /// a store with the time it started (or a persisted high-water mark of
    /// stamps): nothing that ran before a restart then runs again after it,
    /// at the cost of refusing requests stamped before it.
    pub fn with_restart_floor(self, floor_ms: u64) -> Self {
        for shard in self.shards.iter() {
            lock(shard).set_restart_floor(floor_ms);
        }
        self
    }

    /// Records the store can hold.
    pub fn capacity(&self) -> usize {
        self.shards.len().saturating_mul(SHARD_SLOTS)
    }

    /// Records live now (in flight, or completed and unexpired). Locks every
    /// shard in turn: for metrics and tests, not the hot path.
    pub fn live(&self) -> usize {
        let now = self.clock.now_ms();
        self.shards.iter().map(|s| lock(s).live(now)).sum()
    }

    /// Bytes the records held now are charged (windows not included).
    pub fn charged_bytes(&self) -> usize {
        lock(&self.ledger).bytes()
    }

    fn shard(&self, req: &Request<'_>) -> usize {
        let mut h = self.picker.build_hasher();
        h.write(&(req.scope.len() as u64).to_le_bytes());
        h.write(req.scope);
        h.write(req.key);
        let n = self.shards.len() as u64;
        h.finish().checked_rem(n).unwrap_or(0) as usize
    }

    fn window(&self, shard: usize) -> Result<&Shard, StoreError> {
        // A ticket from another store may name a shard this one lacks.
        self.shards
            .get(shard)
            .ok_or(StoreError::Ticket(super::TicketError::NotOwner))
    }
}

impl<C: Clock> IdempotencyStore for MemoryStore<C> {
    type Ticket = MemoryTicket;

    fn config(&self) -> &StoreConfig {
        &self.config
    }

    async fn begin(
        &self,
        req: &Request<'_>,
    ) -> Result<Begin<StoredResponse, MemoryTicket>, StoreError> {
        let shard = self.shard(req);
        let now = self.clock.now_ms();
        let mut window = lock(self.window(shard)?);
        let outcome = window.begin(req, now);
        Ok(match outcome {
            Begin::Fresh(ticket) => {
                let keep_until = req.keep_until.unwrap_or(0);
                let lease_until = now.saturating_add(millis(self.config.lease));
                let end = record_end(keep_until, lease_until, millis(self.config.ttl));
                let claimed = lock(&self.ledger).claim(req.scope, end, keep_until, now);
                match claimed {
                    Ok(claim) => Begin::Fresh(MemoryTicket {
                        shard,
                        ticket,
                        claim,
                    }),
                    Err(refusal) => {
                        // Not run: the slot is freed as if never claimed.
                        window.abort(ticket, now).map_err(StoreError::Ticket)?;
                        match refusal {
                            Refusal::Quota => Begin::Quota,
                            Refusal::Full => Begin::Full,
                        }
                    }
                }
            }
            Begin::Replay(claim) => {
                let stored = lock(&self.ledger).response(claim);
                drop(window);
                match stored {
                    // Copied outside the locks.
                    Some(stored) => Begin::Replay(StoredResponse::clone(&stored)),
                    // The ledger outlives every record it holds (by its grace).
                    None => return Err(StoreError::Corrupt),
                }
            }
            Begin::InFlight => Begin::InFlight,
            Begin::Abandoned => Begin::Abandoned,
            Begin::Mismatch => Begin::Mismatch,
            Begin::Full => Begin::Full,
            Begin::Quota => Begin::Quota,
            Begin::Stale => Begin::Stale,
        })
    }

    /// A response over `max_response_bytes` is refused with `TooLarge` and the
    /// record stays in flight until its lease ends, as after a crash.
    async fn complete(
        &self,
        ticket: MemoryTicket,
        response: StoredResponse,
    ) -> Result<(), StoreError> {
        if response.stored_size() > self.config.max_response_bytes {
            return Err(StoreError::TooLarge);
        }
        let now = self.clock.now_ms();
        let mut window = lock(self.window(ticket.shard)?);
        window
            .complete(ticket.ticket, ticket.claim, now)
            .map_err(StoreError::Ticket)?;
        // Under the window's lock, so a replay never finds the record done
        // and the ledger without its response.
        let mut ledger = lock(&self.ledger);
        let end = record_end(
            ledger.keep_until(ticket.claim),
            now,
            millis(self.config.ttl),
        );
        ledger.settle(ticket.claim, Arc::new(response), end);
        Ok(())
    }

    async fn abort(&self, ticket: MemoryTicket) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let mut window = lock(self.window(ticket.shard)?);
        window
            .abort(ticket.ticket, now)
            .map_err(StoreError::Ticket)?;
        lock(&self.ledger).release(ticket.claim);
        Ok(())
    }

    /// The later of: when the key's earliest bucket-mate ends (a full
    /// window), when the scope's earliest record ends (over its quota), when
    /// the store's earliest record ends (capacity or budget reached).
    async fn retry_after(
        &self,
        req: &Request<'_>,
    ) -> Result<Option<std::time::Duration>, StoreError> {
        let now = self.clock.now_ms();
        let window = lock(self.window(self.shard(req))?).retry_at(req.scope, req.key, now);
        let ledger = lock(&self.ledger).retry_at(req.scope, now);
        Ok(window
            .max(ledger)
            .map(|at| std::time::Duration::from_millis(at.saturating_sub(now))))
    }
}

/// When a record settled at `settled` ends: `keep_until` if set (but never
/// before it settled), else `settled + ttl` (as the window computes it).
fn record_end(keep_until: u64, settled: u64, ttl: u64) -> u64 {
    match keep_until {
        0 => settled.saturating_add(ttl),
        keep => keep.max(settled),
    }
}

/// The window behind `shard`. The window never panics, so a poisoned lock
/// (a panic elsewhere while holding it) still guards consistent state.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn secret() -> Result<[u8; 16], StoreError> {
    let mut s = [0u8; 16];
    getrandom::fill(&mut s)
        .map_err(|e| StoreError::Unavailable(format!("no OS randomness: {e}")))?;
    Ok(s)
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
