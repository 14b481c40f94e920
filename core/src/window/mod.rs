//! A fixed-capacity idempotency and replay window with an at-most-once guarantee.
//!
//! One state machine serves idempotency keys (a retry gets the stored result) and
//! one-time tokens (a `jti` seen once is refused until the token expires).
//!
//! # The guarantee
//!
//! For a given window, a `(scope, key)` is handed out as [`Begin::Fresh`] at most
//! once while its record is **live**: while in flight (until `complete` or
//! `abort`), after completion until its TTL (counted from completion) or
//! `keep_until` passes, and after an abandoned lease for as long as a
//! completed record would have lived (see below). Preconditions:
//!
//! - **every retry carries the same `stamp`** as the first attempt (a token's
//!   `iat`, or a request time the client chose once);
//! - the window's secret is random and private, and records are not shared
//!   between windows (a ticket only works on the window that issued it:
//!   [`TicketError::NotOwner`] elsewhere, even with the same secret).
//!
//! No precondition on how long the handler runs: a lease that runs out is an
//! unknown outcome, never a release.
//!
//! **Under pressure.** When both of a key's buckets are full, expired records
//! are reused first; a live, settled (completed or abandoned) record is evicted
//! only if it is the oldest of the two buckets and older than the new request,
//! and its bucket then keeps a **floor**: every request that maps to that bucket
//! with a `stamp` not newer than the evicted record's is answered
//! [`Begin::Stale`] until the evicted record would have ended (the IPsec
//! anti-replay idea of RFC 4303 and RFC 6479, applied to random keys, with an
//! end). Two floors in force in a bucket merge (the higher stamp, the later
//! end), so a floor lasts at most as long as the longest-lived record it
//! covers; afterwards the bucket refuses nothing. In-flight records are never
//! evicted; when nothing can be evicted safely the answer is [`Begin::Full`].
//! So a retry with the same `stamp` is answered from its record, or refused,
//! and never run twice. A retry that carries a **newer** stamp than its evicted
//! record is not covered: it may be `Fresh` again (it is a new request as far
//! as the window can tell).
//!
//! **After a restart** every record is gone. [`Window::set_restart_floor`]
//! makes a window refuse (`Stale`) every key without a record whose stamp is
//! not newer than the floor (the restart time, or a persisted high-water mark
//! of stamps), so nothing that ran before the restart runs again after it.
//!
//! [`WindowConfig::new`] refuses a zero lease (a concurrent duplicate would
//! find the claim already abandoned) and a zero TTL (nothing would replay).
//!
//! # A lease that runs out is an unknown outcome, never a release
//!
//! A claim ends in one of three ways: `complete` (the result is replayed),
//! `abort` (the caller knows the work did not happen, so a retry runs), or the
//! lease running out with neither. The last means the owner crashed or hung
//! after it may have acted, so the window cannot know whether the work
//! happened: it answers [`Begin::Abandoned`] until the record's TTL (counted
//! from the lease's end, or `keep_until`) passes, and never hands the key out
//! as `Fresh` again in that time. A late `complete` or `abort` is refused with
//! [`TicketError::LeaseExpired`]. So no precondition on how long the handler
//! runs is needed for at most once; the lease only bounds how long retries see
//! [`Begin::InFlight`] before they learn the outcome is unknown.
//!
//! # Layout and cost
//!
//! Records live in buckets of [`WAYS`] slots; each `(scope, key)` may use one
//! of two buckets, both chosen by a keyed 128-bit SipHash-1-3 digest of it (the
//! keyed PRF Rust's `HashMap` relies on against hash flooding, with 128-bit
//! output here). The per-window secret keeps attacker-chosen keys from aiming at
//! one bucket or colliding: a collision among `n` records has probability about
//! `n²/2¹²⁹`. Two choices keep the buckets evenly loaded, so a window holds well
//! over 90% of `N` live records before any bucket runs out of room. Every
//! operation reads two buckets, so it costs the same at any capacity and never
//! allocates.

mod model;
mod one_time;

use siphasher::sip128::{Hasher128, SipHasher13};

#[cfg(any(test, feature = "testing"))]
pub use model::{Allowed, Checked, Divergence, Model, ModelError};
pub use one_time::one_time_request;

/// Slots per bucket.
pub const WAYS: usize = 8;

/// A digest of the request (method, target, body digest…) that the caller builds;
/// a reused key with another fingerprint is a [`Begin::Mismatch`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Fingerprint(pub [u8; 16]);

impl Fingerprint {
    /// SHA-256 over the length-prefixed parts, truncated to 128 bits.
    pub fn of(parts: &[&[u8]]) -> Self {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in parts {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        let digest = h.finalize();
        let mut out = [0u8; 16];
        for (o, d) in out.iter_mut().zip(digest.iter()) {
            *o = *d;
        }
        Fingerprint(out)
    }
}

/// One request to the window.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The authenticated principal (a token's `sub`, a device id).
    pub scope: &'a [u8],
    /// The idempotency key or `jti`.
    pub key: &'a [u8],
    /// What the request does; see [`Fingerprint`].
    pub fingerprint: Fingerprint,
    /// When the request was made, identical on every retry (see the module docs).
    pub stamp: u64,
    /// Keep the completed record until this time instead of `now + ttl`.
    pub keep_until: Option<u64>,
}

/// Lease, TTL and clock-skew bounds, all in the unit the caller uses for `now`.
///
/// Made only by [`WindowConfig::new`], which refuses a zero lease (a
/// concurrent duplicate would find the claim already abandoned) and a zero TTL
/// (nothing would ever be replayed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WindowConfig {
    lease: u64,
    ttl: u64,
    max_skew: u64,
}

/// Why [`WindowConfig::new`] refused its bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WindowConfigError {
    /// `lease` is 0.
    ZeroLease,
    /// `ttl` is 0.
    ZeroTtl,
}

impl core::fmt::Display for WindowConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            WindowConfigError::ZeroLease => "the window lease must be at least 1",
            WindowConfigError::ZeroTtl => "the window TTL must be at least 1",
        })
    }
}

impl core::error::Error for WindowConfigError {}

impl WindowConfig {
    /// `lease`: how long an in-flight record blocks retries before it counts
    /// as abandoned (≥ 1). `ttl`: how long a completed record is replayed
    /// (≥ 1). `max_skew`: how far in the future a `stamp` may be; later stamps
    /// are [`Begin::Stale`] (any value). `const`, so a `static` window can
    /// check its configuration at compile time.
    pub const fn new(lease: u64, ttl: u64, max_skew: u64) -> Result<Self, WindowConfigError> {
        if lease == 0 {
            return Err(WindowConfigError::ZeroLease);
        }
        if ttl == 0 {
            return Err(WindowConfigError::ZeroTtl);
        }
        Ok(WindowConfig {
            lease,
            ttl,
            max_skew,
        })
    }

    /// How long an in-flight record blocks retries.
    pub const fn lease(&self) -> u64 {
        self.lease
    }

    /// How long a completed record is replayed.
    pub const fn ttl(&self) -> u64 {
        self.ttl
    }

    /// How far in the future a `stamp` may be.
    pub const fn max_skew(&self) -> u64 {
        self.max_skew
    }
}

/// The answer to [`Window::begin`].
#[derive(Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use]
pub enum Begin<V, T = Ticket> {
    /// Go ahead; finish with `complete` or `abort`.
    Fresh(T),
    /// Completed before with the same fingerprint: here is the stored result.
    Replay(V),
    /// The same key is running now (HTTP 409).
    InFlight,
    /// The owner's lease ran out with no result: the work may or may not have
    /// happened, and the key is not run again while the record lives (HTTP 502
    /// in the gateway: outcome unknown).
    Abandoned,
    /// The same key was used for another request (HTTP 422).
    Mismatch,
    /// No room and nothing may be evicted safely (HTTP 503).
    Full,
    /// The scope already holds as many live records as its quota allows
    /// (HTTP 429). Only stores with a per-scope quota answer it (the server
    /// stores of `tessera-std`); [`Window`] has none.
    Quota,
    /// Older than the window can vouch for, or too far in the future: refuse.
    Stale,
}

impl<V, T> Begin<V, T> {
    /// The outcome's name, for logs and problem documents.
    pub const fn name(&self) -> &'static str {
        match self {
            Begin::Fresh(_) => "fresh",
            Begin::Replay(_) => "replay",
            Begin::InFlight => "in_flight",
            Begin::Abandoned => "abandoned",
            Begin::Mismatch => "mismatch",
            Begin::Full => "full",
            Begin::Quota => "quota",
            Begin::Stale => "stale",
        }
    }
}

/// Proof of ownership of an in-flight record. Not `Clone`: it is spent by
/// `complete` or `abort`.
#[derive(Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use]
pub struct Ticket {
    /// The issuing window's identity, so another window (even one with the
    /// same secret) refuses it.
    window: u32,
    slot: u32,
    lease: u64,
    id: EntryId,
}

/// Why `complete` or `abort` was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TicketError {
    /// The lease ran out; the record now answers [`Begin::Abandoned`].
    LeaseExpired,
    /// The record is no longer this ticket's (taken over, or from another window).
    NotOwner,
}

impl core::fmt::Display for TicketError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            TicketError::LeaseExpired => "the lease expired before completion",
            TicketError::NotOwner => "the record belongs to another request",
        })
    }
}

impl core::error::Error for TicketError {}

/// The store contract every backend implements: the in-memory window here, and
/// (as an async variant) the server stores in `tessera-std`.
pub trait Store<V> {
    /// Ownership proof returned by `Fresh`.
    type Ticket;
    /// Claims `(scope, key)` or reports why not.
    fn begin(&mut self, req: &Request<'_>, now: u64) -> Begin<V, Self::Ticket>;
    /// Stores the result of the owner's run.
    fn complete(&mut self, ticket: Self::Ticket, value: V, now: u64) -> Result<(), TicketError>;
    /// Releases the key so a retry runs again.
    fn abort(&mut self, ticket: Self::Ticket, now: u64) -> Result<(), TicketError>;
}

/// Keyed 128-bit digest of `(scope, key)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct EntryId(u64, u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Empty,
    InFlight,
    Done,
}

/// The part of a record every lookup reads, kept apart so that scanning a
/// bucket touches two cache lines, not the whole records.
#[derive(Clone, Copy, Debug)]
struct Hot {
    /// The second half of the entry id (the first half is in the record).
    tag: u64,
    /// Record end: for an in-flight record, when it ends if abandoned; 0 when
    /// empty.
    until: u64,
}

impl Hot {
    const EMPTY: Self = Hot { tag: 0, until: 0 };

    fn live(&self, now: u64) -> bool {
        self.until > now
    }
}

/// The rest of a record, read only on a tag match or when evicting.
#[derive(Clone, Debug)]
struct Slot<V> {
    /// The first half of the entry id.
    id: u64,
    state: State,
    fingerprint: Fingerprint,
    stamp: u64,
    /// `Request::keep_until`, 0 for none (a record kept until 1970 is no record).
    keep_until: u64,
    /// While in flight: when the lease ends.
    lease_until: u64,
    lease: u64,
    value: Option<V>,
}

impl<V> Slot<V> {
    /// Completed, or abandoned by its owner: the key will not run again while
    /// the record lives, so evicting it needs a floor.
    fn settled(&self, now: u64) -> bool {
        match self.state {
            State::Done => true,
            State::InFlight => self.lease_until <= now,
            State::Empty => false,
        }
    }
}

impl<V> Slot<V> {
    const EMPTY: Self = Slot {
        id: 0,
        state: State::Empty,
        fingerprint: Fingerprint([0; 16]),
        stamp: 0,
        keep_until: 0,
        lease_until: 0,
        lease: 0,
        value: None,
    };
}

/// Refuses stamps below `below` until `until`: what an evicted record leaves
/// behind in its bucket. It needs to last only as long as the record would
/// have lived, since after that a retry would be `Fresh` anyway.
#[derive(Clone, Copy, Debug)]
struct Floor {
    below: u64,
    until: u64,
}

impl Floor {
    const NONE: Self = Floor { below: 0, until: 0 };

    fn refuses(&self, stamp: u64, now: u64) -> bool {
        self.until > now && stamp < self.below
    }

    /// Covers a record with `stamp` that would have lived until `until`. A
    /// floor still in force is merged (the higher stamp, the later end), so
    /// it never stops refusing anything it refused before its end.
    fn raise(&mut self, stamp: u64, until: u64, now: u64) {
        let below = stamp.saturating_add(1);
        if self.until > now {
            self.below = self.below.max(below);
            self.until = self.until.max(until);
        } else {
            *self = Floor { below, until };
        }
    }
}

/// Numbers the windows of this program, so a ticket names the one that issued
/// it. Assigned on a window's first claim, so `Window::new` stays `const`.
static WINDOWS: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(1);

fn next_window_id() -> u32 {
    use core::sync::atomic::Ordering::Relaxed;
    #[cfg(target_has_atomic = "32")]
    let id = WINDOWS.fetch_add(1, Relaxed);
    // Without compare-and-swap (ARMv6-M), windows are claimed behind a
    // critical section, so a plain read and write does not race with itself.
    #[cfg(not(target_has_atomic = "32"))]
    let id = {
        let id = WINDOWS.load(Relaxed);
        WINDOWS.store(id.wrapping_add(1), Relaxed);
        id
    };
    id.max(1)
}

/// A window of `N` records holding results of type `V`.
///
/// `const`-constructible, so it can live in a `static` behind a critical-section
/// mutex on firmware; [`Window::UNSTARTED`] plus [`Window::start`] keeps that
/// `static` in `.bss` with the secret read at run time. See the [module
/// docs](self) for the guarantee.
pub struct Window<V, const N: usize> {
    secret: [u8; 16],
    config: WindowConfig,
    /// This window's identity in its tickets; 0 until the first claim.
    window: u32,
    next_lease: u64,
    /// Stamps below this are refused for keys without a record: set after a
    /// restart, so nothing that ran before it runs again.
    restart_below: u64,
    hot: [Hot; N],
    /// Per bucket, kept at the bucket's first slot (the others stay unused).
    floors: [Floor; N],
    slots: [Slot<V>; N],
}

impl<V: Clone, const N: usize> Window<V, N> {
    /// A window with no secret and no configuration yet: all zero bytes, so a
    /// `static` of it sits in `.bss` (no flash image, nothing copied at
    /// boot). It answers [`Begin::Full`] until [`Window::start`].
    pub const UNSTARTED: Self = Window {
        secret: [0; 16],
        config: WindowConfig {
            lease: 0,
            ttl: 0,
            max_skew: 0,
        },
        window: 0,
        next_lease: 0,
        restart_below: 0,
        hot: [Hot::EMPTY; N],
        floors: [Floor::NONE; N],
        slots: [const { Slot::EMPTY }; N],
    };

    /// An empty window. `secret` must be random and private: it keeps
    /// attacker-chosen keys from colliding or crowding one bucket.
    pub const fn new(secret: [u8; 16], config: WindowConfig) -> Self {
        Window {
            secret,
            config,
            ..Self::UNSTARTED
        }
    }

    /// Starts a window (typically a `static` [`Window::UNSTARTED`]) with its
    /// secret, read at run time, and configuration. Forgets every record and
    /// floor, in place (no window-sized temporary on the stack).
    pub fn start(&mut self, secret: [u8; 16], config: WindowConfig) {
        self.secret = secret;
        self.config = config;
        self.hot.fill(Hot::EMPTY);
        self.floors.fill(Floor::NONE);
        for slot in &mut self.slots {
            *slot = Slot::EMPTY;
        }
    }

    /// Refuses, as [`Begin::Stale`], every key without a record whose `stamp`
    /// is not newer than `floor`: call it when a window starts after a restart
    /// (with the restart time, or a persisted high-water mark of stamps), so a
    /// retry of anything that ran before the restart is refused rather than
    /// run again. Only raises the floor; it never expires.
    pub fn set_restart_floor(&mut self, floor: u64) {
        self.restart_below = self.restart_below.max(floor.saturating_add(1));
    }

    /// The configuration.
    pub const fn config(&self) -> &WindowConfig {
        &self.config
    }

    /// Records currently live (in flight or completed and unexpired). O(N): for
    /// metrics and tests, not the hot path.
    pub fn live(&self, now: u64) -> usize {
        self.hot.iter().filter(|h| h.live(now)).count()
    }

    fn id(&self, scope: &[u8], key: &[u8]) -> EntryId {
        use core::hash::Hasher;
        let mut h = SipHasher13::new_with_key(&self.secret);
        let prefix = (scope.len() as u64).to_le_bytes();
        // One `write` of a contiguous copy is much cheaper than three small
        // ones (the hasher buffers partial words); long inputs take three.
        let mut joined = [0u8; 128];
        let total = prefix
            .len()
            .saturating_add(scope.len())
            .saturating_add(key.len());
        match joined.get_mut(..total) {
            Some(dst) => {
                let (p, rest) = dst.split_at_mut(prefix.len());
                let (s, k) = rest.split_at_mut(scope.len());
                p.copy_from_slice(&prefix);
                s.copy_from_slice(scope);
                k.copy_from_slice(key);
                h.write(dst);
            }
            None => {
                h.write(&prefix);
                h.write(scope);
                h.write(key);
            }
        }
        let d = h.finish128();
        EntryId(d.h1, d.h2)
    }

    /// The two candidate buckets of `id` (the same one twice when there is only
    /// one). Two choices keep buckets evenly loaded, so a window fills to well
    /// over 90% before any bucket runs out of room. Buckets hold `WAYS` slots,
    /// the last one also the remainder, so every bucket holds at least
    /// `min(N, WAYS)`.
    fn buckets(id: EntryId) -> [core::ops::Range<usize>; 2] {
        let count = (N / WAYS).max(1) as u64;
        let range = |h: u64| {
            let bucket = h.checked_rem(count).unwrap_or(0);
            let start = (bucket as usize).saturating_mul(WAYS);
            let last = bucket.saturating_add(1) == count;
            start..if last { N } else { start.saturating_add(WAYS) }
        };
        [range(id.0), range(id.0.rotate_left(32) ^ id.1)]
    }

    /// Where the record of `id` is (live or not), with the free slots per
    /// candidate bucket (count, first), or the answer for a live record.
    fn find(&self, id: EntryId, buckets: [&core::ops::Range<usize>; 2], now: u64) -> Found {
        let mut own = None;
        let mut free = [(0usize, None::<usize>); 2];
        for (range, free) in buckets.into_iter().zip(free.iter_mut()) {
            let hot = self.hot.get(range.clone()).unwrap_or_default();
            for (i, h) in (range.start..).zip(hot) {
                if h.tag == id.1 && self.slots.get(i).is_some_and(|s| s.id == id.0) {
                    if h.live(now) {
                        return Found::Live(i);
                    }
                    own = Some(i);
                } else if !h.live(now) {
                    free.0 = free.0.saturating_add(1);
                    free.1.get_or_insert(i);
                }
            }
        }
        Found::Absent { own, free }
    }

    /// Whether a live record of `(scope, key)` is held: lets the model tell
    /// which records an eviction removed.
    #[cfg(any(test, feature = "testing"))]
    pub fn holds(&self, scope: &[u8], key: &[u8], now: u64) -> bool {
        let id = self.id(scope, key);
        let [first, second] = Self::buckets(id);
        matches!(self.find(id, [&first, &second], now), Found::Live(_))
    }

    /// When a [`Begin::Full`] answer for `(scope, key)` may change: the
    /// earliest end among the live records of its two buckets (`None` when
    /// one of them has room). For a `Retry-After`, not a promise: the record
    /// that ends first may be replaced by another claim.
    pub fn retry_at(&self, scope: &[u8], key: &[u8], now: u64) -> Option<u64> {
        let [first, second] = Self::buckets(self.id(scope, key));
        let mut earliest = None::<u64>;
        for range in [first, second] {
            for h in self.hot.get(range).unwrap_or_default() {
                if !h.live(now) {
                    return None;
                }
                earliest = Some(earliest.map_or(h.until, |e| e.min(h.until)));
            }
        }
        earliest
    }

    /// Claims `(scope, key)`; see [`Begin`] for the answers.
    pub fn begin(&mut self, req: &Request<'_>, now: u64) -> Begin<V> {
        // Not started: no secret to hash with (a valid config has a lease).
        if self.config.lease == 0 {
            return Begin::Full;
        }
        if req.stamp > now.saturating_add(self.config.max_skew) {
            return Begin::Stale;
        }
        let id = self.id(req.scope, req.key);
        let [first, second] = Self::buckets(id);
        let second = if second == first { 0..0 } else { second };
        let buckets = [&first, &second];
        let (own, free) = match self.find(id, buckets, now) {
            Found::Live(i) => return self.answer(i, req, now),
            Found::Absent { own, free } => (own, free),
        };
        let floored = buckets
            .iter()
            .filter(|r| !r.is_empty())
            .filter_map(|r| self.floors.get(r.start))
            .any(|f| f.refuses(req.stamp, now));
        if floored || req.stamp < self.restart_below {
            return Begin::Stale;
        }
        let [(free0, at0), (free1, at1)] = free;
        let at = match own.or(if free1 > free0 { at1 } else { at0.or(at1) }) {
            Some(i) => i,
            None => match self.evict(buckets, req.stamp, now) {
                Some(i) => i,
                None => return Begin::Full,
            },
        };
        if self.window == 0 {
            self.window = next_window_id();
        }
        let lease = self.next_lease;
        self.next_lease = lease.wrapping_add(1);
        let lease_until = now.saturating_add(self.config.lease);
        let keep_until = req.keep_until.unwrap_or(0);
        let (Some(h), Some(slot)) = (self.hot.get_mut(at), self.slots.get_mut(at)) else {
            return Begin::Full;
        };
        *h = Hot {
            tag: id.1,
            until: record_end(keep_until, lease_until, self.config.ttl),
        };
        *slot = Slot {
            id: id.0,
            state: State::InFlight,
            fingerprint: req.fingerprint,
            stamp: req.stamp,
            keep_until,
            lease_until,
            lease,
            value: None,
        };
        Begin::Fresh(Ticket {
            window: self.window,
            slot: at as u32,
            lease,
            id,
        })
    }

    /// The answer from the live record in slot `i`.
    fn answer(&self, i: usize, req: &Request<'_>, now: u64) -> Begin<V> {
        let Some(slot) = self.slots.get(i) else {
            return Begin::Full;
        };
        if slot.fingerprint != req.fingerprint {
            return Begin::Mismatch;
        }
        match (slot.state, &slot.value) {
            (State::Done, Some(v)) => Begin::Replay(v.clone()),
            _ if slot.lease_until <= now => Begin::Abandoned,
            _ => Begin::InFlight,
        }
    }

    /// Both buckets are full of live records: frees the slot of the settled
    /// record with the oldest stamp, if that stamp is older than `stamp` (so the
    /// request stays admissible), and raises its bucket's floor over it.
    fn evict(
        &mut self,
        buckets: [&core::ops::Range<usize>; 2],
        stamp: u64,
        now: u64,
    ) -> Option<usize> {
        let (bucket, i, victim) = buckets
            .iter()
            .filter_map(|r| self.slots.get((*r).clone()).map(|s| (r.start, s)))
            .flat_map(|(start, slots)| (start..).zip(slots).map(move |(i, s)| (start, i, s)))
            .filter(|(_, _, s)| s.settled(now))
            .min_by_key(|(_, _, s)| s.stamp)
            .map(|(b, i, s)| (b, i, s.stamp))?;
        if victim >= stamp {
            return None;
        }
        let until = self.hot.get(i)?.until;
        self.floors.get_mut(bucket)?.raise(victim, until, now);
        Some(i)
    }

    /// The owned, still-leased record of `ticket`.
    fn owned(
        &mut self,
        ticket: &Ticket,
        now: u64,
    ) -> Result<(&mut Hot, &mut Slot<V>), TicketError> {
        let i = ticket.slot as usize;
        let (Some(h), Some(slot)) = (self.hot.get_mut(i), self.slots.get_mut(i)) else {
            return Err(TicketError::NotOwner);
        };
        if ticket.window != self.window
            || slot.state != State::InFlight
            || slot.id != ticket.id.0
            || h.tag != ticket.id.1
            || slot.lease != ticket.lease
        {
            return Err(TicketError::NotOwner);
        }
        if slot.lease_until <= now {
            return Err(TicketError::LeaseExpired);
        }
        Ok((h, slot))
    }

    /// Stores the result; retries with the same fingerprint get it as `Replay`
    /// until `keep_until`, or `now + ttl`.
    pub fn complete(&mut self, ticket: Ticket, value: V, now: u64) -> Result<(), TicketError> {
        let ttl = self.config.ttl;
        let (h, slot) = self.owned(&ticket, now)?;
        h.until = record_end(slot.keep_until, now, ttl);
        slot.state = State::Done;
        slot.value = Some(value);
        Ok(())
    }

    /// Releases the key so that a retry runs again.
    pub fn abort(&mut self, ticket: Ticket, now: u64) -> Result<(), TicketError> {
        let (h, slot) = self.owned(&ticket, now)?;
        *h = Hot::EMPTY;
        slot.state = State::Empty;
        slot.value = None;
        Ok(())
    }
}

/// What [`Window::find`] saw.
enum Found {
    /// A live record in this slot.
    Live(usize),
    /// No live record: the slot of an expired one, and per bucket the free
    /// slots (count, first).
    Absent {
        own: Option<usize>,
        free: [(usize, Option<usize>); 2],
    },
}

/// When a record settled at `settled` ends: `keep_until` if set (but never
/// before it settled), else `settled + ttl`.
fn record_end(keep_until: u64, settled: u64, ttl: u64) -> u64 {
    match keep_until {
        0 => settled.saturating_add(ttl),
        keep => keep.max(settled),
    }
}

impl<V: Clone, const N: usize> Store<V> for Window<V, N> {
    type Ticket = Ticket;

    fn begin(&mut self, req: &Request<'_>, now: u64) -> Begin<V> {
        Window::begin(self, req, now)
    }

    fn complete(&mut self, ticket: Ticket, value: V, now: u64) -> Result<(), TicketError> {
        Window::complete(self, ticket, value, now)
    }

    fn abort(&mut self, ticket: Ticket, now: u64) -> Result<(), TicketError> {
        Window::abort(self, ticket, now)
    }
}

/// A short stored answer of at most `R` bytes, for firmware that replays its reply.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Reply<const R: usize> {
    /// Status code.
    pub status: u16,
    /// Body bytes.
    pub body: heapless::Vec<u8, R>,
}

/// A window whose results are a status and up to `R` bytes.
pub type ReplyWindow<const N: usize, const R: usize> = Window<Reply<R>, N>;
