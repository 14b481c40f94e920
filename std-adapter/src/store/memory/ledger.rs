//! The in-memory store's ledger: every claim it handed out, until that
//! record ends. It holds the stored responses (the window holds only a claim
//! id), counts each scope's live records for the quota, and charges each
//! record's bytes against the store's budget.
//!
//! A record stays in the ledger until the end it would have in the window,
//! plus [`GRACE_MS`]: a record the window evicted under pressure is still
//! counted (and its response held) until then, so the quota and the budget
//! never under-count; an aborted claim leaves at once.

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashMap},
    num::NonZeroU32,
    sync::Arc,
};

use super::super::StoredResponse;

/// How long after its end a record is kept: requests of other shards may
/// read a clock a little behind this one's, and must still find the
/// response of a record their window still calls live.
pub(super) const GRACE_MS: u64 = 1000;

/// Bytes charged for a record beyond its response: its window slot share,
/// its ledger entry and queue items, the response's allocations.
pub const RECORD_BYTES: usize = 512;

/// Bytes charged per stored header beyond its name and value (two
/// allocations and their bookkeeping).
pub const HEADER_BYTES: usize = 96;

/// Headers a claim reserves room for before its response is known (hyper
/// reads at most 100 response headers by default).
const RESERVED_HEADERS: usize = 128;

/// A claim id: the value a window slot holds.
pub(super) type ClaimId = u64;

/// Why the ledger refused a new claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The scope holds its quota of live records.
    Quota,
    /// No room under the record capacity or the byte budget.
    Full,
}

struct Entry {
    scope: Arc<[u8]>,
    /// When the record ends (the window's `until`).
    end: u64,
    /// `Request::keep_until`, 0 for none.
    keep_until: u64,
    /// Bytes charged against the budget.
    charge: usize,
    response: Option<Arc<StoredResponse>>,
}

/// A scope's live records and when they end (items may be outdated: see
/// [`Ledger::current`]).
struct Scope {
    held: u32,
    ends: BinaryHeap<Reverse<(u64, ClaimId)>>,
}

pub(super) struct Ledger {
    records: HashMap<ClaimId, Entry>,
    scopes: HashMap<Arc<[u8]>, Scope>,
    /// Every record's end; outdated items (a record completed, aborted or
    /// expired since) are skipped when they surface.
    ends: BinaryHeap<Reverse<(u64, ClaimId)>>,
    next_id: ClaimId,
    bytes: usize,
    capacity: usize,
    budget: usize,
    /// Bytes one claim reserves until its response is known.
    reserve: usize,
    quota: Option<NonZeroU32>,
}

impl Ledger {
    pub(super) fn new(
        capacity: usize,
        budget: usize,
        max_response_bytes: usize,
        quota: Option<NonZeroU32>,
    ) -> Self {
        let reserve = RECORD_BYTES
            .saturating_add(max_response_bytes)
            .saturating_add(RESERVED_HEADERS.saturating_mul(HEADER_BYTES));
        Ledger {
            records: HashMap::new(),
            scopes: HashMap::new(),
            ends: BinaryHeap::new(),
            next_id: 0,
            bytes: 0,
            capacity,
            budget,
            reserve,
            quota,
        }
    }

    /// Bytes charged by the records held now.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Records a new claim of `scope` that ends at `end` unless settled, or
    /// says why not.
    pub(super) fn claim(
        &mut self,
        scope: &[u8],
        end: u64,
        keep_until: u64,
        now: u64,
    ) -> Result<ClaimId, Refusal> {
        self.expire(now);
        if self.over_quota(scope) {
            return Err(Refusal::Quota);
        }
        if self.full() {
            return Err(Refusal::Full);
        }
        let id = self.next_id;
        self.next_id = id.wrapping_add(1);
        let scope = match self.scopes.get_key_value(scope) {
            Some((s, _)) => Arc::clone(s),
            None => Arc::from(scope),
        };
        let held = self.scopes.entry(Arc::clone(&scope)).or_insert(Scope {
            held: 0,
            ends: BinaryHeap::new(),
        });
        held.held = held.held.saturating_add(1);
        held.ends.push(Reverse((end, id)));
        self.ends.push(Reverse((end, id)));
        self.bytes = self.bytes.saturating_add(self.reserve);
        let charge = self.reserve;
        self.records.insert(
            id,
            Entry {
                scope: Arc::clone(&scope),
                end,
                keep_until,
                charge,
                response: None,
            },
        );
        self.compact(&scope);
        Ok(id)
    }

    /// `keep_until` of a claim (0 for none), to compute its end once settled.
    pub(super) fn keep_until(&self, id: ClaimId) -> u64 {
        self.records.get(&id).map_or(0, |e| e.keep_until)
    }

    /// Stores the response of claim `id`, which now ends at `end`.
    pub(super) fn settle(&mut self, id: ClaimId, response: Arc<StoredResponse>, end: u64) {
        let Some(entry) = self.records.get_mut(&id) else {
            return;
        };
        let charge = charge(&response);
        self.bytes = self
            .bytes
            .saturating_sub(entry.charge)
            .saturating_add(charge);
        entry.charge = charge;
        entry.end = end;
        entry.response = Some(response);
        let scope = Arc::clone(&entry.scope);
        if let Some(held) = self.scopes.get_mut(&scope) {
            held.ends.push(Reverse((end, id)));
        }
        self.ends.push(Reverse((end, id)));
        self.compact(&scope);
    }

    /// Forgets claim `id` (aborted: the key runs again).
    pub(super) fn release(&mut self, id: ClaimId) {
        if let Some(scope) = self.remove(id) {
            self.compact(&scope);
        }
    }

    /// The stored response of claim `id`.
    pub(super) fn response(&self, id: ClaimId) -> Option<Arc<StoredResponse>> {
        self.records.get(&id)?.response.clone()
    }

    /// After a refusal: when the scope's earliest record ends (over its
    /// quota), or the store's earliest (full), whichever is later. `None`
    /// when the ledger refuses nothing now.
    pub(super) fn retry_at(&mut self, scope: &[u8], now: u64) -> Option<u64> {
        self.expire(now);
        let quota = match self.over_quota(scope) {
            true => self.earliest_of(scope),
            false => None,
        };
        let full = match self.full() {
            true => self.earliest(),
            false => None,
        };
        quota.max(full)
    }

    fn over_quota(&self, scope: &[u8]) -> bool {
        let held = self.scopes.get(scope).map_or(0, |s| s.held);
        self.quota.is_some_and(|q| held >= q.get())
    }

    fn full(&self) -> bool {
        self.records.len() >= self.capacity || self.bytes.saturating_add(self.reserve) > self.budget
    }

    /// When a record of the store leaves the ledger next.
    fn earliest(&mut self) -> Option<u64> {
        let records = &self.records;
        while let Some(Reverse((end, id))) = self.ends.peek().copied() {
            if current(records, end, id) {
                return Some(end.saturating_add(GRACE_MS));
            }
            self.ends.pop();
        }
        None
    }

    /// When a record of `scope` leaves the ledger next.
    fn earliest_of(&mut self, scope: &[u8]) -> Option<u64> {
        let records = &self.records;
        let ends = &mut self.scopes.get_mut(scope)?.ends;
        while let Some(Reverse((end, id))) = ends.peek().copied() {
            if current(records, end, id) {
                return Some(end.saturating_add(GRACE_MS));
            }
            ends.pop();
        }
        None
    }

    /// Drops every record that ended at least [`GRACE_MS`] before `now`.
    fn expire(&mut self, now: u64) {
        while let Some(Reverse((end, id))) = self.ends.peek().copied() {
            if end.saturating_add(GRACE_MS) > now {
                break;
            }
            self.ends.pop();
            if current(&self.records, end, id) {
                let _ = self.remove(id);
            }
        }
    }

    /// Forgets claim `id`; returns its scope.
    fn remove(&mut self, id: ClaimId) -> Option<Arc<[u8]>> {
        let entry = self.records.remove(&id)?;
        self.bytes = self.bytes.saturating_sub(entry.charge);
        if let Some(scope) = self.scopes.get_mut(&entry.scope) {
            scope.held = scope.held.saturating_sub(1);
            if scope.held == 0 {
                self.scopes.remove(&entry.scope);
            }
        }
        Some(entry.scope)
    }

    /// Drops outdated items of the store's queue and of `scope`'s once they
    /// outnumber the records, so the queues stay proportional to the records
    /// held (amortized O(1) per call).
    fn compact(&mut self, scope: &[u8]) {
        let records = &self.records;
        let live = |Reverse((end, id)): &Reverse<(u64, ClaimId)>| current(records, *end, *id);
        if self.ends.len() > records.len().saturating_mul(2).saturating_add(64) {
            self.ends.retain(live);
        }
        if let Some(scope) = self.scopes.get_mut(scope) {
            let held = usize::try_from(scope.held).unwrap_or(usize::MAX);
            if scope.ends.len() > held.saturating_mul(2).saturating_add(8) {
                scope.ends.retain(live);
            }
        }
    }
}

/// Whether the queue item `(end, id)` is the record's current end.
fn current(records: &HashMap<ClaimId, Entry>, end: u64, id: ClaimId) -> bool {
    records.get(&id).is_some_and(|e| e.end == end)
}

/// Bytes a stored response is charged: [`RECORD_BYTES`], its stored size,
/// and [`HEADER_BYTES`] per header.
pub fn charge(response: &StoredResponse) -> usize {
    RECORD_BYTES
        .saturating_add(response.stored_size())
        .saturating_add(response.headers.len().saturating_mul(HEADER_BYTES))
}
