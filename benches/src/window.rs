//! The idempotency window and what a server would otherwise build: a
//! `HashMap` with a `VecDeque` expiry queue, an `lru` cache, a `moka` cache.
//!
//! Every structure holds `N` live records and does the same two things:
//! - [`Idempotency::fresh`]: begin with a key never seen (it must be claimed),
//!   then complete it with a value;
//! - [`Idempotency::replay`]: begin with a live, completed key (the stored
//!   value comes back).
//!
//! The clock advances by one per fresh key and records live `N` ticks, so the
//! number of live records stays at `N`. Every peer is keyed by the same bytes
//! tessera hashes, scope ‖ key (29 bytes). `lru` runs twice: with its default
//! hasher (foldhash, unkeyed) and with `std`'s `RandomState` (keyed SipHash-1-3,
//! as `HashMap` + `VecDeque` uses), so the cost of a keyed hash shows apart
//! from the structure.

use std::{
    collections::{HashMap, VecDeque},
    hash::{BuildHasher, RandomState},
    num::NonZeroUsize,
};

use tessera_core::window::{
    Begin, Fingerprint, RecordHash, Request, SipHash13, Window, WindowConfig,
};

/// The principal every request belongs to (tessera scopes keys by it).
pub const SCOPE: &[u8] = b"user-8c1f2a9e";
/// The request fingerprint every record carries.
pub const FINGERPRINT: Fingerprint = Fingerprint([7; 16]);
/// The value stored on completion.
pub const VALUE: u64 = 200;

/// The `i`-th idempotency key: 16 bytes, distinct for every `i`.
pub fn key(i: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&i.to_le_bytes());
    k[8..].copy_from_slice(&i.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
    k
}

/// What the peers are keyed by: scope ‖ key, the bytes tessera hashes.
pub type MapKey = [u8; 29];

/// The peers' key for the `i`-th idempotency key.
pub fn map_key(i: u64) -> MapKey {
    let mut k = [0u8; 29];
    k[..SCOPE.len()].copy_from_slice(SCOPE);
    k[SCOPE.len()..].copy_from_slice(&key(i));
    k
}

/// The two operations under test.
pub trait Idempotency {
    /// Begins and completes key `i` at time `now`; `false` if it was not fresh.
    fn fresh(&mut self, i: u64, now: u64) -> bool;
    /// Begins with key `i` at `now`; the stored value if it replays.
    fn replay(&mut self, i: u64, now: u64) -> Option<u64>;
}

/// Holds `capacity` records after `fill`: keys `0..capacity` at times `0..capacity`.
pub fn fill<M: Idempotency + ?Sized>(map: &mut M, capacity: u64) {
    for i in 0..capacity {
        assert!(map.fresh(i, i), "key {i} of a fresh fill was refused");
    }
}

/// The keys of a map filled with `n` records that replay at time `n - 1`, in
/// a scattered order (so a large map is not read in cache order). Keys the
/// map dropped while filling (tessera evicts the oldest record of a full
/// bucket, moka admits by frequency) are left out; a miss in tessera claims a
/// slot, which may evict another record, so the list is checked again until
/// every key in it replays.
pub fn live_keys<M: Idempotency + ?Sized>(map: &mut M, n: u64) -> Vec<u64> {
    // A multiplier coprime with n (a power of two) permutes 0..n.
    let mut live: Vec<u64> = (0..n).map(|i| i.wrapping_mul(0x9E37_79B9) % n).collect();
    loop {
        let before = live.len();
        live.retain(|&i| map.replay(i, n - 1).is_some());
        if live.len() == before {
            return live;
        }
    }
}

/// tessera's window, boxed (it is `N` slots inline).
pub struct Tessera<const N: usize, H = SipHash13>(Box<Window<u64, N, H>>);

/// tessera's structure with an unkeyed hash (foldhash with a fixed seed, as
/// `lru`'s default), so the structure's cost shows apart from the keyed
/// PRF's. Never for production: chosen keys could collide or crowd a bucket.
pub type TesseraUnkeyed<const N: usize> = Tessera<N, Unkeyed>;

/// foldhash, fixed seed: `lru`'s default hasher, one 64-bit hash; the second
/// half is derived from it (enough to run the structure, not a PRF).
pub struct Unkeyed;

impl RecordHash for Unkeyed {
    fn digest(_secret: &[u8; 16], scope: &[u8], key: &[u8]) -> (u64, u64) {
        use std::hash::Hasher;
        let mut h = foldhash::fast::FixedState::with_seed(7).build_hasher();
        h.write(scope);
        h.write(key);
        let d = h.finish();
        (d, d.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15)
    }
}

impl<const N: usize, H: RecordHash> Tessera<N, H> {
    /// An empty window of `N` slots whose records live `N` ticks: once
    /// filled, every fresh key evicts the oldest record of its buckets. Builds
    /// the window on the stack first: call from a thread with room for it.
    pub fn new() -> Self {
        Self::with_ttl(N as u64)
    }

    /// An empty window of `N` slots whose records live `ttl` ticks; with
    /// `ttl` below `N`, records expire before the window fills.
    pub fn with_ttl(ttl: u64) -> Self {
        let config = WindowConfig::new(30, ttl.max(1), 60).expect("lease and TTL are at least 1");
        Tessera(Box::new(Window::new(*b"bench-secret-key", config)))
    }

    fn request(key: &[u8; 16], now: u64) -> Request<'_> {
        Request {
            scope: SCOPE,
            key,
            fingerprint: FINGERPRINT,
            stamp: now,
            keep_until: None,
        }
    }
}

impl<const N: usize, H: RecordHash> Default for Tessera<N, H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, H: RecordHash> Idempotency for Tessera<N, H> {
    fn fresh(&mut self, i: u64, now: u64) -> bool {
        let key = key(i);
        match self.0.begin(&Self::request(&key, now), now) {
            Begin::Fresh(ticket) => self.0.complete(ticket, VALUE, now).is_ok(),
            _ => false,
        }
    }

    fn replay(&mut self, i: u64, now: u64) -> Option<u64> {
        let key = key(i);
        match self.0.begin(&Self::request(&key, now), now) {
            Begin::Replay(v) => Some(v),
            // Not live: the begin claimed it; release it so a miss leaves no
            // record behind (as a miss in the peers leaves none).
            Begin::Fresh(ticket) => {
                let _ = self.0.abort(ticket, now);
                None
            }
            _ => None,
        }
    }
}

/// What the peers store per key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    fingerprint: Fingerprint,
    until: u64,
    value: Option<u64>,
}

impl Record {
    fn in_flight(now: u64) -> Self {
        Record {
            fingerprint: FINGERPRINT,
            until: now + 30,
            value: None,
        }
    }

    /// The stored value, if this record is live and completed with `FINGERPRINT`.
    fn replay(&self, now: u64) -> Option<u64> {
        if self.until > now && self.fingerprint == FINGERPRINT {
            self.value
        } else {
            None
        }
    }
}

/// `std::collections::HashMap` plus a `VecDeque` of `(expiry, key)`, popped
/// from the front as time passes: the structure a server writes by hand.
pub struct MapQueue {
    ttl: u64,
    map: HashMap<MapKey, Record>,
    expiry: VecDeque<(u64, MapKey)>,
}

impl MapQueue {
    /// Records live `ttl` ticks.
    pub fn new(ttl: u64) -> Self {
        let n = ttl as usize;
        MapQueue {
            ttl,
            map: HashMap::with_capacity(n),
            expiry: VecDeque::with_capacity(2 * n),
        }
    }

    fn expire(&mut self, now: u64) {
        while let Some(&(until, key)) = self.expiry.front() {
            if until > now {
                break;
            }
            self.expiry.pop_front();
            if self.map.get(&key).is_some_and(|r| r.until <= now) {
                self.map.remove(&key);
            }
        }
    }
}

impl Idempotency for MapQueue {
    fn fresh(&mut self, i: u64, now: u64) -> bool {
        self.expire(now);
        let key = map_key(i);
        if self.map.get(&key).is_some_and(|r| r.until > now) {
            return false;
        }
        let record = Record::in_flight(now);
        self.map.insert(key, record);
        self.expiry.push_back((record.until, key));
        let Some(r) = self.map.get_mut(&key) else {
            return false;
        };
        r.until = now + self.ttl;
        r.value = Some(VALUE);
        self.expiry.push_back((r.until, key));
        true
    }

    fn replay(&mut self, i: u64, now: u64) -> Option<u64> {
        self.expire(now);
        self.map.get(&map_key(i))?.replay(now)
    }
}

/// `lru::LruCache` of `N` records: the oldest is dropped when full. `S` is
/// its hasher: `lru`'s default (foldhash, unkeyed) or `RandomState`.
pub struct Lru<S = lru::DefaultHasher> {
    ttl: u64,
    cache: lru::LruCache<MapKey, Record, S>,
}

impl Lru {
    /// Holds `capacity` records, each live `capacity` ticks; `lru`'s default
    /// hasher.
    pub fn new(capacity: usize) -> Self {
        Self::with_hasher(capacity, lru::DefaultHasher::default())
    }
}

impl Lru<RandomState> {
    /// As [`Lru::new`], hashing with `std`'s keyed SipHash-1-3.
    pub fn keyed(capacity: usize) -> Self {
        Self::with_hasher(capacity, RandomState::new())
    }
}

impl<S: BuildHasher> Lru<S> {
    fn with_hasher(capacity: usize, hasher: S) -> Self {
        let cap = NonZeroUsize::new(capacity).expect("non-zero capacity");
        Lru {
            ttl: capacity as u64,
            cache: lru::LruCache::with_hasher(cap, hasher),
        }
    }
}

impl<S: BuildHasher> Idempotency for Lru<S> {
    fn fresh(&mut self, i: u64, now: u64) -> bool {
        let key = map_key(i);
        if self.cache.get(&key).is_some_and(|r| r.until > now) {
            return false;
        }
        self.cache.push(key, Record::in_flight(now));
        let Some(r) = self.cache.get_mut(&key) else {
            return false;
        };
        r.until = now + self.ttl;
        r.value = Some(VALUE);
        true
    }

    fn replay(&mut self, i: u64, now: u64) -> Option<u64> {
        self.cache.get(&map_key(i))?.replay(now)
    }
}

/// `moka::sync::Cache` bounded to `N` records (its own eviction policy).
pub struct Moka {
    ttl: u64,
    cache: moka::sync::Cache<MapKey, Record>,
}

impl Moka {
    /// Holds up to `capacity` records, each live `capacity` ticks.
    pub fn new(capacity: usize) -> Self {
        Moka {
            ttl: capacity as u64,
            cache: moka::sync::Cache::new(capacity as u64),
        }
    }
}

impl Idempotency for Moka {
    fn fresh(&mut self, i: u64, now: u64) -> bool {
        let key = map_key(i);
        if self.cache.get(&key).is_some_and(|r| r.until > now) {
            return false;
        }
        self.cache.insert(key, Record::in_flight(now));
        let Some(mut r) = self.cache.get(&key) else {
            return false;
        };
        r.until = now + self.ttl;
        r.value = Some(VALUE);
        self.cache.insert(key, r);
        true
    }

    fn replay(&mut self, i: u64, now: u64) -> Option<u64> {
        self.cache.get(&map_key(i))?.replay(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(map: &mut impl Idempotency, n: u64) {
        fill(map, n);
        let now = n;
        assert_eq!(map.replay(n - 1, now), Some(VALUE));
        assert!(map.fresh(n, now));
        assert!(!map.fresh(n, now), "a live key is not fresh twice");
        assert_eq!(map.replay(n, now), Some(VALUE));
        assert_eq!(map.replay(n + 1, now), None);
    }

    #[test]
    fn every_structure_claims_once_and_replays() {
        check(&mut Tessera::<1024>::new(), 1024);
        check(&mut MapQueue::new(1024), 1024);
        check(&mut Lru::new(1024), 1024);
        check(&mut Lru::keyed(1024), 1024);
        check(&mut Moka::new(1024), 1024);
    }

    #[test]
    fn records_expire_after_n_ticks() {
        let mut t = Tessera::<1024>::new();
        let mut m = MapQueue::new(1024);
        fill(&mut t, 1024);
        fill(&mut m, 1024);
        assert_eq!(t.replay(0, 1024), None);
        assert_eq!(m.replay(0, 1024), None);
        assert_eq!(t.replay(1, 1024), Some(VALUE));
        assert_eq!(m.replay(1, 1024), Some(VALUE));
    }
}
