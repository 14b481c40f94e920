//! The reference model: what a window may answer, without capacity limits.
//!
//! Property tests and fuzzers run the same operations on a window and on this
//! model. The model keeps every record until it expires, so where the window
//! has evicted a record under pressure the model accepts `Stale` (or `Full` for
//! a new key) instead of the exact answer, and nothing else: never a second
//! `Fresh` for a live key, never another scope's result.
#![cfg(any(test, feature = "testing"))]

use super::{Begin, Fingerprint, Request, WindowConfig};

/// Longest scope or key the model holds.
const MAX_BYTES: usize = 32;
/// Records the model holds; keep generated key spaces below this.
const MAX_RECORDS: usize = 128;

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
    until: u64,
    keep_until: Option<u64>,
    state: State<V>,
}

/// The answers the model permits for one `begin`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Allowed<V> {
    /// No live record: `Fresh`, `Full` or `Stale`.
    Absent,
    /// The stamp is beyond the allowed skew: `Stale` only.
    Stale,
    /// Running with the same fingerprint: `InFlight` only.
    InFlight,
    /// Lease ran out with no result: `Abandoned`, or `Stale` if evicted.
    Abandoned,
    /// Live with another fingerprint: `Mismatch`, or `Stale` if evicted once settled.
    Mismatch {
        /// Whether the record is completed or abandoned (and so may have been evicted).
        done: bool,
    },
    /// Completed: `Replay` of exactly this value, or `Stale` if evicted.
    Replay(V),
}

impl<V: PartialEq> Allowed<V> {
    /// Whether the window's `outcome` is one the model permits.
    pub fn permits<T>(&self, outcome: &Begin<V, T>) -> bool {
        match (self, outcome) {
            (Allowed::Absent, Begin::Fresh(_) | Begin::Full | Begin::Stale) => true,
            (Allowed::Stale, Begin::Stale) => true,
            (Allowed::InFlight, Begin::InFlight) => true,
            (Allowed::Abandoned, Begin::Abandoned | Begin::Stale) => true,
            (Allowed::Mismatch { .. }, Begin::Mismatch) => true,
            (Allowed::Mismatch { done: true }, Begin::Stale) => true,
            (Allowed::Replay(v), Begin::Replay(w)) => v == w,
            (Allowed::Replay(_), Begin::Stale) => true,
            _ => false,
        }
    }
}

/// Why the model refused an operation (for test failure messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelError {
    /// The model's record table or a scope/key buffer is full: shrink the test.
    Capacity,
}

/// The reference model of a window with unbounded capacity.
#[derive(Debug)]
pub struct Model<V> {
    config: WindowConfig,
    records: heapless::Vec<Record<V>, MAX_RECORDS>,
    next_ticket: u64,
}

impl<V: Clone + PartialEq> Model<V> {
    /// An empty model with the window's configuration.
    pub fn new(config: WindowConfig) -> Self {
        Model {
            config,
            records: heapless::Vec::new(),
            next_ticket: 0,
        }
    }

    fn position(&self, req: &Request<'_>, now: u64) -> Option<usize> {
        self.records.iter().position(|r| {
            r.until > now && r.scope.as_slice() == req.scope && r.key.as_slice() == req.key
        })
    }

    /// What the window may answer to `req` at `now`.
    pub fn begin(&self, req: &Request<'_>, now: u64) -> Allowed<V> {
        if req.stamp > now.saturating_add(self.config.max_skew) {
            return Allowed::Stale;
        }
        let Some(r) = self.position(req, now).and_then(|i| self.records.get(i)) else {
            return Allowed::Absent;
        };
        let running = matches!(r.state, State::InFlight { lease_until, .. } if lease_until > now);
        if r.fingerprint != req.fingerprint {
            return Allowed::Mismatch { done: !running };
        }
        match &r.state {
            State::InFlight { .. } if running => Allowed::InFlight,
            State::InFlight { .. } => Allowed::Abandoned,
            State::Done(v) => Allowed::Replay(v.clone()),
        }
    }

    /// Records that the window answered `Fresh`; returns the model's ticket.
    pub fn fresh(&mut self, req: &Request<'_>, now: u64) -> Result<u64, ModelError> {
        self.records.retain(|r| r.until > now);
        let ticket = self.next_ticket;
        self.next_ticket = ticket.saturating_add(1);
        let lease_until = now.saturating_add(self.config.lease);
        let record = Record {
            scope: heapless::Vec::from_slice(req.scope).map_err(|_| ModelError::Capacity)?,
            key: heapless::Vec::from_slice(req.key).map_err(|_| ModelError::Capacity)?,
            fingerprint: req.fingerprint,
            // If abandoned, the record lives as long as a completed one would.
            until: end(req.keep_until, lease_until, self.config.ttl),
            keep_until: req.keep_until,
            state: State::InFlight {
                ticket,
                lease_until,
            },
        };
        self.records
            .push(record)
            .map_err(|_| ModelError::Capacity)?;
        Ok(ticket)
    }

    fn owned(&mut self, ticket: u64, now: u64) -> Option<&mut Record<V>> {
        self.records.iter_mut().find(|r| {
            matches!(r.state, State::InFlight { ticket: t, lease_until } if t == ticket && lease_until > now)
        })
    }

    /// Whether `complete` must succeed; applies it if so.
    pub fn complete(&mut self, ticket: u64, value: V, now: u64) -> bool {
        let ttl = self.config.ttl;
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
