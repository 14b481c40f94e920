//! The strict reference a token is judged by, built from parts that share no
//! code with tessera: `jsonwebtoken` (base64url, header parsing, `alg`, HMAC),
//! `serde_json` (JSON syntax) and the policy below, written from the RFCs.
//!
//! # Known policy differences (where `jsonwebtoken` alone is not the reference)
//!
//! `jsonwebtoken` 9 is laxer than tessera on purpose in several places, so its
//! claim checks are switched off and these rules, which tessera documents,
//! are applied to `serde_json`'s view of the header and payload instead:
//!
//! 1. Time: `jsonwebtoken` reads the wall clock and accepts `now == exp`; here
//!    the clock is [`crate::fixtures::NOW`] and `now >= exp + leeway` expires
//!    (RFC 7519 §4.1.4 "on or after"). `nbf > now + leeway` is not yet valid.
//! 2. NumericDate: `jsonwebtoken` rounds floats and ignores unparsable values;
//!    here `exp`, `nbf`, `iat` must be JSON integers in `0..=2^53`.
//! 3. Types: `iss`, `sub`, `jti` must be strings and `aud` a string or an array
//!    of strings; `jsonwebtoken` skips members it cannot parse.
//! 4. Audience: with no audience configured a token carrying `aud` is refused
//!    (as `jsonwebtoken` does too); with one, `aud` must be or contain it.
//! 5. Duplicates: a registered claim (`exp nbf iat iss sub jti aud`) or header
//!    member (`alg kid typ crit`) appearing twice is refused; `serde_json` keeps
//!    the last one. Other duplicate members are accepted by both.
//! 6. `crit` is refused (RFC 7515 §4.1.11: no extension is understood);
//!    `jsonwebtoken` ignores it. `kid` and `typ` must be strings when present
//!    (`jsonwebtoken` reads `null` as absent).
//! 7. Nesting deeper than 32 (the top-level object is depth 1) is refused;
//!    `serde_json` allows 128.
//! 8. Header and payload must be JSON objects (`serde_json` would let a
//!    struct be read from an array).
//!
//! # Error kinds
//!
//! Where the reference refuses at the policy stage (after `jsonwebtoken`
//! accepted signature, `alg` and syntax) it collects every rule the token
//! breaks. When exactly one is broken, tessera's error must be that rule's
//! kind ([`Violation::error`]); with several, the one tessera meets first
//! depends on where they sit in the document, so only "refused" is compared.
//!
//! And where the two cannot be compared, the verdict is
//! [`Verdict::Incomparable`] and only "no panic, no allocation" is checked:
//!
//! - a number beyond `f64` range (`1e400`): valid RFC 8259 that tessera skips,
//!   but `serde_json` refuses;
//! - a header with `cty`, `jku`, `jwk`, `x5u`, `x5c`, `x5t` or `x5t#S256`:
//!   tessera ignores these, `jsonwebtoken` types them (and parses `jwk`);
//! - a token that is not UTF-8 (tessera takes `&str`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::fixtures::{peer_alg, secret, Policy, Setup, NOW};
use tessera_core::{Algorithm, Claim, Error, Malformed};

/// Deepest nesting tessera accepts, top-level object included.
const MAX_DEPTH: usize = 32;
/// Largest NumericDate tessera accepts.
const MAX_DATE: u64 = 1 << 53;
/// Registered claims that must not repeat.
const REGISTERED: [&str; 7] = ["exp", "nbf", "iat", "iss", "sub", "jti", "aud"];
/// Header members that must not repeat.
const HEADER_ONCE: [&str; 4] = ["alg", "kid", "typ", "crit"];
/// Header members `jsonwebtoken` types and tessera ignores.
const PEER_TYPED: [&str; 7] = ["cty", "jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256"];

/// The reference's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Valid; the decoded payload's members, in order.
    Accept(Members),
    /// Invalid, and why (for failure messages); the error tessera must give
    /// when the reason is the only rule broken (see "Error kinds").
    Reject(String, Option<Error>),
    /// Outside what the reference can judge (see the module docs).
    Incomparable(&'static str),
}

/// A JSON object's members in document order, duplicates kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Members(pub Vec<(String, Value)>);

impl Members {
    /// The last value of member `name` (what `serde_json` would keep).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn count(&self, name: &str) -> usize {
        self.0.iter().filter(|(n, _)| n == name).count()
    }

    fn depth(&self) -> usize {
        1 + self.0.iter().map(|(_, v)| depth(v)).max().unwrap_or(0)
    }
}

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    out.push(entry);
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(Object)
    }
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Why `serde_json` refused a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonFail {
    /// A number beyond `f64` range: valid JSON that `serde_json` cannot hold.
    OutOfRange,
    /// Anything else: not UTF-8, not RFC 8259, not an object, too deep for it.
    Invalid(String),
}

fn out_of_range(e: &serde_json::Error) -> bool {
    e.to_string().contains("number out of range")
}

/// Parses `bytes` as one JSON object with `serde_json`.
pub fn object(bytes: &[u8]) -> Result<Members, JsonFail> {
    serde_json::from_slice::<Members>(bytes).map_err(|e| {
        if out_of_range(&e) {
            JsonFail::OutOfRange
        } else {
            JsonFail::Invalid(e.to_string())
        }
    })
}

fn numeric_date(v: &Value) -> Result<u64, String> {
    match v.as_u64() {
        Some(n) if n <= MAX_DATE => Ok(n),
        _ => Err(format!("NumericDate {v}")),
    }
}

/// A rule a token breaks, and the error tessera gives for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// What is wrong (for failure messages).
    pub why: String,
    /// tessera's error when this is the only rule broken.
    pub error: Error,
}

fn violation(why: impl Into<String>, error: Error) -> Violation {
    Violation { why: why.into(), error }
}

/// The first violation's reason, and the error tessera must give if it is the
/// only one.
pub fn verdict_of(violations: &[Violation]) -> Option<(String, Option<Error>)> {
    let first = violations.first()?;
    Some((first.why.clone(), (violations.len() == 1).then_some(first.error)))
}

/// Every claim rule `c` breaks (module docs, items 1 to 5 and 7).
pub fn claim_violations(c: &Members, p: &Policy, now: u64) -> Vec<Violation> {
    let mut out = Vec::new();
    for name in REGISTERED.iter().filter(|n| c.count(n) > 1) {
        out.push(violation(format!("duplicate {name}"), Error::Malformed(Malformed::Duplicate)));
    }
    if c.depth() > MAX_DEPTH {
        out.push(violation("payload too deep", Error::Malformed(Malformed::Depth)));
    }
    // Types are checked on every occurrence: with a duplicate, tessera may
    // meet a bad first value before the second name (`serde_json` keeps the
    // last).
    for (name, v) in &c.0 {
        match name.as_str() {
            "exp" | "nbf" | "iat" => {
                if let Err(why) = numeric_date(v) {
                    out.push(violation(why, Error::Malformed(Malformed::NumericDate)));
                }
            }
            "iss" | "sub" | "jti" if !v.is_string() => {
                out.push(violation(format!("{name} not a string"), Error::Malformed(Malformed::MemberType)))
            }
            _ => {}
        }
    }
    let date = |name| c.get(name).map(numeric_date).and_then(Result::ok);
    let (exp, nbf) = (date("exp"), date("nbf"));
    let exp_broken = c.get("exp").is_some() && exp.is_none();
    let nbf_broken = c.get("nbf").is_some() && nbf.is_none();
    let audience = |v: &'_ Value| -> Result<Vec<String>, ()> {
        match v {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(a) => a.iter().map(|v| v.as_str().map(str::to_owned).ok_or(())).collect(),
            _ => Err(()),
        }
    };
    for (_, v) in c.0.iter().filter(|(name, _)| name == "aud") {
        if audience(v).is_err() {
            out.push(violation("aud not a string or an array of strings", Error::Malformed(Malformed::MemberType)));
        }
    }
    let aud = c.get("aud").map(audience).transpose();
    match exp {
        Some(exp) if now >= exp.saturating_add(p.leeway) => out.push(violation("expired", Error::Expired)),
        None if p.require_exp && !exp_broken => out.push(violation("exp missing", Error::Missing(Claim::Exp))),
        _ => {}
    }
    if !nbf_broken && nbf.is_some_and(|nbf| nbf > now.saturating_add(p.leeway)) {
        out.push(violation("not yet valid", Error::NotYetValid));
    }
    if let Some(wanted) = p.issuer {
        if c.get("iss").is_none_or(Value::is_string) && c.get("iss").and_then(Value::as_str) != Some(wanted) {
            out.push(violation("issuer", Error::Issuer));
        }
    }
    if let Ok(aud) = aud {
        match (p.audience, aud) {
            (Some(wanted), Some(aud)) if aud.iter().any(|a| a == wanted) => {}
            (None, None) => {}
            _ => out.push(violation("audience", Error::Audience)),
        }
    }
    out
}

/// The header rules tessera adds (module docs, items 5 to 7): every one `h`
/// breaks.
pub fn header_violations(h: &Members) -> Vec<Violation> {
    let mut out = Vec::new();
    for name in HEADER_ONCE.iter().filter(|n| h.count(n) > 1) {
        out.push(violation(format!("duplicate header {name}"), Error::Malformed(Malformed::Duplicate)));
    }
    if h.get("crit").is_some() {
        out.push(violation("crit", Error::Critical));
    }
    for name in ["kid", "typ"] {
        if h.get(name).is_some_and(|v| !v.is_string()) {
            out.push(violation(format!("header {name} not a string"), Error::Malformed(Malformed::MemberType)));
        }
    }
    if h.depth() > MAX_DEPTH {
        out.push(violation("header too deep", Error::Malformed(Malformed::Depth)));
    }
    out
}

fn decode_segment(segment: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(segment).ok()
}

/// Judges `token` under `setup` at [`NOW`].
pub fn judge(token: &str, setup: Setup) -> Verdict {
    let policy = setup.policy();
    if token.len() > policy.max_len {
        return Verdict::Reject("too long".into(), Some(Error::TooLong));
    }
    let mut segments = token.split('.');
    let (header_b64, payload_b64) = (segments.next().unwrap_or(""), segments.next().unwrap_or(""));
    let header = decode_segment(header_b64).map(|h| object(&h));
    match &header {
        Some(Err(JsonFail::OutOfRange)) => return Verdict::Incomparable("number beyond f64 in header"),
        Some(Ok(h)) if PEER_TYPED.iter().any(|n| h.get(n).is_some()) => {
            return Verdict::Incomparable("header member typed by jsonwebtoken only")
        }
        _ => {}
    }

    let kid = match setup {
        Setup::Single(_) => None,
        Setup::Ring => match jsonwebtoken::decode_header(token) {
            Ok(h) => h.kid,
            Err(e) => return Verdict::Reject(format!("header: {e}"), None),
        },
    };
    let Some(alg) = setup.reference_key(kid.as_deref()) else {
        return Verdict::Reject("no key for kid".into(), None);
    };
    let mut lax = jsonwebtoken::Validation::new(peer_alg(alg));
    lax.validate_exp = false;
    lax.validate_nbf = false;
    lax.validate_aud = false;
    lax.leeway = 0;
    lax.required_spec_claims.clear();
    if let Err(e) = jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(secret(alg)), &lax) {
        return match e.kind() {
            jsonwebtoken::errors::ErrorKind::Json(j) if out_of_range(j) => {
                Verdict::Incomparable("number beyond f64 in payload")
            }
            _ => Verdict::Reject(format!("jsonwebtoken: {e}"), None),
        };
    }

    // jsonwebtoken accepted signature, alg and JSON syntax: now tessera's policy.
    let Some(Ok(header)) = header else {
        return Verdict::Reject("header is not an object".into(), None);
    };
    let claims = match decode_segment(payload_b64).map(|p| object(&p)) {
        Some(Ok(c)) => c,
        Some(Err(JsonFail::OutOfRange)) => return Verdict::Incomparable("number beyond f64 in payload"),
        _ => return Verdict::Reject("payload is not an object".into(), None),
    };
    let mut broken = header_violations(&header);
    broken.extend(claim_violations(&claims, &policy, NOW));
    match verdict_of(&broken) {
        Some((why, error)) => Verdict::Reject(why, error),
        None => Verdict::Accept(claims),
    }
}

/// Signs `header.payload` (raw JSON bytes) with `alg`'s fixture key, using
/// `jsonwebtoken`'s HMAC and the `base64` crate, not tessera.
pub fn sign_parts(alg: Algorithm, header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
    sign_input(alg, &input)
}

/// Appends the signature of `signing_input` (`header.payload`, already encoded).
pub fn sign_input(alg: Algorithm, signing_input: &str) -> String {
    let key = EncodingKey::from_secret(secret(alg));
    let sig = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, peer_alg(alg)).expect("HMAC signs anything");
    format!("{signing_input}.{sig}")
}
