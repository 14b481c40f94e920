//! The caller's own claim types, deserialized from the verified payload.

mod common;

use common::*;
use serde::Deserialize;
use tessera_core::{Algorithm, Error, Validation};

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Role {
    Admin,
    #[allow(dead_code)] // only ever compared against
    Reader,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Limits {
    rate: u32,
    burst: Option<u16>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Rich<'a> {
    sub: &'a str,
    exp: u64,
    delta: i64,
    ratio: f64,
    enabled: bool,
    role: Role,
    scopes: Vec<&'a str>,
    limits: Limits,
    note: Option<&'a str>,
    missing: Option<u8>,
}

fn verified_payload<T>(payload: &str, f: impl FnOnce(&tessera_core::Verified<'_>) -> T) -> T {
    let token = forge(payload);
    let mut buf = [0u8; 2048];
    let ring = ring(Algorithm::Hs256);
    let v = ring
        .verify(&token, &Validation::new(), NOW, &mut buf)
        .unwrap();
    f(&v)
}

#[test]
fn nested_types_numbers_options_and_enums() {
    let payload = format!(
        r#"{{"sub":"alice","exp":{},"delta":-5,"ratio":0.25e1,"enabled":true,"role":"admin",
            "scopes":["a","b"],"limits":{{"rate":10,"burst":null}},"note":null,
            "ignored":{{"deep":[1,{{"x":[true,null]}}]}}}}"#,
        NOW + 60
    );
    let rich = |v: &tessera_core::Verified<'_>| {
        let rich: Rich<'_> = v.deserialize().unwrap();
        assert_eq!(
            rich,
            Rich {
                sub: "alice",
                exp: NOW + 60,
                delta: -5,
                ratio: 2.5,
                enabled: true,
                role: Role::Admin,
                scopes: vec!["a", "b"],
                limits: Limits {
                    rate: 10,
                    burst: None
                },
                note: None,
                missing: None,
            }
        );
    };
    verified_payload(&payload, rich);
}

#[test]
fn type_mismatches_are_claims_errors() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Want {
        n: u8,
    }
    for bad in [
        r#""n":256"#,
        r#""n":-1"#,
        r#""n":"1""#,
        r#""n":1.5"#,
        r#""x":1"#,
    ] {
        let payload = format!(r#"{{"exp":{},{bad}}}"#, NOW + 1);
        let got = verified_payload(&payload, |v| v.deserialize::<Want>().map(|_| ()));
        assert_eq!(got, Err(Error::Claims), "{bad}");
    }
}

#[test]
fn escaped_strings_need_an_owning_field_and_scratch() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)] // only the outcome matters
    struct Borrowing<'a> {
        sub: &'a str,
    }
    #[derive(Debug, Deserialize)]
    struct Owning {
        sub: heapless::String<16>,
    }
    let payload = format!(r#"{{"exp":{},"sub":"caf\u00e9 \ud83d\ude00"}}"#, NOW + 1);
    verified_payload(&payload, |v| {
        assert_eq!(v.deserialize::<Borrowing<'_>>().unwrap_err(), Error::Claims);
        assert_eq!(
            v.deserialize::<Owning>().unwrap_err(),
            Error::Claims,
            "no scratch"
        );
        let mut scratch = [0u8; 32];
        assert_eq!(
            v.deserialize_with::<Owning>(&mut scratch)
                .unwrap()
                .sub
                .as_str(),
            "café 😀"
        );
        assert_eq!(
            v.deserialize_with::<Owning>(&mut [0u8; 4]).unwrap_err(),
            Error::Claims,
            "scratch too small"
        );
    });
}

/// Fuzzing regression F1 (`claims_json`): a surrogate pair in a member the
/// caller's type ignores must not stop `deserialize_with` (serde-json-core,
/// used before the core's own deserializer, unescaped code units one by one).
#[test]
fn fuzz_f1_surrogate_pair_in_an_ignored_member() {
    #[derive(Debug, Deserialize)]
    struct Sub {
        sub: String,
    }
    let payload = format!(
        r#"{{"sub":"\ud83d\ude00","note":"\ud83d\ude00","exp":{}}}"#,
        NOW + 1
    );
    verified_payload(&payload, |v| {
        let mut scratch = [0u8; 64];
        assert_eq!(v.deserialize_with::<Sub>(&mut scratch).unwrap().sub, "😀");
    });
}
