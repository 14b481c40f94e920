//! The signer's JSON writer (review finding 1): valid, uninjectable JSON for any
//! `Serialize` input, a typed error for what a token cannot carry, never a panic.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Value};
use tessera_core::{Algorithm, Error, Key, Validation};

/// What `serde_bytes` and `bytes::Bytes` do: hand the serializer raw bytes.
struct Raw<'a>(&'a [u8]);

impl Serialize for Raw<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

fn key() -> Key {
    Key::hs256(SECRET).unwrap()
}

/// Signs, verifies with the strict default policy, and returns the payload.
fn sign_and_verify<T: Serialize + ?Sized>(claims: &T) -> Result<Value, Error> {
    let mut out = [0u8; 4096];
    let token = key().sign(claims, &mut out)?;
    let mut buf = [0u8; 4096];
    let verified = ring(Algorithm::Hs256).verify(token, &Validation::new(), NOW, &mut buf)?;
    Ok(serde_json::from_str(verified.payload()).expect("the verifier passed strict JSON"))
}

/// The payload as `serde_json` would write the same value.
fn as_serde_json<T: Serialize + ?Sized>(claims: &T) -> Value {
    serde_json::to_value(claims).unwrap()
}

#[test]
fn bytes_are_written_as_an_array_never_as_raw_json() {
    #[derive(Serialize)]
    struct Note<'a> {
        sub: &'a str,
        exp: u64,
        note: Raw<'a>,
    }
    let claims = Note {
        sub: "alice",
        exp: NOW + 60,
        note: Raw(br#"x","admin":true"#),
    };
    let payload = sign_and_verify(&claims).unwrap();
    assert_eq!(payload.get("admin"), None, "{payload}");
    let expected: Vec<u8> = br#"x","admin":true"#.to_vec();
    assert_eq!(payload["note"], json!(expected));

    // And the caller's type reads no injected member either.
    #[derive(Deserialize)]
    struct Admin {
        admin: Option<bool>,
    }
    let mut out = [0u8; 1024];
    let token = key().sign(&claims, &mut out).unwrap();
    let mut buf = [0u8; 1024];
    let v = ring(Algorithm::Hs256)
        .verify(token, &Validation::new(), NOW, &mut buf)
        .unwrap();
    assert_eq!(v.deserialize::<Admin>().unwrap().admin, None);
}

#[test]
fn some_char_signs_and_reads_back() {
    #[derive(Serialize)]
    struct Grade {
        exp: u64,
        grade: Option<char>,
        quote: char,
        control: char,
    }
    for grade in [None, Some('x'), Some('é'), Some('😀')] {
        let claims = Grade {
            exp: NOW + 60,
            grade,
            quote: '"',
            control: '\u{1}',
        };
        assert_eq!(sign_and_verify(&claims).unwrap(), as_serde_json(&claims));
    }
}

#[test]
fn tuple_and_struct_enum_variants_sign_as_serde_json_writes_them() {
    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(u8, &'static str),
        Struct { w: u8, h: i8 },
    }
    #[derive(Serialize)]
    struct Shapes {
        exp: u64,
        shapes: [Shape; 4],
    }
    let claims = Shapes {
        exp: NOW + 60,
        shapes: [
            Shape::Unit,
            Shape::Newtype(1),
            Shape::Tuple(2, "t"),
            Shape::Struct { w: 3, h: -4 },
        ],
    };
    assert_eq!(sign_and_verify(&claims).unwrap(), as_serde_json(&claims));
}

#[test]
fn integer_and_char_map_keys_are_quoted() {
    let mut limits = BTreeMap::new();
    limits.insert(-7i64, "neg");
    limits.insert(42, "pos");
    let mut letters = BTreeMap::new();
    letters.insert('"', 1u8);
    #[derive(Serialize)]
    struct Keys {
        exp: u64,
        limits: BTreeMap<i64, &'static str>,
        letters: BTreeMap<char, u8>,
        wide: BTreeMap<u128, bool>,
    }
    let claims = Keys {
        exp: NOW + 60,
        limits,
        letters,
        wide: [(u128::MAX, true)].into(),
    };
    let payload = sign_and_verify(&claims).unwrap();
    assert_eq!(payload, as_serde_json(&claims));
    assert_eq!(payload["wide"][u128::MAX.to_string()], json!(true));
}

#[test]
fn other_map_keys_are_a_typed_error() {
    #[derive(Serialize)]
    struct Keys<K: Ord> {
        exp: u64,
        m: BTreeMap<K, u8>,
    }
    let mut out = [0u8; 512];
    let tuple = Keys {
        exp: NOW + 60,
        m: [((1, 2), 0)].into(),
    };
    assert_eq!(key().sign(&tuple, &mut out), Err(Error::Claims));
    let unit = Keys {
        exp: NOW + 60,
        m: [((), 0)].into(),
    };
    assert_eq!(key().sign(&unit, &mut out), Err(Error::Claims));
    let option = Keys {
        exp: NOW + 60,
        m: [(Some("a"), 0)].into(),
    };
    assert_eq!(key().sign(&option, &mut out), Err(Error::Claims));
}

#[test]
fn float_and_out_of_range_time_claims_are_refused() {
    let mut out = [0u8; 512];
    let sign = |claims: Value, out: &mut [u8]| key().sign(&claims, out).map(str::len);
    for bad in [
        json!({"exp": 1_700_000_060.0}),
        json!({"exp": 1.5}),
        json!({"exp": -1}),
        json!({"exp": (1u64 << 53) + 1}),
        json!({"exp": "1700000060"}),
        json!({"exp": null}),
        json!({"nbf": 0.0, "exp": NOW + 60}),
        json!({"iat": [1], "exp": NOW + 60}),
    ] {
        assert_eq!(sign(bad.clone(), &mut out), Err(Error::Claims), "{bad}");
    }
    #[derive(Serialize)]
    struct FloatExp {
        exp: f64,
    }
    assert_eq!(
        key().sign(&FloatExp { exp: 1e9 }, &mut out),
        Err(Error::Claims)
    );
    #[derive(Serialize)]
    struct Dates {
        exp: u64,
        nbf: Option<i32>,
        iat: u128,
    }
    let ok = Dates {
        exp: 1 << 53,
        nbf: Some(0),
        iat: 5,
    };
    assert_eq!(sign_and_verify(&ok).unwrap(), as_serde_json(&ok));
}

#[test]
fn registered_claims_of_the_wrong_type_or_twice_are_refused() {
    let mut out = [0u8; 512];
    for bad in [
        json!({"exp": NOW + 60, "sub": 5}),
        json!({"exp": NOW + 60, "iss": ["a"]}),
        json!({"exp": NOW + 60, "jti": null}),
        json!({"exp": NOW + 60, "aud": 1}),
        json!({"exp": NOW + 60, "aud": ["a", 1]}),
        json!({"exp": NOW + 60, "aud": {"a": "b"}}),
    ] {
        assert_eq!(key().sign(&bad, &mut out), Err(Error::Claims), "{bad}");
    }
    // `#[serde(flatten)]` can name a registered claim twice.
    #[derive(Serialize)]
    struct Twice {
        exp: u64,
        #[serde(flatten)]
        extra: BTreeMap<&'static str, u64>,
    }
    let twice = Twice {
        exp: NOW + 60,
        extra: [("exp", NOW + 61)].into(),
    };
    assert_eq!(key().sign(&twice, &mut out), Err(Error::Claims));
    // The same names nested are plain members.
    let nested = json!({"exp": NOW + 60, "x": {"exp": "soon", "sub": 1, "aud": null}});
    assert_eq!(sign_and_verify(&nested).unwrap(), nested);
    let aud = json!({"exp": NOW + 60, "aud": ["a", "b"]});
    let mut buf = [0u8; 512];
    let token = key().sign(&aud, &mut out).unwrap();
    assert!(ring(Algorithm::Hs256)
        .verify(token, &Validation::new().audience("b"), NOW, &mut buf)
        .is_ok());
}

#[test]
fn claims_that_are_not_an_object_are_refused() {
    let mut out = [0u8; 512];
    assert_eq!(key().sign(&5u8, &mut out), Err(Error::Claims));
    assert_eq!(key().sign("x", &mut out), Err(Error::Claims));
    assert_eq!(key().sign(&[1, 2], &mut out), Err(Error::Claims));
    assert_eq!(key().sign(&(), &mut out), Err(Error::Claims));
    assert_eq!(
        key().sign(&Option::<u8>::None, &mut out),
        Err(Error::Claims)
    );
    assert_eq!(key().sign(&Raw(b"{}"), &mut out), Err(Error::Claims));
    #[derive(Serialize)]
    enum Top {
        V { exp: u64 },
    }
    assert_eq!(
        key().sign(&Top::V { exp: NOW + 60 }, &mut out),
        Err(Error::Claims)
    );
}

#[test]
fn non_finite_floats_are_refused_and_finite_ones_round_trip() {
    let mut out = [0u8; 512];
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        #[derive(Serialize)]
        struct F {
            exp: u64,
            f: f64,
        }
        let claims = F {
            exp: NOW + 60,
            f: bad,
        };
        assert_eq!(key().sign(&claims, &mut out), Err(Error::Claims));
    }
    #[derive(Serialize)]
    struct Floats {
        exp: u64,
        f: Vec<f64>,
        g: f32,
    }
    let claims = Floats {
        exp: NOW + 60,
        f: vec![
            0.0,
            -0.0,
            1.0,
            0.1,
            -2.5e-7,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            1e16,
            123456789.0,
        ],
        g: 0.1,
    };
    let payload = sign_and_verify(&claims).unwrap();
    let floats: Vec<f64> = serde_json::from_value(payload["f"].clone()).unwrap();
    assert_eq!(floats, claims.f);
    assert_eq!(payload["g"].as_f64().map(|g| g as f32), Some(0.1f32));
}

#[test]
fn nesting_beyond_the_verifiers_limit_is_refused() {
    fn nested(depth: usize) -> Value {
        (0..depth).fold(json!(1), |v, _| json!([v]))
    }
    let mut out = [0u8; 512];
    // The claims object is depth 1, so 31 arrays inside reach the limit of 32.
    let ok = json!({"exp": NOW + 60, "x": nested(31)});
    assert_eq!(sign_and_verify(&ok).unwrap(), ok);
    let deep = json!({"exp": NOW + 60, "x": nested(32)});
    assert_eq!(key().sign(&deep, &mut out), Err(Error::Claims));
}

#[test]
fn strings_are_escaped_exactly_like_serde_json() {
    let every_ascii: String = (0u8..0x80).map(char::from).collect();
    let text = format!("{every_ascii} é 😀 \u{2028} tail");
    for s in [
        String::new(),
        text.clone(),
        "\"".repeat(9),
        "\\".repeat(17),
        "plain text longer than eight bytes".into(),
    ] {
        let claims = json!({"exp": NOW + 60, "s": s, s.clone(): true});
        let mut out = [0u8; 4096];
        let token = key().sign(&claims, &mut out).unwrap();
        let mut buf = [0u8; 4096];
        let v = ring(Algorithm::Hs256)
            .verify(token, &Validation::new(), NOW, &mut buf)
            .unwrap();
        assert_eq!(v.payload(), serde_json::to_string(&claims).unwrap());
    }
}
