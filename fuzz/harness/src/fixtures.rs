//! The fixed keys, key rings and policies every target verifies against.

use std::sync::LazyLock;

use tessera_core::{Algorithm, Key, KeyRing, Validation, DEFAULT_MAX_LEN};

/// The clock every verification uses, so a seed's verdict never changes.
pub const NOW: u64 = 1_750_000_000;
/// The issuer the ring setup requires.
pub const ISSUER: &str = "https://issuer.example";
/// The audience the ring setup requires.
pub const AUDIENCE: &str = "tessera-api";
/// The leeway of the ring setup, in seconds.
pub const RING_LEEWAY: u64 = 30;
/// The `kid` of each algorithm's key in the ring setup.
pub const KIDS: [&str; 3] = ["k256", "k384", "k512"];
/// Buffer for decoded headers and payloads: tokens are at most `DEFAULT_MAX_LEN`.
pub const BUF_LEN: usize = DEFAULT_MAX_LEN;

/// The secret of `alg`'s fixed key: exactly the hash output length (the minimum).
pub fn secret(alg: Algorithm) -> &'static [u8] {
    const SECRET: &[u8; 64] = b"tessera-fuzz-secret-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH";
    &SECRET[..alg.output_len()]
}

/// Index of `alg` in [`Algorithm::ALL`].
pub fn index(alg: Algorithm) -> usize {
    Algorithm::ALL.iter().position(|a| *a == alg).unwrap_or(0)
}

/// `alg` as `jsonwebtoken` names it.
pub fn peer_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    match alg {
        Algorithm::Hs256 => jsonwebtoken::Algorithm::HS256,
        Algorithm::Hs384 => jsonwebtoken::Algorithm::HS384,
        Algorithm::Hs512 => jsonwebtoken::Algorithm::HS512,
    }
}

/// The verifier configurations under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setup {
    /// One key without `kid`, and the strict default policy (exp required,
    /// no leeway, no `iss`/`aud` accepted).
    Single(Algorithm),
    /// Three keys selected by `kid` ([`KIDS`]); `iss` and `aud` required,
    /// [`RING_LEEWAY`] seconds of leeway.
    Ring,
}

/// What the policy of a setup demands, as plain data for the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Seconds of leeway for `exp` and `nbf`.
    pub leeway: u64,
    /// Whether `exp` must be present.
    pub require_exp: bool,
    /// Required `iss`.
    pub issuer: Option<&'static str>,
    /// Required audience; without one, `aud` must be absent.
    pub audience: Option<&'static str>,
    /// Longest accepted token.
    pub max_len: usize,
}

impl Policy {
    /// The strict default of [`Validation::new`].
    pub const STRICT: Policy =
        Policy { leeway: 0, require_exp: true, issuer: None, audience: None, max_len: DEFAULT_MAX_LEN };

    /// The same policy as tessera's [`Validation`].
    pub fn validation(&self) -> Validation<'static> {
        let mut v = Validation::new().require_exp(self.require_exp).max_len(self.max_len);
        v = v.leeway(self.leeway).expect("fixture leeway within MAX_LEEWAY");
        if let Some(iss) = self.issuer {
            v = v.issuer(iss);
        }
        if let Some(aud) = self.audience {
            v = v.audience(aud);
        }
        v
    }
}

static SINGLE: LazyLock<[KeyRing<3>; 3]> = LazyLock::new(|| {
    Algorithm::ALL.map(|alg| KeyRing::single(Key::new(alg, secret(alg)).expect("fixture key")).expect("one key"))
});

static RING: LazyLock<KeyRing<3>> = LazyLock::new(|| {
    let mut ring = KeyRing::new();
    for (alg, kid) in Algorithm::ALL.into_iter().zip(KIDS) {
        let key = Key::new(alg, secret(alg)).and_then(|k| k.with_kid(kid)).expect("fixture key");
        ring.add(key).expect("room for three keys");
    }
    ring
});

impl Setup {
    /// Every setup, for seeds and tests.
    pub const ALL: [Setup; 4] = [
        Setup::Single(Algorithm::Hs256),
        Setup::Single(Algorithm::Hs384),
        Setup::Single(Algorithm::Hs512),
        Setup::Ring,
    ];

    /// The setup a fuzz input's control byte selects (its low two bits).
    pub fn from_control(byte: u8) -> Setup {
        Setup::ALL[usize::from(byte & 3)]
    }

    /// The control bits that select this setup.
    pub fn control(self) -> u8 {
        Setup::ALL.iter().position(|s| *s == self).unwrap_or(0) as u8
    }

    /// The key ring tessera verifies with.
    pub fn ring(self) -> &'static KeyRing<3> {
        match self {
            Setup::Single(alg) => &SINGLE[index(alg)],
            Setup::Ring => &RING,
        }
    }

    /// The policy both sides enforce.
    pub fn policy(self) -> Policy {
        match self {
            Setup::Single(_) => Policy::STRICT,
            Setup::Ring => {
                Policy { leeway: RING_LEEWAY, issuer: Some(ISSUER), audience: Some(AUDIENCE), ..Policy::STRICT }
            }
        }
    }

    /// The signing key for algorithm slot `pick` (ring) or the only key (single).
    pub fn signing_key(self, pick: u8) -> (Algorithm, Option<&'static str>) {
        match self {
            Setup::Single(alg) => (alg, None),
            Setup::Ring => {
                let i = usize::from(pick) % 3;
                (Algorithm::ALL[i], Some(KIDS[i]))
            }
        }
    }

    /// How the reference picks a key: by exact `kid` in the ring, else the only key.
    pub fn reference_key(self, kid: Option<&str>) -> Option<Algorithm> {
        match self {
            Setup::Single(alg) => Some(alg),
            Setup::Ring => {
                let i = KIDS.iter().position(|k| Some(*k) == kid)?;
                Some(Algorithm::ALL[i])
            }
        }
    }
}
