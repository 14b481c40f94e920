//! PASETO v4: one token per purpose (realistic claims, a JSON footer) and each
//! library's check of it, set up once, so the criterion bench, the interleaved
//! ratios and the allocation counter all run the same work.
//!
//! Every library checks the footer, `iss`, `aud`, `exp` and `nbf`; the peers
//! read the system clock, tessera takes [`NOW`]. Floors: `v4.local` = the two
//! BLAKE2b key derivations, the BLAKE2b-256 MAC over the pre-assembled PAE and
//! XChaCha20 over the ciphertext (no base64, no JSON); `v4.public` = one
//! Ed25519 verify of the pre-assembled PAE.

use std::{hint::black_box, sync::OnceLock};

use blake2::{
    digest::{consts::U32, consts::U56, Mac},
    Blake2bMac,
};
use chacha20::{
    cipher::{KeyIvInit, StreamCipher},
    XChaCha20,
};
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use pasetors::{
    claims::ClaimsValidationRules, keys::AsymmetricPublicKey, keys::SymmetricKey,
    token::UntrustedToken, version4::V4,
};
use rusty_paseto::prelude as rp;
use tessera_core::{
    paseto::{LocalKey, Options, PublicKey, SecretKey},
    Validation,
};

const LOCAL: [u8; 32] = [0x6b; 32];
const SEED: [u8; 32] = [0x5e; 32];
const NONCE: [u8; 32] = [0x4e; 32];
/// 2026-01-01, inside the claims' `nbf..exp`, as is the system clock the
/// peers read.
pub const NOW: u64 = 1_767_225_600;
const ISS: &str = "https://auth.example.com";
const AUD: &str = "api.example.com";
const FOOTER: &str = r#"{"kid":"k1"}"#;
const CLAIMS: &str = r#"{"sub":"user-8c1f2e","iss":"https://auth.example.com","aud":"api.example.com","exp":"2099-01-01T00:00:00+00:00","nbf":"2025-01-01T00:00:00+00:00","iat":"2025-01-01T00:00:00+00:00","jti":"4f1c2a9e-7b3d-4e8a-9c51-0d2e6f8a1b3c","scope":"orders:read orders:write"}"#;

/// Who checks the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lib {
    /// `tessera_core::paseto`.
    Tessera,
    /// `pasetors` 0.7.
    Pasetors,
    /// `rusty_paseto` 0.10, its `PasetoParser`.
    RustyPaseto,
    /// The cryptography alone (see the module docs).
    Floor,
}

impl Lib {
    /// Every library, floor last.
    pub const ALL: [Lib; 4] = [Lib::Tessera, Lib::Pasetors, Lib::RustyPaseto, Lib::Floor];

    /// The name benchmarks and ratios use.
    pub fn name(self) -> &'static str {
        match self {
            Lib::Tessera => "tessera",
            Lib::Pasetors => "pasetors",
            Lib::RustyPaseto => "rusty_paseto",
            Lib::Floor => "floor",
        }
    }
}

/// A check, called once per timed call; it panics if the token is refused.
pub type Check<'c> = Box<dyn FnMut() + 'c>;

fn pae(pieces: &[&[u8]]) -> Vec<u8> {
    let mut out = (pieces.len() as u64).to_le_bytes().to_vec();
    for p in pieces {
        out.extend((p.len() as u64).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// The raw bytes of a token's payload part.
fn payload(token: &str, header: &str) -> Vec<u8> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let body = token.strip_prefix(header).expect("header");
    let part = body.split_once('.').expect("footer").0;
    Base64UrlUnpadded::decode_vec(part).expect("base64url")
}

fn validation() -> Validation<'static> {
    Validation::new().issuer(ISS).audience(AUD)
}

fn options() -> Options<'static> {
    Options::new().footer(FOOTER.as_bytes())
}

fn pasetors_footer() -> pasetors::footer::Footer {
    let mut footer = pasetors::footer::Footer::new();
    footer.parse_bytes(FOOTER.as_bytes()).expect("footer");
    footer
}

/// `pasetors`' defaults (`exp`, `nbf`, `iat` checked) plus issuer and audience.
fn pasetors_rules() -> ClaimsValidationRules {
    let mut r = ClaimsValidationRules::new();
    r.validate_issuer_with(ISS);
    r.validate_audience_with(AUD);
    r
}

/// `rusty_paseto`'s default parser (`exp` required, `nbf` if present) with
/// the footer, issuer and audience; built once, reused for every token.
fn rusty_parser<'a, P>() -> rp::PasetoParser<'a, rp::V4, P> {
    let mut p = rp::PasetoParser::<rp::V4, P>::default();
    p.set_footer(rp::Footer::from(FOOTER))
        .check_claim(rp::IssuerClaim::from(ISS))
        .check_claim(rp::AudienceClaim::from(AUD));
    p
}

/// A `v4.local` token and every library's decrypt of it.
pub struct LocalCase {
    /// The token, `v4.local.…` with the footer.
    pub token: String,
    key: LocalKey,
    pasetors_key: SymmetricKey<V4>,
    rusty_key: rp::PasetoSymmetricKey<rp::V4, rp::Local>,
    /// Nonce ‖ ciphertext ‖ tag.
    raw: Vec<u8>,
    pae: Vec<u8>,
}

impl LocalCase {
    /// Encrypts the claims with tessera.
    pub fn new() -> Self {
        let key = LocalKey::from_bytes(LOCAL);
        let mut out = [0u8; 1024];
        let token = key
            .encrypt_json(CLAIMS.as_bytes(), &NONCE, &options(), &mut out)
            .expect("encrypt")
            .to_owned();
        let raw = payload(&token, "v4.local.");
        let (n, rest) = raw.split_at(32);
        let c = &rest[..rest.len() - 32];
        let pae = pae(&[b"v4.local.", n, c, FOOTER.as_bytes(), b""]);
        LocalCase {
            pasetors_key: SymmetricKey::<V4>::from(&LOCAL).expect("key"),
            rusty_key: rp::PasetoSymmetricKey::from(rp::Key::from(LOCAL)),
            token,
            key,
            raw,
            pae,
        }
    }

    /// `lib`'s decrypt and claims check of [`Self::token`].
    pub fn check(&self, lib: Lib) -> Check<'_> {
        let token = self.token.as_str();
        match lib {
            Lib::Tessera => {
                let mut buf = vec![0u8; 1024];
                let (validation, options) = (validation(), options());
                Box::new(move || {
                    let v = self
                        .key
                        .decrypt(black_box(token), &validation, &options, NOW, &mut buf)
                        .expect("tessera decrypts");
                    assert!(v.claims.sub.is_some());
                })
            }
            Lib::Pasetors => {
                let (rules, footer) = (pasetors_rules(), pasetors_footer());
                Box::new(move || {
                    let untrusted =
                        UntrustedToken::<pasetors::Local, V4>::try_from(black_box(token))
                            .expect("token");
                    let trusted = pasetors::local::decrypt(
                        &self.pasetors_key,
                        &untrusted,
                        &rules,
                        Some(&footer),
                        None,
                    )
                    .expect("pasetors decrypts");
                    assert!(trusted.payload_claims().is_some());
                })
            }
            Lib::RustyPaseto => {
                let mut parser = rusty_parser::<rp::Local>();
                Box::new(move || {
                    let claims = parser
                        .parse(black_box(token), &self.rusty_key)
                        .expect("rusty_paseto decrypts");
                    assert!(claims.get("sub").is_some());
                })
            }
            Lib::Floor => {
                let (n, rest) = self.raw.split_at(32);
                let (c, t) = rest.split_at(rest.len() - 32);
                let mut scratch = c.to_vec();
                Box::new(move || {
                    let mut enc = <Blake2bMac<U56> as Mac>::new_from_slice(&LOCAL).expect("key");
                    enc.update(b"paseto-encryption-key");
                    enc.update(black_box(n));
                    let enc = enc.finalize().into_bytes();
                    let mut auth = <Blake2bMac<U32> as Mac>::new_from_slice(&LOCAL).expect("key");
                    auth.update(b"paseto-auth-key-for-aead");
                    auth.update(n);
                    let ak = auth.finalize().into_bytes();
                    let mut mac = <Blake2bMac<U32> as Mac>::new_from_slice(&ak).expect("key");
                    mac.update(black_box(&self.pae));
                    mac.verify_slice(t).expect("tag");
                    scratch.copy_from_slice(c);
                    let (ek, n2) = enc.split_at(32);
                    let ek: [u8; 32] = ek.try_into().expect("32 bytes");
                    let n2: [u8; 24] = n2.try_into().expect("24 bytes");
                    XChaCha20::new(&ek.into(), &n2.into()).apply_keystream(&mut scratch);
                    black_box(&scratch);
                })
            }
        }
    }
}

impl Default for LocalCase {
    fn default() -> Self {
        Self::new()
    }
}

/// `rusty_paseto`'s public key borrows its bytes for as long as its parser
/// lives; they are [`SEED`]'s, the same for every case.
fn rusty_public(public: [u8; 32]) -> &'static rp::Key<32> {
    static KEY: OnceLock<rp::Key<32>> = OnceLock::new();
    KEY.get_or_init(|| rp::Key::from(public))
}

/// A `v4.public` token and every library's verify of it.
pub struct PublicCase {
    /// The token, `v4.public.…` with the footer.
    pub token: String,
    key: PublicKey,
    rusty_key: rp::PasetoAsymmetricPublicKey<'static, rp::V4, rp::Public>,
    pasetors_key: AsymmetricPublicKey<V4>,
    floor_key: VerifyingKey,
    floor_sig: Signature,
    pae: Vec<u8>,
}

impl PublicCase {
    /// Signs the claims with tessera.
    pub fn new() -> Self {
        let secret = SecretKey::from_seed(&SEED);
        let key = secret.public_key();
        let public = key.to_bytes();
        let mut out = [0u8; 1024];
        let token = secret
            .sign_json(CLAIMS.as_bytes(), &options(), &mut out)
            .expect("sign")
            .to_owned();
        let raw = payload(&token, "v4.public.");
        let (m, sig) = raw.split_at(raw.len() - 64);
        PublicCase {
            pae: pae(&[b"v4.public.", m, FOOTER.as_bytes(), b""]),
            floor_key: VerifyingKey::from_bytes(&public).expect("key"),
            floor_sig: Signature::from_slice(sig).expect("signature"),
            pasetors_key: AsymmetricPublicKey::<V4>::from(&public).expect("key"),
            token,
            key,
            rusty_key: rp::PasetoAsymmetricPublicKey::from(rusty_public(public)),
        }
    }

    /// `lib`'s verify and claims check of [`Self::token`].
    pub fn check(&self, lib: Lib) -> Check<'_> {
        let token = self.token.as_str();
        match lib {
            Lib::Tessera => {
                let mut buf = vec![0u8; 1024];
                let (validation, options) = (validation(), options());
                Box::new(move || {
                    let v = self
                        .key
                        .verify(black_box(token), &validation, &options, NOW, &mut buf)
                        .expect("tessera verifies");
                    assert!(v.claims.sub.is_some());
                })
            }
            Lib::Pasetors => {
                let (rules, footer) = (pasetors_rules(), pasetors_footer());
                Box::new(move || {
                    let untrusted =
                        UntrustedToken::<pasetors::Public, V4>::try_from(black_box(token))
                            .expect("token");
                    let trusted = pasetors::public::verify(
                        &self.pasetors_key,
                        &untrusted,
                        &rules,
                        Some(&footer),
                        None,
                    )
                    .expect("pasetors verifies");
                    assert!(trusted.payload_claims().is_some());
                })
            }
            Lib::RustyPaseto => {
                let mut parser = rusty_parser::<rp::Public>();
                Box::new(move || {
                    let claims = parser
                        .parse(black_box(token), &self.rusty_key)
                        .expect("rusty_paseto verifies");
                    assert!(claims.get("sub").is_some());
                })
            }
            Lib::Floor => Box::new(move || {
                self.floor_key
                    .verify(black_box(&self.pae), &self.floor_sig)
                    .expect("floor verifies")
            }),
        }
    }
}

impl Default for PublicCase {
    fn default() -> Self {
        Self::new()
    }
}
