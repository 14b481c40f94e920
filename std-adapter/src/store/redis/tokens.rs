//! Lease tokens without a system call per claim.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::StoreError;

/// Hands out lease tokens: 8 random bytes drawn once per store, then a
/// counter. A token only has to differ from every other claimant's token on
/// the same key: another store's random half differs (a collision needs two
/// equal 64-bit draws), and this store's counter never repeats. It is never
/// shown outside this process and Redis, and whoever can write to Redis can
/// rewrite records anyway, so it need not be unpredictable.
pub(super) struct Tokens {
    instance: [u8; 8],
    next: AtomicU64,
}

impl Tokens {
    pub(super) fn new() -> Result<Self, StoreError> {
        let mut instance = [0u8; 8];
        getrandom::fill(&mut instance)
            .map_err(|e| StoreError::Unavailable(format!("no OS randomness: {e}")))?;
        Ok(Tokens {
            instance,
            next: AtomicU64::new(0),
        })
    }

    pub(super) fn next(&self) -> [u8; 16] {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut token = [0u8; 16];
        token[..8].copy_from_slice(&self.instance);
        token[8..].copy_from_slice(&n.to_be_bytes());
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_do_not_repeat_within_or_across_stores() {
        let (a, b) = (Tokens::new().unwrap(), Tokens::new().unwrap());
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            assert!(seen.insert(a.next()));
            assert!(seen.insert(b.next()));
        }
    }
}
