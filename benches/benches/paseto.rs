//! PASETO v4: tessera next to `pasetors` and the cryptographic floors, on the
//! same token (realistic claims, footer, claims checked by both).
//!
//! Floors: `v4.local` = the two BLAKE2b key derivations, the BLAKE2b-256 MAC
//! over the pre-assembled PAE and XChaCha20 over the ciphertext (no base64,
//! no JSON); `v4.public` = one Ed25519 verify of the pre-assembled PAE.

use std::hint::black_box;

use blake2::{
    digest::{consts::U32, consts::U56, Mac},
    Blake2bMac,
};
use chacha20::{
    cipher::{KeyIvInit, StreamCipher},
    XChaCha20,
};
use criterion::{criterion_group, criterion_main, Criterion};
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use pasetors::{
    claims::ClaimsValidationRules,
    keys::{AsymmetricPublicKey, SymmetricKey},
    token::UntrustedToken,
    version4::V4,
    Local, Public,
};
use tessera_core::{
    paseto::{LocalKey, Options, SecretKey},
    Validation,
};

const LOCAL: [u8; 32] = [0x6b; 32];
const SEED: [u8; 32] = [0x5e; 32];
const NONCE: [u8; 32] = [0x4e; 32];
/// 2026-01-01, inside the claims' `nbf..exp`; pasetors reads the system clock,
/// which also falls inside.
const NOW: u64 = 1_767_225_600;
const ISS: &str = "https://auth.example.com";
const AUD: &str = "api.example.com";
const FOOTER: &[u8] = br#"{"kid":"k1"}"#;
const CLAIMS: &str = r#"{"sub":"user-8c1f2e","iss":"https://auth.example.com","aud":"api.example.com","exp":"2099-01-01T00:00:00+00:00","nbf":"2025-01-01T00:00:00+00:00","iat":"2025-01-01T00:00:00+00:00","jti":"4f1c2a9e-7b3d-4e8a-9c51-0d2e6f8a1b3c","scope":"orders:read orders:write"}"#;

fn pae(pieces: &[&[u8]]) -> Vec<u8> {
    let mut out = (pieces.len() as u64).to_le_bytes().to_vec();
    for p in pieces {
        out.extend((p.len() as u64).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

fn b64(s: &str) -> Vec<u8> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::decode_vec(s).unwrap()
}

fn peer_footer() -> pasetors::footer::Footer {
    let mut footer = pasetors::footer::Footer::new();
    footer.parse_bytes(FOOTER).unwrap();
    footer
}

fn validation() -> Validation<'static> {
    Validation::new().issuer(ISS).audience(AUD)
}

fn rules() -> ClaimsValidationRules {
    let mut r = ClaimsValidationRules::new();
    r.validate_issuer_with(ISS);
    r.validate_audience_with(AUD);
    r
}

fn local(c: &mut Criterion) {
    let key = LocalKey::from_bytes(LOCAL);
    let options = Options::new().footer(FOOTER);
    let mut out = [0u8; 1024];
    let token = key
        .encrypt_json(CLAIMS.as_bytes(), &NONCE, &options, &mut out)
        .unwrap()
        .to_owned();
    let peer_key = SymmetricKey::<V4>::from(&LOCAL).unwrap();
    let footer = peer_footer();
    let rules = rules();
    // The floor's inputs: the raw n, c, t and the PAE the tag covers.
    let body = token.strip_prefix("v4.local.").unwrap();
    let raw = b64(body.split_once('.').unwrap().0);
    let (n, rest) = raw.split_at(32);
    let (c_bytes, t) = rest.split_at(rest.len() - 32);
    let pae_bytes = pae(&[b"v4.local.", n, c_bytes, FOOTER, b""]);

    let mut buf = vec![0u8; 1024];
    let mut g = c.benchmark_group("paseto-v4.local-decrypt");
    g.bench_function("tessera", |b| {
        b.iter(|| {
            let v = key
                .decrypt(black_box(&token), &validation(), &options, NOW, &mut buf)
                .unwrap();
            assert!(v.claims.sub.is_some());
        })
    });
    g.bench_function("pasetors", |b| {
        b.iter(|| {
            let untrusted =
                UntrustedToken::<Local, V4>::try_from(black_box(token.as_str())).unwrap();
            let trusted =
                pasetors::local::decrypt(&peer_key, &untrusted, &rules, Some(&footer), None)
                    .unwrap();
            assert!(trusted.payload_claims().is_some());
        })
    });
    let mut scratch = c_bytes.to_vec();
    g.bench_function("floor-blake2b-xchacha20", |b| {
        b.iter(|| {
            let mut enc = <Blake2bMac<U56> as Mac>::new_from_slice(&LOCAL).unwrap();
            enc.update(b"paseto-encryption-key");
            enc.update(black_box(n));
            let enc = enc.finalize().into_bytes();
            let mut auth = <Blake2bMac<U32> as Mac>::new_from_slice(&LOCAL).unwrap();
            auth.update(b"paseto-auth-key-for-aead");
            auth.update(n);
            let ak = auth.finalize().into_bytes();
            let mut mac = <Blake2bMac<U32> as Mac>::new_from_slice(&ak).unwrap();
            mac.update(black_box(&pae_bytes));
            mac.verify_slice(t).unwrap();
            scratch.copy_from_slice(c_bytes);
            let (ek, n2) = enc.split_at(32);
            let ek: [u8; 32] = ek.try_into().unwrap();
            let n2: [u8; 24] = n2.try_into().unwrap();
            XChaCha20::new(&ek.into(), &n2.into()).apply_keystream(&mut scratch);
            black_box(&scratch);
        })
    });
    g.finish();
}

fn public(c: &mut Criterion) {
    let secret = SecretKey::from_seed(&SEED);
    let public = secret.public_key();
    let options = Options::new().footer(FOOTER);
    let mut out = [0u8; 1024];
    let token = secret
        .sign_json(CLAIMS.as_bytes(), &options, &mut out)
        .unwrap()
        .to_owned();
    let peer_key = AsymmetricPublicKey::<V4>::from(&public.to_bytes()).unwrap();
    let footer = peer_footer();
    let rules = rules();
    let body = token.strip_prefix("v4.public.").unwrap();
    let raw = b64(body.split_once('.').unwrap().0);
    let (m, sig) = raw.split_at(raw.len() - 64);
    let pae_bytes = pae(&[b"v4.public.", m, FOOTER, b""]);
    let floor_key = VerifyingKey::from_bytes(&public.to_bytes()).unwrap();
    let floor_sig = Signature::from_slice(sig).unwrap();

    let mut buf = vec![0u8; 1024];
    let mut g = c.benchmark_group("paseto-v4.public-verify");
    g.bench_function("tessera", |b| {
        b.iter(|| {
            let v = public
                .verify(black_box(&token), &validation(), &options, NOW, &mut buf)
                .unwrap();
            assert!(v.claims.sub.is_some());
        })
    });
    g.bench_function("pasetors", |b| {
        b.iter(|| {
            let untrusted =
                UntrustedToken::<Public, V4>::try_from(black_box(token.as_str())).unwrap();
            let trusted =
                pasetors::public::verify(&peer_key, &untrusted, &rules, Some(&footer), None)
                    .unwrap();
            assert!(trusted.payload_claims().is_some());
        })
    });
    g.bench_function("floor-ed25519-verify", |b| {
        b.iter(|| floor_key.verify(black_box(&pae_bytes), &floor_sig).unwrap())
    });
    g.finish();
}

criterion_group!(benches, local, public);
criterion_main!(benches);
