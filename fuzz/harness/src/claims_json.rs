//! `claims_json`: arbitrary bytes as a payload, signed with `Key::sign_json`
//! and verified, so they reach the claims parser behind a valid MAC. The verdict
//! is compared with `serde_json` plus the claim policy of [`crate::reference`];
//! accepted payloads are also read through `Verified::deserialize{,_with}`.
//!
//! Differences with `serde_json` that are not bugs: numbers beyond `f64`
//! (`serde_json` refuses, tessera skips them) are not compared; duplicates and
//! depth follow the reference's policy (items 5 and 7 there).
//!
//! Fuzz finding F1: payloads with an escaped surrogate pair (`"\ud83d\ude00"`,
//! what Python's `json.dumps` writes for an emoji) verified but were refused
//! by `deserialize_with` while core used `serde-json-core`'s unescaper; core's
//! own deserializer fixes it, `regressions::f1_*` keeps it fixed.

use serde::Deserialize;
use serde_json::Value;
use tessera_core::{Algorithm, Error, Key, KeyRing};

use crate::alloc_count::no_alloc;
use crate::fixtures::{secret, Policy, NOW};
use crate::reference::{claim_violations, object, verdict_of, JsonFail};

/// `exp` optional, otherwise strict: the parser, not the clock, is under test.
const POLICY: Policy = Policy { require_exp: false, max_len: usize::MAX, ..Policy::STRICT };

/// The registered claims as a caller's owned type.
#[derive(Debug, Deserialize, PartialEq)]
struct Owned {
    exp: Option<u64>,
    nbf: Option<u64>,
    iat: Option<u64>,
    iss: Option<String>,
    sub: Option<String>,
    jti: Option<String>,
}

/// The same, borrowing from the payload (fails on escaped strings, by design).
#[derive(Debug, Deserialize, PartialEq)]
struct Borrowed<'a> {
    exp: Option<u64>,
    nbf: Option<u64>,
    iat: Option<u64>,
    iss: Option<&'a str>,
    sub: Option<&'a str>,
    jti: Option<&'a str>,
}

/// The `claims_json` target.
pub fn claims_json(data: &[u8]) {
    let key = Key::new(Algorithm::Hs256, secret(Algorithm::Hs256)).expect("fixture key");
    let ring = KeyRing::<1>::single(key.clone()).expect("one key");
    let mut out = vec![0u8; data.len() * 4 / 3 + 256];
    let len =
        no_alloc("Key::sign_json", || key.sign_json(data, &mut out).map(str::len)).expect("buffer is large enough");
    let token = std::str::from_utf8(&out[..len]).expect("tokens are ASCII");
    let mut buf = vec![0u8; token.len()];
    let validation = POLICY.validation();
    let ours = no_alloc("KeyRing::verify", || ring.verify(token, &validation, NOW, &mut buf));

    let members = match object(data) {
        Err(JsonFail::OutOfRange) => return,
        Err(JsonFail::Invalid(why)) => {
            assert!(
                matches!(ours, Err(Error::Malformed(_))),
                "serde_json refuses ({why}) but tessera says {:?}: {:?}",
                ours.map(|v| v.claims),
                String::from_utf8_lossy(data)
            );
            return;
        }
        Ok(m) => m,
    };
    let verified = match (verdict_of(&claim_violations(&members, &POLICY, NOW)), ours) {
        (None, Ok(v)) => v,
        (Some((why, Some(expected))), Err(e)) => {
            assert_eq!(
                e,
                expected,
                "tessera's error for the one rule broken ({why}): {:?}",
                String::from_utf8_lossy(data)
            );
            return;
        }
        (Some((_, None)), Err(_)) => return,
        (None, Err(e)) => {
            panic!("tessera rejects ({e:?}) a payload the reference accepts: {:?}", String::from_utf8_lossy(data))
        }
        (Some((why, _)), Ok(_)) => {
            panic!("tessera accepts a payload the reference rejects ({why}): {:?}", String::from_utf8_lossy(data))
        }
    };

    let date = |name| members.get(name).and_then(Value::as_u64);
    let text = |name| members.get(name).and_then(Value::as_str).map(str::to_owned);
    let expected = Owned {
        exp: date("exp"),
        nbf: date("nbf"),
        iat: date("iat"),
        iss: text("iss"),
        sub: text("sub"),
        jti: text("jti"),
    };
    let mut scratch = vec![0u8; data.len()];
    let owned: Owned = verified
        .deserialize_with(&mut scratch)
        .unwrap_or_else(|e| panic!("deserialize_with refuses ({e:?}) a verified payload: {:?}", verified.payload()));
    assert_eq!(owned, expected, "{:?}", verified.payload());
    // Borrowing fails exactly on escaped strings; when it succeeds it must agree.
    if let Ok(b) = no_alloc("Verified::deserialize", || verified.deserialize::<Borrowed<'_>>()) {
        let b = Owned {
            exp: b.exp,
            nbf: b.nbf,
            iat: b.iat,
            iss: b.iss.map(str::to_owned),
            sub: b.sub.map(str::to_owned),
            jti: b.jti.map(str::to_owned),
        };
        assert_eq!(b, expected, "{:?}", verified.payload());
    }
}
