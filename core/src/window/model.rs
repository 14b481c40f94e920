//! The reference model: the answers a window must give, for property tests
//! and fuzzing.
//!
//! The model keeps every record until it ends, and learns which records the
//! window evicted by asking it after each `Fresh` ([`Window::holds`]); it
//! refuses an eviction the window may not make (an in-flight record, or one
//! not older than the claim that displaced it). From that it predicts:
//!
//! - exactly one answer for a key with a record (`Replay` of exactly its
//!   value, `InFlight`, `Abandoned` or `Mismatch`), whatever the request's
//!   stamp, and `Stale` for a retry of an evicted record whose stamp is not
//!   newer than the evicted one, until that record would have ended;
//! - `Fresh` for a key without a record, where `Full` is also allowed once at
//!   least `min(N, WAYS)` records live (a bucket could be full), and `Stale`
//!   only below a floor an eviction raised (held until the end of the longest
//!   evicted record it covers), or not newer than the restart floor.
//!
//! So a window that refuses what it has room for, or whose floors outlive the
//! records they stand for, disagrees with the model as surely as one that runs
//! a live key twice.
#![cfg(any(test, feature = "testing"))]

use super::{Begin, Fingerprint, Request, Ticket, Window, WindowConfig, WAYS};

/// Longest scope or key the model holds.
const MAX_BYTES: usize = 32;
/// Records the model holds (evicted ones included until they end); keep
/// generated key spaces below this.
const MAX_RECORDS: usize = 128;
/// Outstanding tickets a [`Checked`] run holds.
const MAX_TICKETS: usize = 64;

#[derive(Clone, Debug)]
enum State<V> {
    InFlight { ticket: u64, lease_until: u64 },
    Done(V),
}

#[derive(Clone, Debug)]
struct Record<V> {
    scope: heapless::Vec<u8, MAX_BYTES>,
    key: heapless::Vec<u8, MAX_BYTES>,
    fingerprint: Fingerprint,
    stamp: u64,
    until: u64,
    keep_until: Option<u64>,
    state: State<V>,
    /// Removed from the window by an eviction; kept here until it would
    /// have ended.
    evicted: bool,
}

impl<V> Record<V> {
    fn is(&self, scope: &[u8], key: &[u8]) -> bool {
        self.scope.as_slice() == scope && self.key.as_slice() == key
    }

    fn settled(&self, now: u64) -> bool {
        match self.state {
            State::Done(_) => true,
            State::InFlight { lease_until, .. } => lease_until <= now,
        }
    }
}

/// The answers the model permits for one `begin`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Allowed<V> {
    /// No record: `Fresh`; also `Full` if `full`, also `Stale` if `stale`.
    Absent {
        /// A bucket could be full.
        full: bool,
        /// An eviction's floor could cover the stamp.
        stale: bool,
    },
    /// `Stale` only (beyond the skew, under the restart floor, or a retry of
    /// an evicted record with a stamp not newer than its own).
    Stale,
    /// `InFlight` only.
    InFlight,
    /// `Abandoned` only.
    Abandoned,
    /// `Mismatch` only.
    Mismatch,
    /// `Replay` of exactly this value.
    Replay(V),
}

impl<V: PartialEq> Allowed<V> {
    /// Whether the window's `outcome` is one the model permits.
    pub fn permits<T>(&self, outcome: &Begin<V, T>) -> bool {
        match (self, outcome) {
            (Allowed::Absent { .. }, Begin::Fresh(_)) => true,
            (Allowed::Absent { full, .. }, Begin::Full) => *full,
            (Allowed::Absent { stale, .. }, Begin::Stale) => *stale,
            (Allowed::Stale, Begin::Stale) => true,
            (Allowed::InFlight, Begin::InFlight) => true,
            (Allowed::Abandoned, Begin::Abandoned) => true,
            (Allowed::Mismatch, Begin::Mismatch) => true,
            (Allowed::Replay(v), Begin::Replay(w)) => v == w,
            _ => false,
        }
    }
}

/// Why the model refused an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelError {
    /// The model's record table or a scope/key buffer is full: shrink the test.
    Capacity,
    /// The window dropped a record it may not evict (in flight, not older
    /// than the new claim, more than one per claim, or with room left).
    UnsafeEviction,
}

/// The reference model of a window of capacity `capacity`.
#[derive(Debug)]
pub struct Model<V> {
    config: WindowConfig,
    capacity: usize,
    restart_below: u64,
    /// The highest floor any eviction raised (below, until), merged as the
    /// window merges a bucket's floors, so it covers every bucket's floor.
    floor: (u64, u64),
    records: heapless::Vec<Record<V>, MAX_RECORDS>,
    next_ticket: u64,
}

impl<V: Clone + PartialEq> Model<V> {
    /// An empty model of a window with `capacity` slots and `config`.
    pub fn new(config: WindowConfig, capacity: usize) -> Self {
        Model {
            config,
            capacity,
            restart_below: 0,
            floor: (0, 0),
            records: heapless::Vec::new(),
            next_ticket: 0,
        }
    }

    /// As [`Window::set_restart_floor`].
    pub fn set_restart_floor(&mut self, floor: u64) {
        self.restart_below = self.restart_below.max(floor.saturating_add(1));
    }

    fn held(&self, now: u64) -> impl Iterator<Item = &Record<V>> {
        self.records
            .iter()
            .filter(move |r| r.until > now && !r.evicted)
    }

    /// What the window may answer to `req` at `now`.
    pub fn begin(&self, req: &Request<'_>, now: u64) -> Allowed<V> {
        if req.stamp > now.saturating_add(self.config.max_skew()) {
            return Allowed::Stale;
        }
        if let Some(r) = self.held(now).find(|r| r.is(req.scope, req.key)) {
            if r.fingerprint != req.fingerprint {
                return Allowed::Mismatch;
            }
            return match &r.state {
                State::Done(v) => Allowed::Replay(v.clone()),
                State::InFlight { .. } if r.settled(now) => Allowed::Abandoned,
                State::InFlight { .. } => Allowed::InFlight,
            };
        }
        let retry_of_evicted = self.records.iter().any(|r| {
            r.evicted && r.until > now && r.is(req.scope, req.key) && req.stamp <= r.stamp
        });
        if retry_of_evicted || req.stamp < self.restart_below {
            return Allowed::Stale;
        }
        Allowed::Absent {
            full: self.held(now).count() >= self.capacity.min(WAYS),
            stale: self.floor.1 > now && req.stamp < self.floor.0,
        }
    }

    /// Records that the window answered `Fresh` to `req`; `holds` says whether
    /// the window still holds a live record of a `(scope, key)`, so the model
    /// learns what the claim evicted. Returns the model's ticket.
    pub fn fresh(
        &mut self,
        req: &Request<'_>,
        now: u64,
        mut holds: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<u64, ModelError> {
        self.records.retain(|r| r.until > now);
        // An eviction needs both buckets full: at least `min(N, WAYS)` records.
        let full = self.held(now).count() >= self.capacity.min(WAYS);
        let mut evicted = 0usize;
        for r in self.records.iter_mut().filter(|r| !r.evicted) {
            if holds(&r.scope, &r.key) {
                continue;
            }
            evicted = evicted.saturating_add(1);
            if !full || !r.settled(now) || r.stamp >= req.stamp || evicted > 1 {
                return Err(ModelError::UnsafeEviction);
            }
            r.evicted = true;
            let (below, until) = (r.stamp.saturating_add(1), r.until);
            self.floor = if self.floor.1 > now {
                (self.floor.0.max(below), self.floor.1.max(until))
            } else {
                (below, until)
            };
        }
        let ticket = self.next_ticket;
        self.next_ticket = ticket.saturating_add(1);
        let lease_until = now.saturating_add(self.config.lease());
        let record = Record {
            scope: heapless::Vec::from_slice(req.scope).map_err(|_| ModelError::Capacity)?,
            key: heapless::Vec::from_slice(req.key).map_err(|_| ModelError::Capacity)?,
            fingerprint: req.fingerprint,
            stamp: req.stamp,
            // If abandoned, the record lives as long as a completed one would.
            until: end(req.keep_until, lease_until, self.config.ttl()),
            keep_until: req.keep_until,
            state: State::InFlight {
                ticket,
                lease_until,
            },
            evicted: false,
        };
        self.records
            .push(record)
            .map_err(|_| ModelError::Capacity)?;
        Ok(ticket)
    }

    fn owned(&mut self, ticket: u64, now: u64) -> Option<&mut Record<V>> {
        self.records.iter_mut().find(|r| {
            !r.evicted
                && matches!(r.state, State::InFlight { ticket: t, lease_until } if t == ticket && lease_until > now)
        })
    }

    /// Whether `complete` must succeed; applies it if so.
    pub fn complete(&mut self, ticket: u64, value: V, now: u64) -> bool {
        let ttl = self.config.ttl();
        match self.owned(ticket, now) {
            Some(r) => {
                r.until = end(r.keep_until, now, ttl);
                r.state = State::Done(value);
                true
            }
            None => false,
        }
    }

    /// Whether `abort` must succeed; applies it if so.
    pub fn abort(&mut self, ticket: u64, now: u64) -> bool {
        match self.owned(ticket, now) {
            Some(r) => {
                r.until = 0;
                true
            }
            None => false,
        }
    }
}

/// When a record settled at `settled` ends: `keep_until` (never before it
/// settled), else `settled + ttl`. `Some(0)` means none, as in the window.
fn end(keep_until: Option<u64>, settled: u64, ttl: u64) -> u64 {
    match keep_until {
        None | Some(0) => settled.saturating_add(ttl),
        Some(keep) => keep.max(settled),
    }
}

/// Where a window and its model disagreed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Divergence<V> {
    /// `begin` answered `got`; the model allows `allowed`.
    Answer {
        /// What the model allows.
        allowed: Allowed<V>,
        /// The window's answer ([`Begin::name`]).
        got: &'static str,
    },
    /// `complete` or `abort` succeeded on one side only.
    Ticket {
        /// `"complete"` or `"abort"`.
        op: &'static str,
        /// Whether the window accepted it.
        window: bool,
    },
    /// The model refused to follow the window.
    Model(ModelError),
}

/// A window and its model driven together: every call checks the window's
/// answer against the model. Shared by the property tests and `window_ops`.
pub struct Checked<V, const N: usize> {
    /// The window under test.
    pub window: Window<V, N>,
    model: Model<V>,
    tickets: heapless::Vec<(Ticket, u64), MAX_TICKETS>,
    /// The clock.
    pub now: u64,
}

impl<V: Clone + PartialEq, const N: usize> Checked<V, N> {
    /// A fresh window and model starting at `now`.
    pub fn new(window: Window<V, N>, now: u64) -> Self {
        let model = Model::new(*window.config(), N);
        Checked {
            window,
            model,
            tickets: heapless::Vec::new(),
            now,
        }
    }

    /// Sets the restart floor on both.
    pub fn set_restart_floor(&mut self, floor: u64) {
        self.window.set_restart_floor(floor);
        self.model.set_restart_floor(floor);
    }

    /// Outstanding tickets.
    pub fn outstanding(&self) -> usize {
        self.tickets.len()
    }

    /// `begin` on both; returns the window's answer's name.
    pub fn begin(&mut self, req: &Request<'_>) -> Result<&'static str, Divergence<V>> {
        let now = self.now;
        let allowed = self.model.begin(req, now);
        let got = self.window.begin(req, now);
        let name = got.name();
        if !allowed.permits(&got) {
            return Err(Divergence::Answer { allowed, got: name });
        }
        if let Begin::Fresh(ticket) = got {
            let window = &self.window;
            let m = self
                .model
                .fresh(req, now, |s, k| window.holds(s, k, now))
                .map_err(Divergence::Model)?;
            // Too many outstanding: the oldest ticket is dropped unspent (a
            // crashed owner), which the lease then covers.
            if self.tickets.is_full() {
                let _unspent = self.tickets.remove(0);
            }
            let _ = self.tickets.push((ticket, m));
        }
        Ok(name)
    }

    /// `complete` of outstanding ticket `which` (wraps); returns whether it
    /// succeeded.
    pub fn complete(&mut self, which: usize, value: V) -> Result<bool, Divergence<V>> {
        let Some((ticket, m)) = self.take(which) else {
            return Ok(false);
        };
        let must = self.model.complete(m, value.clone(), self.now);
        let did = self.window.complete(ticket, value, self.now).is_ok();
        if did != must {
            return Err(Divergence::Ticket {
                op: "complete",
                window: did,
            });
        }
        Ok(did)
    }

    /// `abort` of outstanding ticket `which` (wraps); returns whether it
    /// succeeded.
    pub fn abort(&mut self, which: usize) -> Result<bool, Divergence<V>> {
        let Some((ticket, m)) = self.take(which) else {
            return Ok(false);
        };
        let must = self.model.abort(m, self.now);
        let did = self.window.abort(ticket, self.now).is_ok();
        if did != must {
            return Err(Divergence::Ticket {
                op: "abort",
                window: did,
            });
        }
        Ok(did)
    }

    fn take(&mut self, which: usize) -> Option<(Ticket, u64)> {
        let i = which.checked_rem(self.tickets.len())?;
        Some(self.tickets.swap_remove(i))
    }
}
