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
//! output here). The per-window secret keeps attacker-chosen keys from aiming
//! at one bucket. Two choices keep the buckets evenly loaded, so a window holds
//! well over 90% of `N` live records before any bucket runs out of room.
//!
//! A slot keeps one tag byte (6 bits of the digest, an occupied and an
//! in-flight bit; a bucket's 8 tags are compared in one 64-bit operation), the
//! record's end and stamp (what freeing and eviction scan), and, read only on a
//! tag match, 64 bits of the digest (`key`), the other 64 folded with 64 bits
//! of the fingerprint (`check`), and the lease end; a bucket's floor is spread
//! over its slots, 2 bytes each. That is 43 bytes a slot plus the stored value
//! (`Option<V>`), whatever `N`.
//!
//! What the 128 bits buy. A replay needs both `key` and `check` to match: for
//! another request to be answered with this record's value, its keyed digest
//! would have to agree in 128 bits (probability `2⁻¹²⁸` per pair, as before
//! the fold, since the fold is a fixed function of the caller's own request).
//! `key` alone (64 bits) decides which record a request is compared with: two
//! different keys agreeing in it (about `n/2⁶⁴` per claim with `n` live
//! records; keyed, so not aimable) make the second answer `Mismatch`, a
//! refusal, never a second `Fresh` or someone else's result. Within one key,
//! two fingerprints that fold to the same 64 bits would share a record;
//! [`Fingerprint::of`] is SHA-256, so that needs about `2³²` work by the
//! owner of the key against their own requests, and fingerprints that differ
//! in one half only never fold together.
//!
//! Every operation reads two buckets, so it costs the same at any capacity
//! and never allocates.

#[cfg(any(test, feature = "testing"))]
pub mod conformance;
mod hash;
mod model;
mod one_time;

pub use hash::{RecordHash, SipHash13};

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
    /// The claim's lease end, unique to the claim within its slot.
    lease: u64,
    id: EntryId,
    /// `Request::keep_until` (0: none), applied when the record completes.
    keep_until: u64,
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

/// What identifies a record: `key`, 64 bits of the keyed digest of `(scope,
/// key)`, finds it; `check`, the other 64 bits folded with the request's
/// fingerprint, tells a retry (`Replay`, `InFlight`…) from another request
/// under the same key (`Mismatch`). Together the 128 bits a replay needs to
/// match are keyed PRF output (see "Layout and cost").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct EntryId {
    key: u64,
    check: u64,
}

impl EntryId {
    /// The slot tag: 6 bits of `key` under the occupied bit.
    fn tag(self) -> u8 {
        OCCUPIED | (self.key >> 58) as u8
    }
}

/// Tag byte bits: a slot whose tag is 0 holds nothing; an occupied slot's tag
/// has `OCCUPIED` and, while its record is in flight, `IN_FLIGHT`.
const OCCUPIED: u8 = 0x80;
const IN_FLIGHT: u8 = 0x40;

/// The part of a record read only on a tag match, when settling, or when
/// judging an in-flight record for eviction.
#[derive(Clone, Copy, Debug)]
struct Cold {
    key: u64,
    check: u64,
    /// When the lease of the slot's latest claim ends; kept after it ends.
    /// It names the claim in its ticket, so each claim of a slot takes a
    /// lease end no earlier than the last one, and later than it while that
    /// claim's ticket may still be held (in flight or abandoned; a completed
    /// or aborted claim spent its ticket). So no ticket ever matches a later
    /// claim, even when the clock steps back.
    lease_until: u64,
}

impl Cold {
    const ZERO: Self = Cold {
        key: 0,
        check: 0,
        lease_until: 0,
    };
}

/// Refuses stamps below `below` until `until`: what an evicted record leaves
/// behind in its bucket. It needs to last only as long as the record would
/// have lived, since after that a retry would be `Fresh` anyway.
#[derive(Clone, Copy, Debug, Default)]
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

    fn to_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        let (below, until) = out.split_at_mut(8);
        below.copy_from_slice(&self.below.to_le_bytes());
        until.copy_from_slice(&self.until.to_le_bytes());
        out
    }

    fn from_bytes(bytes: &[u8]) -> Self {
        let word = |at: usize| {
            bytes
                .get(at..at.saturating_add(8))
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_le_bytes)
        };
        Floor {
            below: word(0),
            until: word(8),
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
pub struct Window<V, const N: usize, H = SipHash13> {
    secret: [u8; 16],
    config: WindowConfig,
    /// This window's identity in its tickets; 0 until the first claim.
    window: u32,
    /// Stamps below this are refused for keys without a record: set after a
    /// restart, so nothing that ran before it runs again.
    restart_below: u64,
    /// Bucket 0's floor (with fewer than `WAYS` records there are not
    /// enough slots to carry it).
    floor0: Floor,
    /// The floors of buckets 1.., 16 bytes each, carried 2 bytes a slot by
    /// the bucket's first `WAYS` slots.
    floor_bytes: [[u8; 2]; N],
    /// One tag byte a slot, compared a bucket (8 bytes) at a time.
    tags: [u8; N],
    /// Record end: for an in-flight record, when it ends if abandoned; 0
    /// when the slot is free.
    until: [u64; N],
    stamp: [u64; N],
    cold: [Cold; N],
    values: [Option<V>; N],
    hash: core::marker::PhantomData<H>,
}

impl<V: Clone, const N: usize, H: RecordHash> Window<V, N, H> {
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
        restart_below: 0,
        floor0: Floor::NONE,
        floor_bytes: [[0; 2]; N],
        tags: [0; N],
        until: [0; N],
        stamp: [0; N],
        cold: [Cold::ZERO; N],
        values: [const { None }; N],
        hash: core::marker::PhantomData,
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
    /// floor, in place (no window-sized temporary on the stack), and takes a
    /// new identity, so tickets from before refuse to settle.
    pub fn start(&mut self, secret: [u8; 16], config: WindowConfig) {
        self.secret = secret;
        self.config = config;
        self.window = 0;
        self.floor0 = Floor::NONE;
        self.floor_bytes.fill([0; 2]);
        self.tags.fill(0);
        self.until.fill(0);
        self.stamp.fill(0);
        self.cold.fill(Cold::ZERO);
        for value in &mut self.values {
            *value = None;
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
        self.until.iter().filter(|&&u| u > now).count()
    }

    fn id(&self, scope: &[u8], key: &[u8], fingerprint: &Fingerprint) -> EntryId {
        let (h1, h2) = H::digest(&self.secret, scope, key);
        let (lo, hi) = fingerprint.0.split_at(8);
        let half = |b: &[u8]| <[u8; 8]>::try_from(b).map_or(0, u64::from_le_bytes);
        EntryId {
            key: h1,
            // Odd multiplier: a bijection of `hi`, so two fingerprints that
            // differ in one half only never fold to the same 64 bits.
            check: h2 ^ half(lo) ^ half(hi).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        }
    }

    /// The two candidate buckets of `id` (an empty second one when there is
    /// only one). Two choices keep buckets evenly loaded, so a window fills
    /// to well over 90% before any bucket runs out of room. Buckets hold
    /// `WAYS` slots, the last one also the remainder, so every bucket holds
    /// at least `min(N, WAYS)`. Both come from `key` alone: a retry with
    /// another fingerprint must look where the record is.
    fn buckets(id: EntryId) -> [Bucket; 2] {
        let count = (N / WAYS).max(1);
        // 32 bits of the digest each, reduced in `usize`: on a 32-bit MCU
        // that is a multiply by the constant's inverse, not a 64-bit division
        // routine.
        let bucket = |h: u32| {
            let index = (h as usize).checked_rem(count).unwrap_or(0);
            let start = index.saturating_mul(WAYS);
            let last = index.saturating_add(1) == count;
            Bucket {
                index,
                slots: start..if last { N } else { start.saturating_add(WAYS) },
            }
        };
        let first = bucket(id.key as u32);
        let mut second = bucket((id.key >> 32) as u32);
        if second.index == first.index {
            second.slots = 0..0;
        }
        [first, second]
    }

    /// The live record of `id`, or the slot of its expired one.
    fn find(&self, id: EntryId, buckets: &[Bucket; 2], now: u64) -> Found {
        let tag = id.tag();
        let mut own = None;
        for bucket in buckets {
            let tags = self.tags.get(bucket.slots.clone()).unwrap_or_default();
            for (chunk, base) in tags.chunks(WAYS).zip((bucket.slots.start..).step_by(WAYS)) {
                let mut hits = matching(chunk, tag);
                while hits != 0 {
                    let i = base.saturating_add((hits.trailing_zeros() / 8) as usize);
                    hits &= hits.wrapping_sub(1);
                    if self.cold.get(i).is_some_and(|c| c.key == id.key) {
                        if self.until.get(i).is_some_and(|&u| u > now) {
                            return Found::Live(i);
                        }
                        own = Some(i);
                    }
                }
            }
        }
        Found::Absent(own)
    }

    /// A free slot, in the candidate bucket with more of them.
    fn free(&self, buckets: &[Bucket; 2], now: u64) -> Option<usize> {
        let [a, b] = buckets.each_ref().map(|bucket| {
            let until = self.until.get(bucket.slots.clone()).unwrap_or_default();
            let mut count = 0usize;
            let mut first = None;
            for (i, u) in (bucket.slots.start..).zip(until) {
                if *u <= now {
                    count = count.saturating_add(1);
                    first.get_or_insert(i);
                }
            }
            (count, first)
        });
        if b.0 > a.0 {
            b.1
        } else {
            a.1.or(b.1)
        }
    }

    fn floor(&self, bucket: usize) -> Floor {
        if bucket == 0 {
            return self.floor0;
        }
        let start = bucket.saturating_mul(WAYS);
        self.floor_bytes
            .get(start..start.saturating_add(WAYS))
            .map_or(Floor::NONE, |b| Floor::from_bytes(b.as_flattened()))
    }

    fn set_floor(&mut self, bucket: usize, floor: Floor) {
        if bucket == 0 {
            self.floor0 = floor;
            return;
        }
        let start = bucket.saturating_mul(WAYS);
        if let Some(b) = self.floor_bytes.get_mut(start..start.saturating_add(WAYS)) {
            b.as_flattened_mut().copy_from_slice(&floor.to_bytes());
        }
    }

    /// Whether a live record of `(scope, key)` is held: lets the model tell
    /// which records an eviction removed.
    #[cfg(any(test, feature = "testing"))]
    pub fn holds(&self, scope: &[u8], key: &[u8], now: u64) -> bool {
        let id = self.id(scope, key, &Fingerprint::default());
        matches!(self.find(id, &Self::buckets(id), now), Found::Live(_))
    }

    /// When a [`Begin::Full`] answer for `(scope, key)` may change: the
    /// earliest end among the live records of its two buckets (`None` when
    /// one of them has room). For a `Retry-After`, not a promise: the record
    /// that ends first may be replaced by another claim.
    pub fn retry_at(&self, scope: &[u8], key: &[u8], now: u64) -> Option<u64> {
        let id = self.id(scope, key, &Fingerprint::default());
        let mut earliest = None::<u64>;
        for bucket in Self::buckets(id) {
            for &until in self.until.get(bucket.slots).unwrap_or_default() {
                if until <= now {
                    return None;
                }
                earliest = Some(earliest.map_or(until, |e| e.min(until)));
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
        let id = self.id(req.scope, req.key, &req.fingerprint);
        let buckets = Self::buckets(id);
        let own = match self.find(id, &buckets, now) {
            Found::Live(i) => return self.answer(i, id, now),
            Found::Absent(own) => own,
        };
        let floored = buckets
            .iter()
            .filter(|b| !b.slots.is_empty())
            .any(|b| self.floor(b.index).refuses(req.stamp, now));
        if floored || req.stamp < self.restart_below {
            return Begin::Stale;
        }
        let Some(at) = own
            .or_else(|| self.free(&buckets, now))
            .or_else(|| self.evict(&buckets, req.stamp, now))
        else {
            return Begin::Full;
        };
        let (Some(cold), Some(&tag)) = (self.cold.get_mut(at), self.tags.get(at)) else {
            return Begin::Full;
        };
        // Later than the slot's last claim while its ticket may be held (see
        // `Cold::lease_until`); only a clock that stepped back makes this
        // longer than `lease`. On overflow the slot is full.
        let unspent = u64::from(tag & IN_FLIGHT != 0);
        let Some(lease_until) = now
            .checked_add(self.config.lease)
            .zip(cold.lease_until.checked_add(unspent))
            .map(|(a, b)| a.max(b))
        else {
            return Begin::Full;
        };
        *cold = Cold {
            key: id.key,
            check: id.check,
            lease_until,
        };
        let keep_until = req.keep_until.unwrap_or(0);
        let until = record_end(keep_until, lease_until, self.config.ttl);
        for (field, value) in [(&mut self.until, until), (&mut self.stamp, req.stamp)] {
            if let Some(f) = field.get_mut(at) {
                *f = value;
            }
        }
        if let Some(t) = self.tags.get_mut(at) {
            *t = id.tag() | IN_FLIGHT;
        }
        if let Some(v) = self.values.get_mut(at) {
            *v = None;
        }
        if self.window == 0 {
            self.window = next_window_id();
        }
        Begin::Fresh(Ticket {
            window: self.window,
            slot: at as u32,
            lease: lease_until,
            id,
            keep_until,
        })
    }

    /// The answer from the live record in slot `i`.
    fn answer(&self, i: usize, id: EntryId, now: u64) -> Begin<V> {
        let (Some(cold), Some(&tag)) = (self.cold.get(i), self.tags.get(i)) else {
            return Begin::Full;
        };
        if cold.check != id.check {
            return Begin::Mismatch;
        }
        if tag & IN_FLIGHT == 0 {
            if let Some(Some(v)) = self.values.get(i) {
                return Begin::Replay(v.clone());
            }
        }
        if cold.lease_until <= now {
            Begin::Abandoned
        } else {
            Begin::InFlight
        }
    }

    /// Both buckets are full of live records: frees the slot of the settled
    /// record with the oldest stamp, if that stamp is older than `stamp` (so the
    /// request stays admissible), and raises its bucket's floor over it.
    fn evict(&mut self, buckets: &[Bucket; 2], stamp: u64, now: u64) -> Option<usize> {
        let mut victim = None::<(usize, usize, u64)>;
        for bucket in buckets {
            let range = bucket.slots.clone();
            let tags = self.tags.get(range.clone()).unwrap_or_default();
            let stamps = self.stamp.get(range.clone()).unwrap_or_default();
            for ((i, tag), &s) in range.zip(tags).zip(stamps) {
                let settled =
                    tag & IN_FLIGHT == 0 || self.cold.get(i).is_some_and(|c| c.lease_until <= now);
                if settled && victim.is_none_or(|(_, _, v)| s < v) {
                    victim = Some((bucket.index, i, s));
                }
            }
        }
        let (bucket, i, oldest) = victim?;
        if oldest >= stamp {
            return None;
        }
        let mut floor = self.floor(bucket);
        floor.raise(oldest, *self.until.get(i)?, now);
        self.set_floor(bucket, floor);
        Some(i)
    }

    /// The slot of `ticket`'s record, if the ticket still owns it and its
    /// lease runs.
    fn owned(&self, ticket: &Ticket, now: u64) -> Result<usize, TicketError> {
        let i = ticket.slot as usize;
        let (Some(cold), Some(&tag)) = (self.cold.get(i), self.tags.get(i)) else {
            return Err(TicketError::NotOwner);
        };
        if ticket.window != self.window
            || tag & IN_FLIGHT == 0
            || cold.key != ticket.id.key
            || cold.check != ticket.id.check
            || cold.lease_until != ticket.lease
        {
            return Err(TicketError::NotOwner);
        }
        if cold.lease_until <= now {
            return Err(TicketError::LeaseExpired);
        }
        Ok(i)
    }

    /// Stores the result; retries with the same fingerprint get it as `Replay`
    /// until `keep_until`, or `now + ttl`.
    pub fn complete(&mut self, ticket: Ticket, value: V, now: u64) -> Result<(), TicketError> {
        let i = self.owned(&ticket, now)?;
        let end = record_end(ticket.keep_until, now, self.config.ttl);
        let (Some(until), Some(tag), Some(slot)) = (
            self.until.get_mut(i),
            self.tags.get_mut(i),
            self.values.get_mut(i),
        ) else {
            return Err(TicketError::NotOwner);
        };
        *until = end;
        *tag &= !IN_FLIGHT;
        *slot = Some(value);
        Ok(())
    }

    /// Releases the key so that a retry runs again.
    pub fn abort(&mut self, ticket: Ticket, now: u64) -> Result<(), TicketError> {
        let i = self.owned(&ticket, now)?;
        let (Some(until), Some(tag), Some(slot)) = (
            self.until.get_mut(i),
            self.tags.get_mut(i),
            self.values.get_mut(i),
        ) else {
            return Err(TicketError::NotOwner);
        };
        *until = 0;
        *tag = 0;
        *slot = None;
        Ok(())
    }
}

/// A candidate bucket: its number and its slots.
struct Bucket {
    index: usize,
    slots: core::ops::Range<usize>,
}

/// What [`Window::find`] saw.
enum Found {
    /// A live record in this slot.
    Live(usize),
    /// No live record; the slot of an expired one, if any.
    Absent(Option<usize>),
}

/// The slots of `chunk` (up to 8 tag bytes) whose tag is `tag`, ignoring the
/// in-flight bit: the high bit of each matching byte set (SWAR: one 64-bit
/// compare for a bucket, exact, no false positives).
fn matching(chunk: &[u8], tag: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const BYTES: u64 = 0x0101_0101_0101_0101;
    let mut word = [0u8; 8];
    if let Some(w) = word.get_mut(..chunk.len()) {
        w.copy_from_slice(chunk);
    }
    let x = (u64::from_le_bytes(word) & !(u64::from(IN_FLIGHT).wrapping_mul(BYTES)))
        ^ u64::from(tag).wrapping_mul(BYTES);
    let t = (x & LOW7).wrapping_add(LOW7);
    !(t | x | LOW7)
}

/// When a record settled at `settled` ends: `keep_until` if set (but never
/// before it settled), else `settled + ttl`.
fn record_end(keep_until: u64, settled: u64, ttl: u64) -> u64 {
    match keep_until {
        0 => settled.saturating_add(ttl),
        keep => keep.max(settled),
    }
}

impl<V: Clone, const N: usize, H: RecordHash> Store<V> for Window<V, N, H> {
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
