//! The tokens every verifier reads: one realistic HS256 token, the same claims
//! under HS384 and HS512, a 4 KiB token, and a token with a bad signature.

use serde::{Deserialize, Serialize};
use tessera_core::{Algorithm, Key};

/// The 32-byte shared secret (64 bytes for HS384/HS512, which need longer keys).
pub const SECRET: &[u8; 64] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// The verifier's clock for tessera, inside every token's `nbf..exp`. The peers
/// read the system clock, which also falls inside.
pub const NOW: u64 = 1_767_225_600;
/// Issuer every verifier requires.
pub const ISS: &str = "https://auth.example.com";
/// Audience every verifier requires.
pub const AUD: &str = "api.example.com";

/// The claims of the realistic token, borrowed (tessera signs and reads these
/// without allocating).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppClaims<'a> {
    /// Subject.
    pub sub: &'a str,
    /// Issuer.
    pub iss: &'a str,
    /// Audience.
    pub aud: &'a str,
    /// Expiry.
    pub exp: u64,
    /// Not before.
    pub nbf: u64,
    /// Issued at.
    pub iat: u64,
    /// Token id.
    pub jti: &'a str,
    /// The custom claim.
    pub scope: &'a str,
}

/// The same claims, owned: what `jsonwebtoken` deserializes into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedClaims {
    /// Subject.
    pub sub: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Expiry.
    pub exp: u64,
    /// Not before.
    pub nbf: u64,
    /// Issued at.
    pub iat: u64,
    /// Token id.
    pub jti: String,
    /// The custom claim.
    pub scope: String,
}

/// The claims of every benchmark token.
pub const CLAIMS: AppClaims<'static> = AppClaims {
    sub: "user-8c1f2a9e",
    iss: ISS,
    aud: AUD,
    exp: 4_102_444_800,
    nbf: 1_700_000_000,
    iat: 1_700_000_000,
    jti: "0f8e2c4a7b1d4e6f",
    scope: "orders:read orders:write",
};

impl AppClaims<'_> {
    /// The owned copy.
    pub fn to_owned_claims(&self) -> OwnedClaims {
        OwnedClaims {
            sub: self.sub.into(),
            iss: self.iss.into(),
            aud: self.aud.into(),
            exp: self.exp,
            nbf: self.nbf,
            iat: self.iat,
            jti: self.jti.into(),
            scope: self.scope.into(),
        }
    }
}

/// The 4 KiB token's claims: [`CLAIMS`] plus a `permissions` array that every
/// verifier must validate and skip (the typed claims are the same eight).
#[derive(Serialize)]
struct LargeClaims<'a> {
    #[serde(flatten)]
    base: AppClaims<'a>,
    permissions: Vec<String>,
}

/// The secret length for `alg`: its hash output, the RFC 7518 minimum.
pub fn secret(alg: Algorithm) -> &'static [u8] {
    &SECRET[..alg.output_len()]
}

/// A tessera key for `alg`.
pub fn key(alg: Algorithm) -> Key {
    Key::new(alg, secret(alg)).expect("the fixture secret is long enough")
}

/// The realistic token (`{"alg":..,"typ":"JWT"}` header, [`CLAIMS`]).
pub fn token(alg: Algorithm) -> String {
    let mut out = vec![0u8; 1024];
    key(alg).sign(&CLAIMS, &mut out).expect("fits").to_owned()
}

/// The realistic HS256 token signed by the fixture key named `kid`: its
/// header is not one of the precomputed common headers, so it is parsed.
pub fn kid_token() -> String {
    let mut out = vec![0u8; 1024];
    key(Algorithm::Hs256)
        .with_kid("2026-01")
        .expect("valid kid")
        .sign(&CLAIMS, &mut out)
        .expect("fits")
        .to_owned()
}

/// An HS256 token whose claims JSON is about 4 KiB.
pub fn large_token() -> String {
    let permissions = (0..156)
        .map(|i| format!("orders:read:region-{i:03}"))
        .collect();
    let claims = LargeClaims {
        base: CLAIMS,
        permissions,
    };
    let mut out = vec![0u8; 8192];
    key(Algorithm::Hs256)
        .sign(&claims, &mut out)
        .expect("fits")
        .to_owned()
}

/// [`token`] with the first signature character changed: still canonical
/// base64url, still 32 bytes, wrong MAC.
pub fn bad_signature_token(alg: Algorithm) -> String {
    let good = token(alg);
    let at = good.rfind('.').expect("three segments") + 1;
    let mut bad = good.into_bytes();
    bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bad).expect("ascii")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_advertised_shape() {
        let t = token(Algorithm::Hs256);
        assert!(
            t.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."),
            "{t}"
        );
        assert!(
            (320..=360).contains(&t.len()),
            "realistic token is {} bytes",
            t.len()
        );
        let payload = large_token().split('.').nth(1).unwrap().len() * 3 / 4;
        assert!(
            (4000..=4200).contains(&payload),
            "large claims are {payload} bytes"
        );
        assert_ne!(bad_signature_token(Algorithm::Hs256), t);
    }
}
