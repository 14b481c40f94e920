//! Verify and sign: tessera next to `jsonwebtoken`, `jwt-simple`, `jwt-compact`
//! and the HMAC floors, in one run.

use std::{hint::black_box, time::Duration};

use criterion::{criterion_group, criterion_main, Criterion};
use tessera_benches::{
    fixture::{bad_signature_token, large_token, token, AppClaims},
    sign::Signers,
    verify::{MacInput, Verifiers},
};
use tessera_core::Algorithm;

/// Every verifier on `token`, plus the two floors, in group `name`.
fn verify_group(c: &mut Criterion, name: &str, alg: Algorithm, token: &str, accepted: bool) {
    let v = Verifiers::new(alg);
    let input = MacInput::of(token);
    let mut buf = vec![0u8; 8192];
    let mut g = c.benchmark_group(name);
    g.bench_function("tessera", |b| {
        b.iter(|| assert_eq!(v.tessera(black_box(token), &mut buf).is_ok(), accepted))
    });
    g.bench_function("tessera-registered", |b| {
        b.iter(|| {
            assert_eq!(
                v.tessera_registered(black_box(token), &mut buf).is_ok(),
                accepted
            )
        })
    });
    g.bench_function("jsonwebtoken", |b| {
        b.iter(|| assert_eq!(v.jsonwebtoken(black_box(token)).is_ok(), accepted))
    });
    g.bench_function("jwt-simple", |b| {
        b.iter(|| assert_eq!(v.jwt_simple(black_box(token)).is_ok(), accepted))
    });
    g.bench_function("jwt-compact", |b| {
        b.iter(|| assert_eq!(v.jwt_compact(black_box(token)).is_ok(), accepted))
    });
    g.bench_function("floor-hmac-precomputed", |b| {
        b.iter(|| assert_eq!(v.floor_precomputed(black_box(&input)), accepted))
    });
    g.bench_function("floor-hmac-keyed-per-call", |b| {
        b.iter(|| assert_eq!(v.floor_keyed(black_box(&input)), accepted))
    });
    g.finish();
}

fn verify(c: &mut Criterion) {
    for alg in Algorithm::ALL {
        verify_group(c, &format!("verify-{alg}"), alg, &token(alg), true);
    }
    verify_group(
        c,
        "verify-large-HS256",
        Algorithm::Hs256,
        &large_token(),
        true,
    );
    verify_group(
        c,
        "reject-bad-signature-HS256",
        Algorithm::Hs256,
        &bad_signature_token(Algorithm::Hs256),
        false,
    );
}

fn sign(c: &mut Criterion) {
    let s = Signers::new();
    let v = Verifiers::new(Algorithm::Hs256);
    let input = MacInput::of(&token(Algorithm::Hs256));
    let mut out = [0u8; 1024];
    let mut g = c.benchmark_group("sign-HS256");
    g.bench_function("tessera", |b| {
        b.iter(|| black_box(s.tessera(&mut out).map(str::len)))
    });
    g.bench_function("jsonwebtoken", |b| b.iter(|| black_box(s.jsonwebtoken())));
    g.bench_function("jwt-simple", |b| b.iter(|| black_box(s.jwt_simple())));
    g.bench_function("jwt-compact", |b| b.iter(|| black_box(s.jwt_compact())));
    g.bench_function("floor-hmac-precomputed", |b| {
        b.iter(|| assert!(v.floor_precomputed(black_box(&input))))
    });
    g.finish();
}

/// The pieces of a verify that are not the MAC, each alone: what the
/// before/after of the decoder and the claims path is measured with.
fn parts(c: &mut Criterion) {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let token = token(Algorithm::Hs256);
    let payload_b64 = token.split('.').nth(1).expect("three segments");
    let mut out = [0u8; 1024];
    let mut g = c.benchmark_group("verify-parts-HS256");
    g.bench_function("payload-b64-tessera", |b| {
        b.iter(|| {
            tessera_core::b64::decode(black_box(payload_b64.as_bytes()), &mut out).map(<[u8]>::len)
        })
    });
    g.bench_function("payload-b64-base64ct", |b| {
        b.iter(|| Base64UrlUnpadded::decode(black_box(payload_b64), &mut out).map(<[u8]>::len))
    });
    let json = Base64UrlUnpadded::decode_vec(payload_b64).expect("canonical");
    g.bench_function("claims-serde-json-core", |b| {
        b.iter(|| {
            let (claims, _) =
                serde_json_core::from_slice::<AppClaims<'_>>(black_box(&json)).expect("valid");
            black_box(claims);
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    // Short runs so the whole suite fits in minutes on two cores; the report
    // quotes medians, which the noise moves least.
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = verify, sign, parts
}
criterion_main!(benches);
