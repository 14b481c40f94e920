//! `verify`: arbitrary bytes as a token, differential against [`crate::reference`].
//!
//! Input: one control byte, then the body.
//! - bits 0–1 pick the [`Setup`] (three single-key setups, or the kid ring);
//! - bit 2 clear: the body is the token itself (must be UTF-8);
//! - bit 2 set: the body is `header JSON 0xFF payload JSON` (or just the
//!   payload, with a standard header), signed by the reference signer with the
//!   key that bits 3–4 pick, so the JSON parsers are reached behind a valid MAC.

use serde_json::Value;
use tessera_core::{JsonStr, Verified};

use crate::alloc_count::no_alloc;
use crate::fixtures::{Setup, BUF_LEN, NOW};
use crate::reference::{judge, sign_parts, Verdict};

/// Control bit: the body is JSON to sign, not a token.
pub const SIGNED: u8 = 1 << 2;
/// Separates the header JSON from the payload JSON in a signed body.
pub const SEPARATOR: u8 = 0xFF;

/// The standard header for a signing key, as tessera's signer writes it.
pub fn standard_header(alg: tessera_core::Algorithm, kid: Option<&str>) -> String {
    match kid {
        Some(kid) => format!(r#"{{"alg":"{alg}","kid":"{kid}","typ":"JWT"}}"#),
        None => format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
    }
}

/// The `verify` target.
pub fn verify(data: &[u8]) {
    let _ = verdict(data);
}

/// Runs `verify` on `data` and returns the reference's verdict (`None` when the
/// input is not a token at all), for tests that pin a seed's meaning.
pub fn verdict(data: &[u8]) -> Option<Verdict> {
    let (&control, body) = data.split_first()?;
    let setup = Setup::from_control(control);
    if control & SIGNED == 0 {
        return std::str::from_utf8(body).ok().map(|token| check_token(token, setup));
    }
    let (alg, kid) = setup.signing_key(control >> 3);
    let token = match body.iter().position(|b| *b == SEPARATOR) {
        Some(at) => sign_parts(alg, &body[..at], &body[at + 1..]),
        None => sign_parts(alg, standard_header(alg, kid).as_bytes(), body),
    };
    Some(check_token(&token, setup))
}

/// Verifies `token` with tessera (asserting no allocation) and with the
/// reference, and asserts they agree; returns the reference's verdict.
pub fn check_token(token: &str, setup: Setup) -> Verdict {
    let mut buf = [0u8; BUF_LEN];
    let validation = setup.policy().validation();
    let ours = no_alloc("KeyRing::verify", || setup.ring().verify(token, &validation, NOW, &mut buf));
    let verdict = judge(token, setup);
    match (&verdict, &ours) {
        (Verdict::Accept(claims), Ok(v)) => same_claims(claims, v, token),
        (Verdict::Reject(why, Some(expected)), Err(e)) => {
            assert_eq!(e, expected, "tessera's error for the one rule broken ({why}): {token:?}")
        }
        (Verdict::Reject(_, None), Err(_)) | (Verdict::Incomparable(_), _) => {}
        (Verdict::Accept(_), Err(e)) => panic!("tessera rejects ({e:?}) what the reference accepts: {token:?}"),
        (Verdict::Reject(why, _), Ok(_)) => panic!("tessera accepts what the reference rejects ({why}): {token:?}"),
    }
    verdict
}

fn decoded(s: JsonStr<'_>) -> String {
    let mut buf = [0u8; BUF_LEN];
    no_alloc("JsonStr::decode_into", || s.decode_into(&mut buf).map(str::len))
        .map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
        .expect("a verified string decodes")
}

/// The registered claims tessera hands out equal `serde_json`'s reading.
fn same_claims(reference: &crate::reference::Members, v: &Verified<'_>, token: &str) {
    let date = |name| reference.get(name).and_then(Value::as_u64);
    let text = |name| reference.get(name).and_then(Value::as_str).map(str::to_owned);
    let c = &v.claims;
    assert_eq!((c.exp, c.nbf, c.iat), (date("exp"), date("nbf"), date("iat")), "dates of {token:?}");
    assert_eq!(c.iss.map(decoded), text("iss"), "iss of {token:?}");
    assert_eq!(c.sub.map(decoded), text("sub"), "sub of {token:?}");
    assert_eq!(c.jti.map(decoded), text("jti"), "jti of {token:?}");
    let parsed: Value = serde_json::from_str(v.payload()).expect("a verified payload is JSON");
    let members: serde_json::Map<_, _> = reference.0.iter().cloned().collect();
    assert_eq!(parsed, Value::Object(members), "payload of {token:?}");
}
