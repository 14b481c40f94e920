//! One named test per verification rule.

mod common;

use common::*;
use serde::Deserialize;
use tessera_core::{Algorithm, Claim, ConfigError, Error, Key, KeyRing, Malformed, Validation};

fn replace_segment(token: &str, index: usize, segment: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[index] = segment;
    parts.join(".")
}

fn malformed(m: Malformed) -> Result<(), Error> {
    Err(Error::Malformed(m))
}

// ---- Format ----

#[test]
fn accepts_a_valid_token() {
    assert_eq!(check(&forge(&valid_payload())), Ok(()));
}

#[test]
fn rejects_padding() {
    let token = forge(&valid_payload());
    // Every segment of the standard payload is a length that padding would extend.
    for i in 0..3 {
        let seg = token.split('.').nth(i).unwrap();
        let padded = format!("{seg}=");
        assert!(
            check(&replace_segment(&token, i, &padded)).is_err(),
            "segment {i}"
        );
    }
    let sig = token.split('.').nth(2).unwrap();
    assert_eq!(
        check(&replace_segment(&token, 2, &format!("{sig}="))),
        malformed(Malformed::Base64)
    );
}

#[test]
fn rejects_standard_alphabet_whitespace_and_foreign_bytes() {
    let token = forge(&valid_payload());
    let sig = token.split('.').nth(2).unwrap().to_owned();
    for bad in ['+', '/', ' ', '\n', '\t', '*', 'é', '\0'] {
        let mut s = sig.clone();
        s.replace_range(0..1, &bad.to_string());
        assert_eq!(
            check(&replace_segment(&token, 2, &s)),
            malformed(Malformed::Base64),
            "{bad:?}"
        );
    }
    // In the payload the MAC fails first: the bytes were not what was signed.
    let payload = token.split('.').nth(1).unwrap().replacen('e', "+", 1);
    assert_eq!(
        check(&replace_segment(&token, 1, &payload)),
        Err(Error::Signature)
    );
    // Signed, but not base64url: refused after the MAC.
    let forged = format!("{}.{}", b64(br#"{"alg":"HS256"}"#), "eyJz+In0");
    let sig = b64(&mac(Algorithm::Hs256, SECRET, forged.as_bytes()));
    assert_eq!(
        check(&format!("{forged}.{sig}")),
        malformed(Malformed::Base64)
    );
}

#[test]
fn rejects_non_canonical_trailing_bits() {
    // 43-char HS256 signature: the last char carries 2 zero bits; set one.
    let token = forge(&valid_payload());
    let sig = token.split('.').nth(2).unwrap();
    let last = sig.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap();
    let tweaked = alphabet.chars().nth(idx ^ 1).unwrap();
    let bad = format!("{}{}", &sig[..sig.len() - 1], tweaked);
    assert_eq!(
        check(&replace_segment(&token, 2, &bad)),
        malformed(Malformed::Base64)
    );

    // Payload with non-zero trailing bits, correctly MAC'd over those exact bytes.
    let payload = b64(valid_payload().as_bytes());
    assert!(
        !payload.len().is_multiple_of(4),
        "fixture must have a partial final quantum"
    );
    let last = payload.chars().last().unwrap();
    let idx = alphabet.find(last).unwrap();
    let tweaked = alphabet.chars().nth(idx ^ 1).unwrap();
    let payload = format!("{}{}", &payload[..payload.len() - 1], tweaked);
    let input = format!("{}.{payload}", b64(br#"{"alg":"HS256","typ":"JWT"}"#));
    let sig = b64(&mac(Algorithm::Hs256, SECRET, input.as_bytes()));
    assert_eq!(
        check(&format!("{input}.{sig}")),
        malformed(Malformed::Base64)
    );
}

#[test]
fn rejects_wrong_segment_counts_and_empty_segments() {
    let token = forge(&valid_payload());
    let (h, rest) = token.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    for bad in [
        String::new(),
        h.to_owned(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}."),
        format!("{h}.{p}.{s}.{s}"),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
        format!("{h}.{p}."),
        "..".to_owned(),
    ] {
        assert_eq!(check(&bad), malformed(Malformed::Segments), "{bad}");
    }
}

#[test]
fn rejects_jwe_shaped_tokens() {
    let jwe = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0..48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A.XFBoMYUZodetZdvTiFvSkQ";
    assert_eq!(check(jwe), malformed(Malformed::Segments));
}

#[test]
fn rejects_tokens_over_the_maximum_length_without_work() {
    let token = forge(&valid_payload());
    let policy = Validation::new().max_len(token.len() - 1);
    assert_eq!(check_with(&token, &policy, NOW), Err(Error::TooLong));
    assert_eq!(
        check_with(&token, &Validation::new().max_len(token.len()), NOW),
        Ok(())
    );
    // Garbage over the limit is TooLong too: no parsing happened.
    assert_eq!(check(&"x".repeat(8193)), Err(Error::TooLong));
}

// ---- MAC ----

#[test]
fn wrong_signature_and_wrong_length_are_the_same_error() {
    let token = forge(&valid_payload());
    let sig = token.split('.').nth(2).unwrap();
    let mut flipped = sig.as_bytes().to_vec();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let short = b64(&[0u8; 31]);
    let long = b64(&[0u8; 33]);
    let huge = b64(&[0u8; 200]);
    for bad in [flipped.as_str(), &short, &long, &huge, "AA"] {
        assert_eq!(
            check(&replace_segment(&token, 2, bad)),
            Err(Error::Signature),
            "{bad}"
        );
    }
}

#[test]
fn mac_is_checked_before_any_json_is_parsed() {
    // Broken JSON in both segments, wrong MAC: the answer is Signature, not Malformed.
    let token = format!(
        "{}.{}.{}",
        b64(b"{not json"),
        b64(b"{nor this"),
        b64(&[0u8; 32])
    );
    assert_eq!(check(&token), Err(Error::Signature));
    // A tampered payload byte fails the MAC.
    let token = forge(&valid_payload());
    let payload = token.split('.').nth(1).unwrap();
    let tampered = payload.replacen('J', "K", 1);
    assert_eq!(
        check(&replace_segment(&token, 1, &tampered)),
        Err(Error::Signature)
    );
}

// ---- Header ----

#[test]
fn rejects_alg_none() {
    let payload = b64(valid_payload().as_bytes());
    let none = b64(br#"{"alg":"none","typ":"JWT"}"#);
    // Unsigned form: empty signature segment.
    assert_eq!(
        check(&format!("{none}.{payload}.")),
        malformed(Malformed::Segments)
    );
    // Even with a valid MAC over it, `none` is not the key's algorithm.
    let token = forge_with(
        Algorithm::Hs256,
        SECRET,
        r#"{"alg":"none"}"#,
        &valid_payload(),
    );
    assert_eq!(check(&token), Err(Error::Algorithm));
}

#[test]
fn rejects_algorithm_mismatch() {
    // MAC'd with the HS256 key, but the header claims HS512 (or RS256).
    for alg in ["HS512", "HS384", "RS256", "hs256", "HS256 "] {
        let header = format!(r#"{{"alg":"{alg}"}}"#);
        let token = forge_with(Algorithm::Hs256, SECRET, &header, &valid_payload());
        assert_eq!(check(&token), Err(Error::Algorithm), "{alg}");
    }
}

#[test]
fn requires_alg_as_a_string() {
    let token = forge_with(
        Algorithm::Hs256,
        SECRET,
        r#"{"typ":"JWT"}"#,
        &valid_payload(),
    );
    assert_eq!(check(&token), Err(Error::Algorithm));
    let token = forge_with(Algorithm::Hs256, SECRET, r#"{"alg":256}"#, &valid_payload());
    assert_eq!(check(&token), malformed(Malformed::MemberType));
}

#[test]
fn rejects_crit() {
    for crit in [r#"["exp"]"#, "[]", "null", r#""b64""#] {
        let header = format!(r#"{{"alg":"HS256","crit":{crit}}}"#);
        let token = forge_with(Algorithm::Hs256, SECRET, &header, &valid_payload());
        assert_eq!(check(&token), Err(Error::Critical), "{crit}");
    }
}

#[test]
fn typ_is_checked_only_when_asked() {
    let any = forge_with(
        Algorithm::Hs256,
        SECRET,
        r#"{"alg":"HS256","typ":"at+jwt"}"#,
        &valid_payload(),
    );
    assert_eq!(check(&any), Ok(()));
    let policy = Validation::new().typ("JWT");
    assert_eq!(check_with(&any, &policy, NOW), Err(Error::Type));
    let none = forge_with(
        Algorithm::Hs256,
        SECRET,
        r#"{"alg":"HS256"}"#,
        &valid_payload(),
    );
    assert_eq!(check_with(&none, &policy, NOW), Err(Error::Type));
    let lower = forge_with(
        Algorithm::Hs256,
        SECRET,
        r#"{"alg":"HS256","typ":"jwt"}"#,
        &valid_payload(),
    );
    assert_eq!(check_with(&lower, &policy, NOW), Ok(()));
    assert_eq!(check_with(&forge(&valid_payload()), &policy, NOW), Ok(()));
}

#[test]
fn jku_x5u_and_jwk_are_never_used() {
    let header = r#"{"alg":"HS256","jku":"https://evil.example/jwks","x5u":"https://evil.example/x5","jwk":{"kty":"oct","k":"AAAA"}}"#;
    let token = forge_with(Algorithm::Hs256, SECRET, header, &valid_payload());
    assert_eq!(check(&token), Ok(()));
    // Signed with the attacker's key named in `jwk`: still our key decides.
    let token = forge_with(Algorithm::Hs256, &[0u8; 32], header, &valid_payload());
    assert_eq!(check(&token), Err(Error::Signature));
}

#[test]
fn rejects_duplicate_header_members() {
    for header in [
        r#"{"alg":"HS256","alg":"HS256"}"#,
        r#"{"alg":"HS256","\u0061lg":"HS256"}"#,
        r#"{"alg":"HS256","kid":"a","kid":"a"}"#,
        r#"{"alg":"HS256","typ":"JWT","typ":"JWT"}"#,
        r#"{"alg":"HS256","crit":[],"crit":[]}"#,
    ] {
        let token = forge_with(Algorithm::Hs256, SECRET, header, &valid_payload());
        assert_eq!(check(&token), malformed(Malformed::Duplicate), "{header}");
    }
}

#[test]
fn header_must_be_a_strict_json_object() {
    for header in [
        r#"["HS256"]"#,
        r#"{"alg":"HS256",}"#,
        "\u{feff}{\"alg\":\"HS256\"}",
        r#"{"alg":"HS256"} x"#,
    ] {
        let token = forge_with(Algorithm::Hs256, SECRET, header, &valid_payload());
        assert_eq!(check(&token), malformed(Malformed::Json), "{header}");
    }
}

// ---- Key ring ----

fn two_key_ring() -> KeyRing<4> {
    let mut ring = KeyRing::new();
    ring.add(Key::hs256(SECRET).unwrap().with_kid("2025").unwrap())
        .unwrap();
    ring.add(Key::hs512(&[9u8; 64]).unwrap().with_kid("2026").unwrap())
        .unwrap();
    ring
}

#[test]
fn key_ring_selects_by_kid_during_rotation() {
    let ring = two_key_ring();
    let mut buf = [0u8; 1024];
    let old = forge_with(
        Algorithm::Hs256,
        SECRET,
        r#"{"alg":"HS256","kid":"2025"}"#,
        &valid_payload(),
    );
    let new = forge_with(
        Algorithm::Hs512,
        &[9u8; 64],
        r#"{"kid":"2026","alg":"HS512"}"#,
        &valid_payload(),
    );
    assert!(ring.verify(&old, &Validation::new(), NOW, &mut buf).is_ok());
    assert!(ring.verify(&new, &Validation::new(), NOW, &mut buf).is_ok());
    // Escaped kid names the same key.
    let escaped = forge_with(
        Algorithm::Hs256,
        SECRET,
        r#"{"alg":"HS256","kid":"\u0032025"}"#,
        &valid_payload(),
    );
    assert!(ring
        .verify(&escaped, &Validation::new(), NOW, &mut buf)
        .is_ok());
    // Signed by the other key's secret: refused.
    let swapped = forge_with(
        Algorithm::Hs256,
        SECRET,
        r#"{"alg":"HS256","kid":"2026"}"#,
        &valid_payload(),
    );
    assert_eq!(
        ring.verify(&swapped, &Validation::new(), NOW, &mut buf)
            .unwrap_err(),
        Error::Algorithm
    );
    // Signed keys from the ring carry their kid.
    let mut out = [0u8; 512];
    let signed = ring.keys()[1]
        .sign_json(valid_payload().as_bytes(), &mut out)
        .unwrap();
    assert!(ring
        .verify(signed, &Validation::new(), NOW, &mut buf)
        .is_ok());
}

#[test]
fn key_ring_rejects_unknown_or_missing_kid() {
    let ring = two_key_ring();
    let mut buf = [0u8; 1024];
    let unknown = forge_with(
        Algorithm::Hs256,
        SECRET,
        r#"{"alg":"HS256","kid":"2024"}"#,
        &valid_payload(),
    );
    assert_eq!(
        ring.verify(&unknown, &Validation::new(), NOW, &mut buf)
            .unwrap_err(),
        Error::UnknownKey
    );
    let missing = forge(&valid_payload());
    assert_eq!(
        ring.verify(&missing, &Validation::new(), NOW, &mut buf)
            .unwrap_err(),
        Error::UnknownKey
    );
    let empty = KeyRing::<2>::new();
    assert_eq!(
        empty
            .verify(&missing, &Validation::new(), NOW, &mut buf)
            .unwrap_err(),
        Error::UnknownKey
    );
}

#[test]
fn single_key_ignores_kid() {
    let token = forge_with(
        Algorithm::Hs256,
        SECRET,
        r#"{"alg":"HS256","kid":"anything"}"#,
        &valid_payload(),
    );
    assert_eq!(check(&token), Ok(()));
}

// ---- Payload ----

#[test]
fn payload_must_be_strict_rfc8259() {
    let exp = NOW + 60;
    for payload in [
        format!(r#"{{"exp":{exp},}}"#),
        format!(r#"{{"exp":{exp}}}/* c */"#),
        format!(r#"{{"exp":{exp},"x":NaN}}"#),
        format!(r#"{{"exp":{exp},"x":[1,]}}"#),
        format!("\u{feff}{{\"exp\":{exp}}}"),
        format!(r#"{{"exp":{exp},"x":'y'}}"#),
        format!(r#"["exp",{exp}]"#),
        "null".to_owned(),
        format!(r#"{{"exp":{exp},"x":"\q"}}"#),
        format!(r#"{{"exp":{exp},"x":"\ud800"}}"#),
    ] {
        assert_eq!(
            check(&forge(&payload)),
            malformed(Malformed::Json),
            "{payload}"
        );
    }
    let invalid_utf8 = {
        let input = format!(
            "{}.{}",
            b64(br#"{"alg":"HS256","typ":"JWT"}"#),
            b64(b"{\"x\":\"\xff\"}")
        );
        let sig = b64(&mac(Algorithm::Hs256, SECRET, input.as_bytes()));
        format!("{input}.{sig}")
    };
    assert_eq!(check(&invalid_utf8), malformed(Malformed::Utf8));
}

#[test]
fn nesting_depth_is_bounded() {
    let exp = NOW + 60;
    let ok = format!(
        r#"{{"exp":{exp},"x":{}{}}}"#,
        "[".repeat(31),
        "]".repeat(31)
    );
    assert_eq!(check(&forge(&ok)), Ok(()));
    let deep = format!(
        r#"{{"exp":{exp},"x":{}{}}}"#,
        "[".repeat(32),
        "]".repeat(32)
    );
    assert_eq!(check(&forge(&deep)), malformed(Malformed::Depth));
}

#[test]
fn escapes_and_surrogate_pairs_are_decoded_before_comparing() {
    // PyJWT-style: every non-ASCII character escaped, including a surrogate pair.
    let payload = format!(
        r#"{{"iss":"https://caf\u00e9.example","aud":["x","\ud83d\ude80-api"],"exp":{},"sub":"\u0061lice"}}"#,
        NOW + 60
    );
    let policy = Validation::new()
        .issuer("https://café.example")
        .audience("🚀-api");
    let token = forge(&payload);
    assert_eq!(check_with(&token, &policy, NOW), Ok(()));
    let wrong = Validation::new()
        .issuer("https://cafe.example")
        .audience("🚀-api");
    assert_eq!(check_with(&token, &wrong, NOW), Err(Error::Issuer));
    // Escaped member names are the registered claims too.
    let escaped_name = format!(r#"{{"\u0065xp":{}}}"#, NOW - 1);
    assert_eq!(check(&forge(&escaped_name)), Err(Error::Expired));
}

#[test]
fn rejects_duplicate_registered_claims() {
    for name in ["exp", "nbf", "iat", "iss", "aud", "sub", "jti"] {
        let value = if ["exp", "nbf", "iat"].contains(&name) {
            NOW.to_string()
        } else {
            r#""v""#.to_owned()
        };
        let payload = format!(
            r#"{{"exp":{},"{name}":{value},"{name}":{value}}}"#,
            NOW + 60
        );
        let payload = if name == "exp" {
            format!(r#"{{"exp":{},"exp":{}}}"#, NOW + 60, NOW + 60)
        } else {
            payload
        };
        assert_eq!(
            check(&forge(&payload)),
            malformed(Malformed::Duplicate),
            "{name}"
        );
    }
    // Duplicates hidden behind an escape are duplicates.
    let payload = format!(r#"{{"exp":{0},"\u0065xp":{0}}}"#, NOW + 60);
    assert_eq!(check(&forge(&payload)), malformed(Malformed::Duplicate));
    // Unregistered duplicates are the caller's business.
    let payload = format!(r#"{{"exp":{},"x":1,"x":2}}"#, NOW + 60);
    assert_eq!(check(&forge(&payload)), Ok(()));
}

#[test]
fn numeric_dates_must_be_integers_in_range() {
    for exp in [
        "1.7e9",
        "1700000060.0",
        r#""1700000060""#,
        "-1",
        "9007199254740993",
        "true",
        "null",
        "[1700000060]",
    ] {
        let payload = format!(r#"{{"exp":{exp}}}"#);
        assert_eq!(
            check(&forge(&payload)),
            malformed(Malformed::NumericDate),
            "{exp}"
        );
        // A string or float exp must never count as absent, even when exp is optional.
        let optional = Validation::new().require_exp(false);
        assert_eq!(
            check_with(&forge(&payload), &optional, NOW),
            malformed(Malformed::NumericDate),
            "{exp}"
        );
    }
    for claim in ["nbf", "iat"] {
        let payload = format!(r#"{{"exp":{},"{claim}":"0"}}"#, NOW + 60);
        assert_eq!(
            check(&forge(&payload)),
            malformed(Malformed::NumericDate),
            "{claim}"
        );
    }
    let max = r#"{"exp":9007199254740992}"#;
    assert_eq!(check(&forge(max)), Ok(()));
}

// ---- Time ----

#[test]
fn exp_is_required_by_default_and_configurable() {
    let payload = r#"{"sub":"alice"}"#;
    assert_eq!(check(&forge(payload)), Err(Error::Missing(Claim::Exp)));
    assert_eq!(
        check_with(&forge(payload), &Validation::new().require_exp(false), NOW),
        Ok(())
    );
}

#[test]
fn exp_boundaries() {
    let exp = NOW;
    let token = forge(&format!(r#"{{"exp":{exp}}}"#));
    assert_eq!(check_with(&token, &Validation::new(), exp - 1), Ok(()));
    assert_eq!(
        check_with(&token, &Validation::new(), exp),
        Err(Error::Expired)
    );
    let lenient = Validation::new().leeway(30).unwrap();
    assert_eq!(check_with(&token, &lenient, exp + 29), Ok(()));
    assert_eq!(check_with(&token, &lenient, exp + 30), Err(Error::Expired));
    assert_eq!(
        check_with(&token, &Validation::new(), u64::MAX),
        Err(Error::Expired)
    );
}

#[test]
fn nbf_boundaries() {
    let nbf = NOW;
    let token = forge(&format!(r#"{{"exp":{},"nbf":{nbf}}}"#, NOW + 600));
    assert_eq!(check_with(&token, &Validation::new(), nbf), Ok(()));
    assert_eq!(
        check_with(&token, &Validation::new(), nbf - 1),
        Err(Error::NotYetValid)
    );
    let lenient = Validation::new().leeway(30).unwrap();
    assert_eq!(check_with(&token, &lenient, nbf - 30), Ok(()));
    assert_eq!(
        check_with(&token, &lenient, nbf - 31),
        Err(Error::NotYetValid)
    );
}

#[test]
fn leeway_is_bounded() {
    assert!(Validation::new().leeway(tessera_core::MAX_LEEWAY).is_ok());
    assert_eq!(
        Validation::new()
            .leeway(tessera_core::MAX_LEEWAY + 1)
            .unwrap_err(),
        ConfigError::LeewayTooLarge
    );
    assert_eq!(
        Validation::new().leeway(u64::MAX).unwrap_err(),
        ConfigError::LeewayTooLarge
    );
}

// ---- Issuer and audience ----

#[test]
fn issuer_must_be_present_and_equal_when_configured() {
    let policy = Validation::new().issuer("https://id.example");
    let good = forge(&format!(
        r#"{{"iss":"https://id.example","exp":{}}}"#,
        NOW + 1
    ));
    let other = forge(&format!(
        r#"{{"iss":"https://id.example.evil","exp":{}}}"#,
        NOW + 1
    ));
    let absent = forge(&format!(r#"{{"exp":{}}}"#, NOW + 1));
    let wrong_type = forge(&format!(
        r#"{{"iss":["https://id.example"],"exp":{}}}"#,
        NOW + 1
    ));
    assert_eq!(check_with(&good, &policy, NOW), Ok(()));
    assert_eq!(check_with(&other, &policy, NOW), Err(Error::Issuer));
    assert_eq!(check_with(&absent, &policy, NOW), Err(Error::Issuer));
    assert_eq!(
        check_with(&wrong_type, &policy, NOW),
        malformed(Malformed::MemberType)
    );
    // Not configured: any issuer passes.
    assert_eq!(check(&other), Ok(()));
}

#[test]
fn audience_rules() {
    let policy = Validation::new().audience("api");
    let with = |aud: &str| forge(&format!(r#"{{"aud":{aud},"exp":{}}}"#, NOW + 1));
    assert_eq!(check_with(&with(r#""api""#), &policy, NOW), Ok(()));
    assert_eq!(check_with(&with(r#"["web","api"]"#), &policy, NOW), Ok(()));
    assert_eq!(
        check_with(&with(r#"["web"]"#), &policy, NOW),
        Err(Error::Audience)
    );
    assert_eq!(check_with(&with("[]"), &policy, NOW), Err(Error::Audience));
    assert_eq!(
        check_with(&with(r#""apis""#), &policy, NOW),
        Err(Error::Audience)
    );
    assert_eq!(
        check_with(&forge(&format!(r#"{{"exp":{}}}"#, NOW + 1)), &policy, NOW),
        Err(Error::Audience)
    );
    assert_eq!(
        check_with(&with(r#"["api",1]"#), &policy, NOW),
        malformed(Malformed::MemberType)
    );
    assert_eq!(
        check_with(&with("7"), &policy, NOW),
        malformed(Malformed::MemberType)
    );
    // RFC 7519 §4.1.3: a token with `aud` is refused by a verifier that names none.
    assert_eq!(check(&with(r#""api""#)), Err(Error::Audience));
}

// ---- Output ----

#[derive(Deserialize)]
struct Custom<'a> {
    sub: &'a str,
    scope: &'a str,
    #[serde(default)]
    admin: bool,
}

#[test]
fn callers_get_registered_claims_and_their_own_type() {
    let payload = format!(
        r#"{{"sub":"alice","jti":"j-1","iat":5,"scope":"orders:write","admin":true,"exp":{}}}"#,
        NOW + 1
    );
    let token = forge(&payload);
    let mut buf = [0u8; 512];
    let ring = ring(Algorithm::Hs256);
    let v = ring
        .verify(&token, &Validation::new(), NOW, &mut buf)
        .unwrap();
    assert_eq!(v.claims.iat, Some(5));
    assert_eq!(v.claims.jti.unwrap().as_str(), Some("j-1"));
    let custom: Custom<'_> = v.deserialize().unwrap();
    assert_eq!(
        (custom.sub, custom.scope, custom.admin),
        ("alice", "orders:write", true)
    );

    let escaped = forge(&format!(
        r#"{{"sub":"\u00e9","scope":"a\/b","exp":{}}}"#,
        NOW + 1
    ));
    let v = ring
        .verify(&escaped, &Validation::new(), NOW, &mut buf)
        .unwrap();
    assert_eq!(v.deserialize::<Custom<'_>>().err(), Some(Error::Claims));
    #[derive(Deserialize)]
    struct Owning<'a> {
        #[serde(borrow)]
        sub: std::borrow::Cow<'a, str>,
        #[serde(borrow)]
        scope: std::borrow::Cow<'a, str>,
    }
    let mut scratch = [0u8; 64];
    let owning: Owning<'_> = v.deserialize_with(&mut scratch).unwrap();
    assert_eq!((&*owning.sub, &*owning.scope), ("é", "a/b"));
}

#[test]
fn small_verify_buffer_is_an_error() {
    let token = forge(&valid_payload());
    let mut buf = [0u8; 8];
    assert_eq!(
        ring(Algorithm::Hs256)
            .verify(&token, &Validation::new(), NOW, &mut buf)
            .unwrap_err(),
        Error::BufferTooSmall
    );
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    sub: &'a str,
    exp: u64,
    note: &'a str,
}

#[test]
fn signing_into_a_small_buffer_is_an_error_never_a_panic() {
    let key = Key::hs256(SECRET).unwrap().with_kid("k1").unwrap();
    let claims = Claims {
        sub: "alice",
        exp: NOW + 60,
        note: "quote \" and é",
    };
    let mut big = [0u8; 512];
    let token = key.sign(&claims, &mut big).unwrap().to_owned();
    for len in 0..token.len() {
        let mut out = vec![0u8; len];
        assert_eq!(
            key.sign(&claims, &mut out).unwrap_err(),
            Error::BufferTooSmall,
            "len {len}"
        );
    }
    let mut exact = vec![0u8; token.len()];
    assert_eq!(key.sign(&claims, &mut exact).unwrap(), token);
    let mut buf = [0u8; 512];
    let ring = KeyRing::<1>::single(key).unwrap();
    let v = ring
        .verify(&token, &Validation::new().typ("JWT"), NOW, &mut buf)
        .unwrap();
    assert_eq!(v.header.kid.unwrap().as_str(), Some("k1"));
    assert!(v.payload().contains(r#"quote \" and é"#));
}
