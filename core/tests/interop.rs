//! Differential tests against the `jsonwebtoken` crate, both directions, every algorithm.

mod common;

use common::SECRET;
use jsonwebtoken::{decode, encode, DecodingKey, EncodingKey, Header, Validation as JwtValidation};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use tessera_core::{Algorithm, Key, KeyRing, Validation};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    aud: String,
    exp: u64,
    iat: u64,
    jti: String,
    scope: String,
    n: i64,
}

const NOW: u64 = 1_700_000_000;

fn peer_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    match alg {
        Algorithm::Hs256 => jsonwebtoken::Algorithm::HS256,
        Algorithm::Hs384 => jsonwebtoken::Algorithm::HS384,
        Algorithm::Hs512 => jsonwebtoken::Algorithm::HS512,
    }
}

fn claims() -> impl Strategy<Value = Claims> {
    // Any Unicode: the peer escapes some characters, we escape others.
    (
        any::<String>(),
        "[ -~]{0,40}",
        any::<String>(),
        1u64..600,
        0u64..10_000,
        "[a-zA-Z0-9_-]{1,36}",
        any::<String>(),
        any::<i64>(),
    )
        .prop_map(|(sub, iss, aud, ttl, age, jti, scope, n)| Claims {
            sub,
            iss,
            aud,
            exp: NOW + ttl,
            iat: NOW - age,
            jti,
            scope,
            n,
        })
}

fn policy(c: &Claims) -> Validation<'_> {
    Validation::new().issuer(&c.iss).audience(&c.aud)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn tokens_from_jsonwebtoken_verify_here(c in claims(), alg_i in 0usize..3) {
        let alg = Algorithm::ALL[alg_i];
        let token = encode(&Header::new(peer_alg(alg)), &c, &EncodingKey::from_secret(SECRET)).unwrap();
        let ring = KeyRing::<1>::single(Key::new(alg, SECRET).unwrap()).unwrap();
        let mut buf = vec![0u8; 8192];
        let v = ring.verify(&token, &policy(&c), NOW, &mut buf).unwrap();
        prop_assert_eq!(v.claims.exp, Some(c.exp));
        prop_assert!(v.claims.sub.unwrap().eq_str(&c.sub));
        let mut scratch = vec![0u8; 4096];
        #[derive(Deserialize)]
        struct Owned { sub: String, scope: String, n: i64 }
        // Our own typed view agrees with the peer's claims.
        let mine: Owned = serde_json::from_str(v.payload()).unwrap();
        prop_assert_eq!((&mine.sub, &mine.scope, mine.n), (&c.sub, &c.scope, c.n));
        #[derive(Deserialize)]
        struct Borrowing<'a> { #[serde(borrow)] scope: std::borrow::Cow<'a, str> }
        let b: Borrowing<'_> = v.deserialize_with(&mut scratch).unwrap();
        prop_assert_eq!(&*b.scope, c.scope.as_str());
        // One flipped signature character is refused by us.
        let mut bad = token.clone().into_bytes();
        let last = bad.len() - 2;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap();
        prop_assert!(ring.verify(&bad, &policy(&c), NOW, &mut buf).is_err());
    }

    #[test]
    fn tokens_signed_here_verify_in_jsonwebtoken(c in claims(), alg_i in 0usize..3) {
        let alg = Algorithm::ALL[alg_i];
        let key = Key::new(alg, SECRET).unwrap();
        let mut out = vec![0u8; 8192];
        let token = key.sign(&c, &mut out).unwrap();
        let mut v = JwtValidation::new(peer_alg(alg));
        v.set_issuer(&[&c.iss]);
        v.set_audience(&[&c.aud]);
        v.leeway = 0;
        v.validate_exp = false; // the peer reads the wall clock; we check exp at NOW ourselves
        let data = decode::<Claims>(token, &DecodingKey::from_secret(SECRET), &v).unwrap();
        prop_assert_eq!(&data.claims, &c);
        prop_assert_eq!(data.header.alg, peer_alg(alg));
    }

    #[test]
    fn both_reject_what_the_other_key_signed(c in claims(), alg_i in 0usize..3) {
        let alg = Algorithm::ALL[alg_i];
        let token = encode(&Header::new(peer_alg(alg)), &c, &EncodingKey::from_secret(&[7u8; 64])).unwrap();
        let ring = KeyRing::<1>::single(Key::new(alg, SECRET).unwrap()).unwrap();
        let mut buf = vec![0u8; 8192];
        prop_assert_eq!(ring.verify(&token, &policy(&c), NOW, &mut buf).unwrap_err(), tessera_core::Error::Signature);
    }
}
