//! The review's findings 2–5: `typ` matching, `JsonStr` equality, escaped member
//! names in ignored members, and a key ring with a default key beside named ones.

mod common;

use common::*;
use serde::Deserialize;
use tessera_core::{Algorithm, ConfigError, Error, Key, KeyRing, Validation};

fn with_typ(typ: &str) -> String {
    forge_with(
        Algorithm::Hs256,
        SECRET,
        &format!(r#"{{"alg":"HS256","typ":"{typ}"}}"#),
        &valid_payload(),
    )
}

#[test]
fn typ_application_prefix_is_optional() {
    for (token_typ, wanted) in [
        ("application/jwt", "JWT"),
        ("Application/JWT", "jwt"),
        ("JWT", "application/jwt"),
        ("\\u0061pplication/jwt", "JWT"),
        ("application/at+jwt", "at+JWT"),
    ] {
        let policy = Validation::new().typ(wanted);
        assert_eq!(
            check_with(&with_typ(token_typ), &policy, NOW),
            Ok(()),
            "{token_typ} vs {wanted}"
        );
    }
    for (token_typ, wanted) in [
        ("application/jwt", "at+jwt"),
        ("text/jwt", "JWT"),
        ("application/application/jwt", "JWT"),
        ("applicationjwt", "JWT"),
        ("jwt", "text/jwt"),
        ("application/", "JWT"),
    ] {
        let policy = Validation::new().typ(wanted);
        assert_eq!(
            check_with(&with_typ(token_typ), &policy, NOW),
            Err(Error::Type),
            "{token_typ} vs {wanted}"
        );
    }
}

#[test]
fn typ_longer_than_32_bytes_matches_when_equal() {
    let long = "application/vnd.example.tessera-token+jwt";
    assert!(long.len() > 32);
    let policy = Validation::new().typ(long);
    assert_eq!(check_with(&with_typ(long), &policy, NOW), Ok(()));
    let escaped = long.replace('v', "\\u0076");
    assert_eq!(check_with(&with_typ(&escaped), &policy, NOW), Ok(()));
    let short_form = Validation::new().typ("vnd.example.tessera-token+JWT");
    assert_eq!(check_with(&with_typ(long), &short_form, NOW), Ok(()));
    let other = Validation::new().typ("application/vnd.example.tessera-token+jwx");
    assert_eq!(check_with(&with_typ(long), &other, NOW), Err(Error::Type));
}

#[test]
fn json_str_equality_is_decoded_equality() {
    let payload = format!(
        r#"{{"sub":"alice","iss":"\u0061lice","jti":"alicf","exp":{}}}"#,
        NOW + 60
    );
    let token = forge(&payload);
    let mut buf = [0u8; 1024];
    let v = ring(Algorithm::Hs256)
        .verify(&token, &Validation::new(), NOW, &mut buf)
        .unwrap();
    let (sub, iss, jti) = (
        v.claims.sub.unwrap(),
        v.claims.iss.unwrap(),
        v.claims.jti.unwrap(),
    );
    assert!(sub.eq_str("alice") && iss.eq_str("alice"));
    assert_eq!(sub, iss);
    assert_eq!(iss, sub);
    assert_ne!(sub, jti);
    assert_ne!(iss, jti);
}

#[test]
fn escaped_member_name_in_an_ignored_member_does_not_fail_deserialize() {
    #[derive(Debug, Deserialize)]
    struct Sub<'a> {
        sub: &'a str,
        exp: u64,
    }
    let payload = format!(
        r#"{{"sub":"alice","caf\u00e9":1,"\u0065xp":{},"x":{{"\"q\"":[1]}}}}"#,
        NOW + 60
    );
    let token = forge(&payload);
    let mut buf = [0u8; 1024];
    let v = ring(Algorithm::Hs256)
        .verify(&token, &Validation::new(), NOW, &mut buf)
        .unwrap();
    let sub: Sub<'_> = v.deserialize().unwrap();
    assert_eq!((sub.sub, sub.exp), ("alice", NOW + 60));
}

fn rotating_ring() -> KeyRing<3> {
    let mut ring = KeyRing::new();
    ring.add(Key::hs256(SECRET).unwrap()).unwrap();
    ring.add(Key::hs256(&[9u8; 32]).unwrap().with_kid("2026").unwrap())
        .unwrap();
    ring
}

#[test]
fn key_ring_default_key_beside_named_keys() {
    let mut ring = rotating_ring();
    let mut buf = [0u8; 1024];
    let policy = Validation::new();
    // Old tokens carry no kid: the default key.
    let old = forge(&valid_payload());
    assert!(ring.verify(&old, &policy, NOW, &mut buf).is_ok());
    // New tokens name the new key.
    let mut out = [0u8; 512];
    let new = ring.keys()[1]
        .sign_json(valid_payload().as_bytes(), &mut out)
        .unwrap()
        .to_owned();
    assert!(ring.verify(&new, &policy, NOW, &mut buf).is_ok());
    // A named token never falls back to the default key.
    let unknown = forge_with(
        Algorithm::Hs256,
        SECRET,
        r#"{"alg":"HS256","kid":"2024"}"#,
        &valid_payload(),
    );
    assert_eq!(
        ring.verify(&unknown, &policy, NOW, &mut buf).unwrap_err(),
        Error::UnknownKey
    );
    // A kid-less token signed with the named key's secret fails the MAC.
    let forged = forge_with(
        Algorithm::Hs256,
        &[9u8; 32],
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &valid_payload(),
    );
    assert_eq!(
        ring.verify(&forged, &policy, NOW, &mut buf).unwrap_err(),
        Error::Signature
    );
    // At most one default key.
    assert_eq!(
        ring.add(Key::hs256(&[7u8; 32]).unwrap()),
        Err(ConfigError::KidConflict)
    );
    // Rotation ends by removing the default key: old tokens are refused.
    assert!(ring.remove_default().is_some());
    ring.add(Key::hs256(&[7u8; 32]).unwrap().with_kid("2027").unwrap())
        .unwrap();
    assert_eq!(
        ring.verify(&old, &policy, NOW, &mut buf).unwrap_err(),
        Error::UnknownKey
    );
    assert!(ring.verify(&new, &policy, NOW, &mut buf).is_ok());
}
