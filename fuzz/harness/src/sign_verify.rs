//! `sign_verify`: arbitrary claims signed by tessera under every algorithm must
//! verify (in tessera and in `jsonwebtoken`) and read back unchanged, and any
//! single-byte change to the token must make it invalid.

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::{Algorithm, Key, KeyRing, Validation};

use crate::alloc_count::no_alloc;
use crate::fixtures::{peer_alg, secret};

/// Largest NumericDate tessera accepts.
const MAX_DATE: u64 = 1 << 53;
/// Nesting of the free-form `x` claim stays well below tessera's limit of 32.
const MAX_EXTRA_DEPTH: usize = 8;
/// Bytes that may replace a token byte: the alphabet, the separator, and the
/// usual non-canonical suspects.
const TAMPER: &[u8] = b"AQgw_-.=+/ \n09azAZ";

/// Free-form JSON for an unregistered claim.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Extra {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer, negative included.
    Int(i64),
    /// Any Unicode text: quotes, backslashes, controls, astral planes.
    Text(String),
    /// An array.
    List(Vec<Extra>),
    /// An object (keys unique by construction).
    Object(BTreeMap<String, Extra>),
}

fn extra(u: &mut Unstructured<'_>, depth: usize) -> arbitrary::Result<Extra> {
    let kinds = if depth >= MAX_EXTRA_DEPTH { 3 } else { 5 };
    Ok(match u.int_in_range(0..=kinds)? {
        0 => Extra::Null,
        1 => Extra::Bool(u.arbitrary()?),
        2 => Extra::Int(u.arbitrary()?),
        3 => Extra::Text(u.arbitrary()?),
        4 => Extra::List((0..u.int_in_range(0..=6)?).map(|_| extra(u, depth + 1)).collect::<Result<_, _>>()?),
        _ => {
            let mut map = BTreeMap::new();
            for _ in 0..u.int_in_range(0..=4)? {
                map.insert(u.arbitrary()?, extra(u, depth + 1)?);
            }
            Extra::Object(map)
        }
    })
}

/// `aud`: one string or several.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Aud {
    /// A single audience.
    One(String),
    /// Several audiences (at least one).
    Many(Vec<String>),
}

/// Claims a caller might sign; `None` members are left out, as RFC 7519 wants.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FuzzClaims {
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<Aud>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<Extra>,
}

impl<'a> Arbitrary<'a> for FuzzClaims {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let exp = u.int_in_range(1..=MAX_DATE)?;
        let nbf = if u.arbitrary()? { Some(u.int_in_range(0..=exp - 1)?) } else { None };
        let iat = if u.arbitrary()? { Some(u.int_in_range(0..=MAX_DATE)?) } else { None };
        let aud = match u.int_in_range(0..=2)? {
            0 => None,
            1 => Some(Aud::One(u.arbitrary()?)),
            _ => {
                let first: String = u.arbitrary()?;
                let rest: Vec<String> = u.arbitrary()?;
                Some(Aud::Many(std::iter::once(first).chain(rest).collect()))
            }
        };
        let x = if u.arbitrary()? { Some(extra(u, 1)?) } else { None };
        Ok(FuzzClaims { exp, nbf, iat, iss: u.arbitrary()?, sub: u.arbitrary()?, jti: u.arbitrary()?, aud, x })
    }
}

/// The registered string claims, read back through `Verified::deserialize_with`.
#[derive(Debug, Deserialize, PartialEq)]
struct ReadBack {
    exp: u64,
    nbf: Option<u64>,
    iat: Option<u64>,
    iss: Option<String>,
    sub: Option<String>,
    jti: Option<String>,
}

/// A change to one byte of a token.
#[derive(Clone, Copy, Debug, Arbitrary)]
enum Tamper {
    Replace { at: u16, with: u8 },
    Insert { at: u16, byte: u8 },
    Remove { at: u16 },
}

impl Tamper {
    fn apply(self, token: &str) -> String {
        let mut bytes = token.as_bytes().to_vec();
        let pick = |b: u8| TAMPER[usize::from(b) % TAMPER.len()];
        match self {
            Tamper::Replace { at, with } => {
                let i = usize::from(at) % bytes.len();
                let mut new = pick(with);
                if new == bytes[i] {
                    new = if new == b'A' { b'B' } else { b'A' };
                }
                bytes[i] = new;
            }
            Tamper::Insert { at, byte } => bytes.insert(usize::from(at) % (bytes.len() + 1), pick(byte)),
            Tamper::Remove { at } => {
                bytes.remove(usize::from(at) % bytes.len());
            }
        }
        String::from_utf8(bytes).expect("ASCII stays UTF-8")
    }
}

/// The `sign_verify` target.
pub fn sign_verify(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(claims) = FuzzClaims::arbitrary(&mut u) else { return };
    let kid: Option<String> = u.arbitrary().unwrap_or_default();
    let tampers: Vec<Tamper> = u.arbitrary().unwrap_or_default();
    for alg in Algorithm::ALL {
        round_trip(&claims, alg, kid.as_deref(), &tampers);
    }
}

fn round_trip(claims: &FuzzClaims, alg: Algorithm, kid: Option<&str>, tampers: &[Tamper]) {
    let plain = Key::new(alg, secret(alg)).expect("fixture key");
    // An unacceptable kid is the caller's error, reported as such; sign without one.
    let key = match kid.map(|kid| plain.clone().with_kid(kid)) {
        Some(Ok(named)) => named,
        _ => plain,
    };
    let json_len = serde_json::to_vec(claims).expect("claims serialize").len();
    let mut out = vec![0u8; 2 * json_len + 512];
    let len = no_alloc("Key::sign", || key.sign(claims, &mut out).map(str::len))
        .unwrap_or_else(|e| panic!("{alg}: signing {claims:?} failed: {e:?}"));
    let token = String::from_utf8(out[..len].to_vec()).expect("tokens are ASCII");
    let ring = KeyRing::<1>::single(key.clone()).expect("one key");

    let now = claims.exp - 1;
    let first_aud = match &claims.aud {
        Some(Aud::One(a)) => Some(a.as_str()),
        Some(Aud::Many(a)) => a.first().map(String::as_str),
        None => None,
    };
    let mut validation = Validation::new().max_len(usize::MAX);
    if let Some(iss) = &claims.iss {
        validation = validation.issuer(iss);
    }
    if let Some(aud) = first_aud {
        validation = validation.audience(aud);
    }
    let mut buf = vec![0u8; token.len()];
    let verified = no_alloc("KeyRing::verify", || ring.verify(&token, &validation, now, &mut buf))
        .unwrap_or_else(|e| panic!("{alg}: own token refused ({e:?}): {token}"));
    let c = &verified.claims;
    assert_eq!((c.exp, c.nbf, c.iat), (Some(claims.exp), claims.nbf, claims.iat), "{token}");
    let payload: Value = serde_json::from_str(verified.payload()).expect("payload is JSON");
    assert_eq!(payload, serde_json::to_value(claims).expect("claims to Value"), "{token}");
    let mut scratch = vec![0u8; json_len];
    // Owned `String` fields allocate by design, so this call is not measured.
    let back: ReadBack = verified
        .deserialize_with(&mut scratch)
        .unwrap_or_else(|e| panic!("{alg}: deserialize_with failed ({e:?}): {}", verified.payload()));
    let expected = ReadBack {
        exp: claims.exp,
        nbf: claims.nbf,
        iat: claims.iat,
        iss: claims.iss.clone(),
        sub: claims.sub.clone(),
        jti: claims.jti.clone(),
    };
    assert_eq!(back, expected, "{token}");

    // The peer accepts it too (its own clock is off: only signature, alg and JSON).
    let mut lax = jsonwebtoken::Validation::new(peer_alg(alg));
    lax.validate_exp = false;
    lax.validate_aud = false;
    lax.required_spec_claims.clear();
    let peer = jsonwebtoken::decode::<Value>(&token, &jsonwebtoken::DecodingKey::from_secret(secret(alg)), &lax);
    assert!(peer.is_ok(), "{alg}: jsonwebtoken refuses {token}: {peer:?}");

    for tamper in tampers.iter().take(8) {
        let bad = tamper.apply(&token);
        let mut buf = vec![0u8; bad.len()];
        let res = no_alloc("KeyRing::verify", || ring.verify(&bad, &validation, now, &mut buf).map(|_| ()));
        assert!(res.is_err(), "{alg}: {tamper:?} of {token} still verifies: {bad}");
    }
}
