//! `window_ops`: arbitrary sequences of begin / complete / abort / advance-time
//! on a small window, each answer checked against the reference model by
//! `tessera_core::window::Checked` (the driver the property tests use): the
//! exact answer wherever the window has room and no floor applies, never a
//! second `Fresh` for a live key, never another scope's result, no floor
//! outliving the record it stands for, never a panic or an allocation.
//!
//! Scopes and keys are drawn from small sets chosen so that `scope ++ key`
//! collides across scopes (`"a"+"bc"` vs `"ab"+"c"`), which a window that
//! hashed the plain concatenation would confuse. Each `(scope, key)` has its
//! own stamp, derived from its bytes; a `begin` may carry a newer one (a retry
//! with a new stamp).

use arbitrary::{Arbitrary, Unstructured};
use tessera_core::window::{Checked, Fingerprint, Request, Window, WindowConfig};

use crate::alloc_count::no_alloc;

/// Scopes (principals).
pub const SCOPES: [&[u8]; 4] = [b"", b"a", b"ab", b"user-1"];
/// Idempotency keys.
pub const KEYS: [&[u8]; 8] = [b"", b"c", b"bc", b"k3", b"k4", b"k5", b"k6", b"k7"];
/// Lease 10, TTL 40, skew 5 ticks: short enough that time matters in a few steps.
pub const CONFIG: WindowConfig = tessera_core::conformance::CONFIG;
/// The clock at the start; stamps lie around it.
pub const START: u64 = 1_000;
/// Capacity: two buckets of eight, fewer than the 32 `(scope, key)` pairs.
const CAPACITY: usize = 16;

/// One operation of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum Op {
    /// `begin` for a scope and key (indices wrap), one of two fingerprints,
    /// optionally keeping the record until `now + keep`.
    Begin {
        /// Index into [`SCOPES`].
        scope: u8,
        /// Index into [`KEYS`].
        key: u8,
        /// Which of two fingerprints.
        other_fingerprint: bool,
        /// `keep_until` offset from now.
        keep: Option<u8>,
        /// Ticks newer than the key's own stamp (0: the same stamp).
        newer: u8,
    },
    /// `complete` an outstanding ticket (index wraps) with a value.
    Complete {
        /// Which outstanding ticket.
        ticket: u8,
        /// Low byte of the stored value.
        value: u8,
    },
    /// `abort` an outstanding ticket (index wraps).
    Abort {
        /// Which outstanding ticket.
        ticket: u8,
    },
    /// Let `0..=63` ticks pass.
    Advance(u8),
}

/// The fixed stamp of a `(scope, key)`: FNV-1a of the bytes, spread over
/// `START - 60 ..= START + 9`, so a few stamps start beyond the allowed skew.
pub fn stamp(scope: &[u8], key: &[u8]) -> u64 {
    let bytes = scope.iter().chain([&0xFFu8]).chain(key);
    let hash = bytes.fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3));
    START - 60 + hash % 70
}

/// A stored value names its scope and key, so a cross-scope replay shows.
fn value(scope: usize, key: usize, low: u8) -> u32 {
    (scope as u32) << 16 | (key as u32) << 8 | u32::from(low)
}

/// How often each `begin` answer occurred, by [`Begin::name`], plus how many
/// `complete`/`abort` calls were refused; tests use it to show that the seeds
/// reach every answer.
pub type Tally = std::collections::BTreeMap<&'static str, usize>;

/// The `window_ops` target: first 16 bytes are the window secret, then ops.
pub fn window_ops(data: &[u8]) {
    let _ = run(data);
}

/// Runs `window_ops` and returns the tally of answers.
pub fn run(data: &[u8]) -> Tally {
    let mut tally = Tally::new();
    let mut u = Unstructured::new(data);
    let Ok(secret) = u.arbitrary::<[u8; 16]>() else { return tally };
    let mut c: Checked<u32, CAPACITY> = Checked::new(Window::new(secret, CONFIG), START);
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let fingerprints = [Fingerprint::of(&[b"POST /a"]), Fingerprint::of(&[b"POST /b"])];

    let ops = u.arbitrary_iter::<Op>().into_iter().flatten().flatten().take(512);
    for (step, op) in ops.enumerate() {
        let now = c.now;
        match op {
            Op::Begin { scope, key, other_fingerprint, keep, newer } => {
                let (s, k) = (usize::from(scope) % SCOPES.len(), usize::from(key) % KEYS.len());
                let req = Request {
                    scope: SCOPES[s],
                    key: KEYS[k],
                    fingerprint: fingerprints[usize::from(other_fingerprint)],
                    stamp: stamp(SCOPES[s], KEYS[k]) + u64::from(newer),
                    keep_until: keep.map(|k| now + u64::from(k)),
                };
                let before = c.outstanding();
                let answer = no_alloc("Window::begin", || c.begin(&req));
                let name = answer.unwrap_or_else(|d| panic!("step {step}: {req:?} at {now}: {d:?}"));
                *tally.entry(name).or_default() += 1;
                if name == "fresh" {
                    // A full ticket table drops its oldest ticket unspent.
                    if c.outstanding() == before {
                        pairs.remove(0);
                    }
                    pairs.push((s, k));
                }
            }
            Op::Complete { ticket, value: low } => {
                if pairs.is_empty() {
                    continue;
                }
                let i = usize::from(ticket) % pairs.len();
                let (s, k) = pairs.swap_remove(i);
                let did = no_alloc("Window::complete", || c.complete(i, value(s, k, low)));
                let did = did.unwrap_or_else(|d| panic!("step {step}: complete at {now}: {d:?}"));
                if !did {
                    *tally.entry("refused_complete").or_default() += 1;
                }
            }
            Op::Abort { ticket } => {
                if pairs.is_empty() {
                    continue;
                }
                let i = usize::from(ticket) % pairs.len();
                pairs.swap_remove(i);
                let did = no_alloc("Window::abort", || c.abort(i));
                let did = did.unwrap_or_else(|d| panic!("step {step}: abort at {now}: {d:?}"));
                if !did {
                    *tally.entry("refused_abort").or_default() += 1;
                }
            }
            Op::Advance(ticks) => c.now += u64::from(ticks % 64),
        }
        assert!(c.window.live(c.now) <= CAPACITY);
    }
    tally
}
