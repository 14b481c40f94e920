//! The keyed digest that names a window's records.

use core::hash::Hasher;

use siphasher::sip128::{Hasher128, SipHasher13};

/// A keyed 128-bit digest of `(scope, key)`, the two halves as `u64`s.
///
/// The window's guarantees against chosen keys (no collisions, no aiming at a
/// bucket; see the module docs) hold only for a keyed PRF with 128-bit output
/// and a random, private secret: use the default, [`SipHash13`]. The trait
/// exists so a benchmark can run the same structure with a cheaper, unkeyed
/// hash and report what the hash costs apart from what the structure costs.
pub trait RecordHash {
    /// The digest of the length-prefixed `scope` followed by `key`.
    fn digest(secret: &[u8; 16], scope: &[u8], key: &[u8]) -> (u64, u64);
}

/// SipHash-1-3 with 128-bit output, keyed by the window's secret: the keyed
/// PRF Rust's `HashMap` relies on against hash flooding.
#[derive(Clone, Copy, Debug, Default)]
pub struct SipHash13;

impl RecordHash for SipHash13 {
    fn digest(secret: &[u8; 16], scope: &[u8], key: &[u8]) -> (u64, u64) {
        let mut h = SipHasher13::new_with_key(secret);
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
        (d.h1, d.h2)
    }
}
