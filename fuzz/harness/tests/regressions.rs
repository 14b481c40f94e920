//! Every crash the fuzzers found, as a named test over the saved input in
//! `fuzz/regressions/<target>/`, plus the known gaps they exposed in tessera.

use std::path::Path;

use tessera_core::{Algorithm, Key, KeyRing, Validation};

fn input(target: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../regressions").join(target).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Harness bug: the `insert a space` mutation split a multi-byte character.
#[test]
fn base64url_space_inside_utf8_char() {
    let data = input("base64url", "harness-space-inside-utf8-char");
    assert!(std::str::from_utf8(&data[1..]).unwrap().chars().any(|c| c.len_utf8() > 1));
    tessera_fuzz_harness::base64url(&data);
}

/// Harness bug, found when the differential targets began comparing error
/// kinds: `{"nbf":<beyond 2^53>,"nbf":2345690}` breaks two rules, but the
/// reference (reading `serde_json`'s last value) saw only the duplicate and
/// expected `Duplicate` where tessera, meeting the bad first value earlier,
/// says `NumericDate`. Every occurrence's type is now checked.
#[test]
fn claims_json_bad_value_before_its_duplicate() {
    tessera_fuzz_harness::claims_json(&input("claims_json", "harness-bad-value-before-its-duplicate"));
}

/// F1 (core): a payload whose strings hold an escaped surrogate pair verified,
/// but `Verified::deserialize_with` refused it (`serde-json-core` unescapes
/// `\uXXXX` one code unit at a time), even for a member the type ignores.
/// Found by `claims_json` on the seed `{"sub":"\ud83d\ude00..."}`.
#[test]
fn f1_deserialize_with_reads_surrogate_pairs() {
    let key = Key::new(Algorithm::Hs256, &[7; 32]).unwrap();
    let ring = KeyRing::<1>::single(key.clone()).unwrap();
    let mut out = [0u8; 256];
    let token = key.sign_json(br#"{"sub":"\ud83d\ude00","note":"\ud83d\ude00"}"#, &mut out).unwrap();
    let mut buf = [0u8; 256];
    let v = ring.verify(token, &Validation::new().require_exp(false), 0, &mut buf).unwrap();
    let mut sub = [0u8; 8];
    assert_eq!(v.claims.sub.unwrap().decode_into(&mut sub), Some("\u{1F600}"));

    #[derive(serde::Deserialize)]
    struct Sub {
        sub: String,
    }
    let mut scratch = [0u8; 64];
    assert_eq!(v.deserialize_with::<Sub>(&mut scratch).map(|s| s.sub), Ok("\u{1F600}".to_owned()));
    tessera_fuzz_harness::claims_json(br#"{"sub":"\ud83d\ude00"}"#);
}

/// Harness bug: the `paseto` round trip sized the verify buffer by the input,
/// but escaped claims make the token longer (`BufferTooSmall`, not a core bug).
#[test]
fn paseto_buffer_sized_by_the_token() {
    let data = input("paseto", "harness-buffer-sized-by-body");
    assert_eq!(data[0] & 2, 2, "round-trip mode");
    tessera_fuzz_harness::paseto(&data);
}
