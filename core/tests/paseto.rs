//! PASETO v4: the official vectors, then one test per rule.

use serde_json::Value;
use tessera_core::{
    paseto::{LocalKey, Options, PublicKey, SecretKey},
    Claim, ConfigError, Error, Malformed, Validation,
};

/// Before the vectors' `exp` (2022-01-01T00:00:00Z).
const VECTOR_NOW: u64 = 1_640_995_199;
const NOW: u64 = 1_700_000_000;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn arr<const N: usize>(s: &str) -> [u8; N] {
    hex(s).try_into().unwrap()
}

/// The vectors live beside the repository (`../shared`), as in CI; missing is a failure.
fn vectors() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/vectors/paseto/v4.json"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("official PASETO vectors missing at {path}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["tests"].as_array().unwrap().clone()
}

/// Runs one vector: a valid one must decode to the expected payload and footer
/// (and, for `v4.local`, re-encrypt to the same token; for `v4.public`, re-sign
/// to it: Ed25519 is deterministic); an `expect-fail` one must be refused.
fn run_vector(t: &Value) -> Result<(), String> {
    let name = t["name"].as_str().unwrap();
    let token = t["token"].as_str().unwrap();
    let footer = t["footer"].as_str().unwrap().as_bytes();
    let implicit = t["implicit-assertion"].as_str().unwrap().as_bytes();
    let options = Options::new().footer(footer).implicit(implicit);
    let policy = Validation::new();
    let mut buf = [0u8; 1024];
    let result = if let Some(key) = t["key"].as_str() {
        let key = LocalKey::from_bytes(arr(key));
        let got = key.decrypt(token, &policy, &options, VECTOR_NOW, &mut buf);
        if let (Ok(_), Some(payload)) = (&got, t["payload"].as_str()) {
            let nonce = arr(t["nonce"].as_str().unwrap());
            let mut out = [0u8; 1024];
            let minted = key
                .encrypt_json(payload.as_bytes(), &nonce, &options, &mut out)
                .map_err(|e| format!("{name}: encrypt: {e:?}"))?;
            if minted != token {
                return Err(format!("{name}: encryption differs"));
            }
        }
        got.map(|v| (v.payload().to_owned(), v.footer().to_vec()))
    } else {
        let public = PublicKey::from_bytes(&arr(t["public-key"].as_str().unwrap())).unwrap();
        let got = public.verify(token, &policy, &options, VECTOR_NOW, &mut buf);
        if let (Ok(_), Some(payload)) = (&got, t["payload"].as_str()) {
            let secret = SecretKey::from_keypair(&arr(t["secret-key"].as_str().unwrap())).unwrap();
            let seeded = SecretKey::from_seed(&arr(t["secret-key-seed"].as_str().unwrap()));
            assert_eq!(secret.public_key(), public);
            assert_eq!(seeded.public_key(), public);
            let mut out = [0u8; 1024];
            let minted = seeded
                .sign_json(payload.as_bytes(), &options, &mut out)
                .map_err(|e| format!("{name}: sign: {e:?}"))?;
            if minted != token {
                return Err(format!("{name}: signature differs"));
            }
        }
        got.map(|v| (v.payload().to_owned(), v.footer().to_vec()))
    };
    match (t["expect-fail"].as_bool().unwrap(), result) {
        (true, Err(_)) => Ok(()),
        (true, Ok(_)) => Err(format!("{name}: accepted, must fail")),
        (false, Err(e)) => Err(format!("{name}: refused: {e:?}")),
        (false, Ok((payload, got_footer))) => {
            if payload != t["payload"].as_str().unwrap() {
                Err(format!("{name}: payload differs"))
            } else if got_footer != footer {
                Err(format!("{name}: footer differs"))
            } else {
                Ok(())
            }
        }
    }
}

#[test]
fn every_official_v4_vector() {
    let tests = vectors();
    assert_eq!(tests.len(), 17, "4-E-1..9, 4-S-1..3, 4-F-1..5");
    let failures: Vec<String> = tests.iter().filter_map(|t| run_vector(t).err()).collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

// --- Rules -----------------------------------------------------------------

const LOCAL: [u8; 32] = [7; 32];
const NONCE: [u8; 32] = [9; 32];
const SEED: [u8; 32] = [3; 32];

fn claims(extra: &str) -> String {
    format!(r#"{{"sub":"alice","exp":"2023-11-14T22:13:20Z"{extra}}}"#)
}

fn local_token(json: &str, options: &Options<'_>) -> String {
    let mut out = [0u8; 2048];
    LocalKey::from_bytes(LOCAL)
        .encrypt_json(json.as_bytes(), &NONCE, options, &mut out)
        .unwrap()
        .to_owned()
}

fn public_token(json: &str, options: &Options<'_>) -> String {
    let mut out = [0u8; 2048];
    SecretKey::from_seed(&SEED)
        .sign_json(json.as_bytes(), options, &mut out)
        .unwrap()
        .to_owned()
}

fn decrypt(
    token: &str,
    policy: &Validation<'_>,
    options: &Options<'_>,
    now: u64,
) -> Result<String, Error> {
    let mut buf = [0u8; 2048];
    LocalKey::from_bytes(LOCAL)
        .decrypt(token, policy, options, now, &mut buf)
        .map(|t| t.payload().to_owned())
}

fn verify(
    token: &str,
    policy: &Validation<'_>,
    options: &Options<'_>,
    now: u64,
) -> Result<String, Error> {
    let mut buf = [0u8; 2048];
    SecretKey::from_seed(&SEED)
        .public_key()
        .verify(token, policy, options, now, &mut buf)
        .map(|t| t.payload().to_owned())
}

/// Both purposes, for rules that hold for each.
fn both(json: &str, options: &Options<'_>) -> [(String, &'static str); 2] {
    [
        (local_token(json, options), "local"),
        (public_token(json, options), "public"),
    ]
}

fn check(
    token: &str,
    purpose: &str,
    policy: &Validation<'_>,
    options: &Options<'_>,
    now: u64,
) -> Result<String, Error> {
    if purpose == "local" {
        decrypt(token, policy, options, now)
    } else {
        verify(token, policy, options, now)
    }
}

#[test]
fn round_trip_through_serde_and_typed_claims() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Mine<'a> {
        sub: &'a str,
        exp: &'a str,
        n: u32,
    }
    let mine = Mine {
        sub: "alice",
        exp: "2023-11-14T22:13:20Z",
        n: 5,
    };
    let options = Options::new().footer(b"kid-1");
    let mut out = [0u8; 512];
    let token = LocalKey::from_bytes(LOCAL)
        .encrypt(&mine, &NONCE, &options, &mut out)
        .unwrap();
    let mut buf = [0u8; 512];
    let v = LocalKey::from_bytes(LOCAL)
        .decrypt(
            token,
            &Validation::new(),
            &Options::new(),
            NOW - 1,
            &mut buf,
        )
        .unwrap();
    assert_eq!(v.footer(), b"kid-1");
    assert_eq!(v.claims.exp, Some(NOW));
    assert!(v.claims.sub.unwrap().eq_str("alice"));
    assert_eq!(v.deserialize::<Mine<'_>>().unwrap(), mine);

    let mut out = [0u8; 512];
    let token = SecretKey::from_seed(&SEED)
        .sign(&mine, &options, &mut out)
        .unwrap();
    let mut buf = [0u8; 512];
    let v = SecretKey::from_seed(&SEED)
        .public_key()
        .verify(token, &Validation::new(), &options, NOW - 1, &mut buf)
        .unwrap();
    assert_eq!(v.deserialize::<Mine<'_>>().unwrap(), mine);
}

#[test]
fn keys_are_bound_to_version_and_purpose() {
    let none = Options::new();
    let local = local_token(&claims(""), &none);
    let public = public_token(&claims(""), &none);
    let p = Validation::new();
    assert_eq!(verify(&local, &p, &none, 0), Err(Error::Algorithm));
    assert_eq!(decrypt(&public, &p, &none, 0), Err(Error::Algorithm));
    for (token, purpose) in [(&local, "local"), (&public, "public")] {
        for header in [
            "v3.local.",
            "v4.secret.",
            "V4.local.",
            "v4.LOCAL.",
            "v2.public.",
        ] {
            let (_, body) = token.split_at(token.find('.').unwrap() + 1);
            let (_, body) = body.split_at(body.find('.').unwrap() + 1);
            let forged = format!("{header}{body}");
            assert_eq!(
                check(&forged, purpose, &p, &none, 0),
                Err(Error::Algorithm),
                "{forged}"
            );
        }
    }
}

#[test]
fn any_changed_byte_is_refused_before_decryption() {
    let options = Options::new().footer(b"f");
    for (token, purpose) in both(&claims(""), &options) {
        let (payload_end, _) = token.rsplit_once('.').unwrap();
        let start = purpose.len() + 4;
        for i in start..payload_end.len() {
            let mut bytes = token.clone().into_bytes();
            // Flip a bit within the alphabet: 'A' <-> 'B', etc.
            bytes[i] = match bytes[i] {
                b'A' => b'B',
                b'-' => b'_',
                b'_' => b'-',
                c => c ^ 1,
            };
            let Ok(tampered) = String::from_utf8(bytes) else {
                continue;
            };
            let got = check(&tampered, purpose, &Validation::new(), &options, 0);
            assert!(
                matches!(
                    got,
                    Err(Error::Signature | Error::Malformed(Malformed::Base64))
                ),
                "{purpose} byte {i}: {got:?}"
            );
        }
        // Truncated: too short for a tag or signature.
        let short = format!("v4.{purpose}.AAAA");
        assert_eq!(
            check(&short, purpose, &Validation::new(), &Options::new(), 0),
            Err(Error::Signature)
        );
    }
}

#[test]
fn footer_is_authenticated_and_optionally_required() {
    let with = Options::new().footer(b"kid-1");
    for (token, purpose) in both(&claims(""), &with) {
        let p = Validation::new();
        assert!(check(&token, purpose, &p, &with, 0).is_ok());
        // Not required: accepted and returned (see round_trip test).
        assert!(check(&token, purpose, &p, &Options::new(), 0).is_ok());
        assert_eq!(
            check(&token, purpose, &p, &Options::new().footer(b"kid-2"), 0),
            Err(Error::Footer)
        );
        // Another footer on the same body: the footer check passes, the tag fails.
        let (body, _) = token.rsplit_once('.').unwrap();
        let swapped = format!("{body}.a2lkLTI"); // "kid-2"
        let kid2 = Options::new().footer(b"kid-2");
        assert_eq!(
            check(&swapped, purpose, &p, &kid2, 0),
            Err(Error::Signature)
        );
        // Dropped footer: required one missing.
        assert_eq!(check(body, purpose, &p, &with, 0), Err(Error::Footer));
        // An empty footer after a dot is not canonical.
        assert_eq!(
            check(&format!("{body}."), purpose, &p, &Options::new(), 0),
            Err(Error::Malformed(Malformed::Segments))
        );
        // A third dot.
        assert_eq!(
            check(&format!("{token}.x"), purpose, &p, &Options::new(), 0),
            Err(Error::Malformed(Malformed::Segments))
        );
    }
}

#[test]
fn implicit_assertion_must_match() {
    let bound = Options::new().implicit(b"tenant-1");
    for (token, purpose) in both(&claims(""), &bound) {
        let p = Validation::new();
        assert!(check(&token, purpose, &p, &bound, 0).is_ok());
        assert_eq!(
            check(&token, purpose, &p, &Options::new(), 0),
            Err(Error::Signature)
        );
        assert_eq!(
            check(
                &token,
                purpose,
                &p,
                &Options::new().implicit(b"tenant-2"),
                0
            ),
            Err(Error::Signature)
        );
    }
}

#[test]
fn non_canonical_base64url_is_refused() {
    for (token, purpose) in both(&claims(""), &Options::new()) {
        let p = Validation::new();
        for bad in [
            format!("{token}="),
            format!("{token}=="),
            token.replace('-', "+"),
            format!("{token} "),
        ] {
            if bad == token {
                continue;
            }
            assert_eq!(
                check(&bad, purpose, &p, &Options::new(), 0),
                Err(Error::Malformed(Malformed::Base64)),
                "{bad}"
            );
        }
        // A footer with non-zero trailing bits ("Zh" vs "Zg" for "f").
        assert_eq!(
            check(&format!("{token}.Zh"), purpose, &p, &Options::new(), 0),
            Err(Error::Malformed(Malformed::Base64))
        );
    }
}

#[test]
fn dates_are_rfc3339_with_offsets() {
    let p = Validation::new();
    let none = Options::new();
    // 2023-11-14T22:13:20Z == NOW, written with an offset.
    for (token, purpose) in both(r#"{"exp":"2023-11-15T00:13:20+02:00"}"#, &none) {
        assert!(check(&token, purpose, &p, &none, NOW - 1).is_ok());
        assert_eq!(check(&token, purpose, &p, &none, NOW), Err(Error::Expired));
    }
    // A fraction: valid through NOW, expired at NOW + 1.
    for (token, purpose) in both(r#"{"exp":"2023-11-14T22:13:20.5Z"}"#, &none) {
        assert!(check(&token, purpose, &p, &none, NOW).is_ok());
        assert_eq!(
            check(&token, purpose, &p, &none, NOW + 1),
            Err(Error::Expired)
        );
    }
    for (token, purpose) in both(&claims(r#","nbf":"2023-11-14T22:13:10-00:00""#), &none) {
        assert_eq!(
            check(&token, purpose, &p, &none, NOW - 11),
            Err(Error::NotYetValid)
        );
        assert!(check(&token, purpose, &p, &none, NOW - 10).is_ok());
        assert!(check(&token, purpose, &p.leeway(1).unwrap(), &none, NOW - 11).is_ok());
    }
    for bad in [
        r#"{"exp":"2023-02-30T00:00:00Z"}"#,
        r#"{"exp":"2023-11-14 23:13:20Z"}"#,
        r#"{"exp":"2023-11-14T22:13:20"}"#,
        r#"{"exp":"2023-11-14T25:13:20Z"}"#,
        r#"{"exp":"2023-11-14T22:13:20Z","iat":"1969-12-31T23:59:59Z"}"#,
    ] {
        for (token, purpose) in both(bad, &none) {
            assert_eq!(
                check(&token, purpose, &p, &none, 0),
                Err(Error::Malformed(Malformed::Date)),
                "{bad}"
            );
        }
    }
    for (token, purpose) in both(r#"{"exp":1700000000}"#, &none) {
        assert_eq!(
            check(&token, purpose, &p, &none, 0),
            Err(Error::Malformed(Malformed::MemberType))
        );
    }
}

#[test]
fn registered_claims_follow_the_jws_rules() {
    let none = Options::new();
    let p = Validation::new();
    for (token, purpose) in both(r#"{"sub":"alice"}"#, &none) {
        assert_eq!(
            check(&token, purpose, &p, &none, 0),
            Err(Error::Missing(Claim::Exp))
        );
        assert!(check(&token, purpose, &p.require_exp(false), &none, 0).is_ok());
    }
    for (token, purpose) in both(&claims(r#","sub":"bob""#), &none) {
        assert_eq!(
            check(&token, purpose, &p, &none, 0),
            Err(Error::Malformed(Malformed::Duplicate))
        );
    }
    for (token, purpose) in both(&claims(r#","aud":"orders""#), &none) {
        assert_eq!(check(&token, purpose, &p, &none, 0), Err(Error::Audience));
        assert!(check(&token, purpose, &p.audience("orders"), &none, 0).is_ok());
        assert_eq!(
            check(&token, purpose, &p.audience("billing"), &none, 0),
            Err(Error::Audience)
        );
    }
    for (token, purpose) in both(&claims(r#","iss":"gw""#), &none) {
        assert!(check(&token, purpose, &p.issuer("gw"), &none, 0).is_ok());
        assert_eq!(
            check(&token, purpose, &p.issuer("other"), &none, 0),
            Err(Error::Issuer)
        );
    }
    for (token, purpose) in both(&claims(r#","x":[1,]"#), &none) {
        assert_eq!(
            check(&token, purpose, &p, &none, 0),
            Err(Error::Malformed(Malformed::Json))
        );
    }
    for (token, purpose) in both(&claims(""), &none) {
        assert_eq!(
            check(&token, purpose, &p.max_len(token.len() - 1), &none, 0),
            Err(Error::TooLong)
        );
    }
}

#[test]
fn small_buffers_and_bad_keys_are_errors() {
    let token = local_token(&claims(""), &Options::new());
    let mut small = [0u8; 40];
    assert_eq!(
        LocalKey::from_bytes(LOCAL)
            .decrypt(&token, &Validation::new(), &Options::new(), 0, &mut small)
            .unwrap_err(),
        Error::BufferTooSmall
    );
    let mut out = [0u8; 60];
    assert_eq!(
        LocalKey::from_bytes(LOCAL).encrypt_json(
            claims("").as_bytes(),
            &NONCE,
            &Options::new(),
            &mut out
        ),
        Err(Error::BufferTooSmall)
    );
    // The identity point (small order) would accept forged signatures.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_eq!(
        PublicKey::from_bytes(&identity),
        Err(ConfigError::BadPublicKey)
    );
    let mut pair = [0u8; 64];
    pair[..32].copy_from_slice(&SEED);
    pair[32..].copy_from_slice(&SecretKey::from_seed(&[4; 32]).public_key().to_bytes());
    assert_eq!(
        SecretKey::from_keypair(&pair).unwrap_err(),
        ConfigError::BadPublicKey
    );
}
