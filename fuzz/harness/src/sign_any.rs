//! `sign_any`: `Key::sign` over arbitrary serde data — every shape serde has
//! (bytes, chars, i128, floats, unit/newtype/tuple/struct enum variants, maps
//! with string, char and integer keys, nesting past the limit) — must either
//! refuse it with `Error::Claims` exactly when the independent rule below says
//! so, or produce a token that verifies and whose payload is what `serde_json`
//! writes for the same value. Never a panic, never an allocation.
//!
//! The rule, from `serde_json`'s view of the value: refused when `serde_json`
//! refuses it (map keys of other shapes), when a float is not finite, when it
//! nests deeper than 32, when the top-level member `exp`, `nbf` or `iat` is not
//! an integer in `0..=2^53`, `iss`, `sub` or `jti` not a string, `aud` not a
//! string or an array of strings, or when one of those names appears twice.

use arbitrary::Unstructured;
use serde::ser::{SerializeMap, SerializeSeq, SerializeStructVariant, SerializeTupleVariant};
use serde::{Serialize, Serializer};
use serde_json::Value;
use tessera_core::{Algorithm, Error, Key, KeyRing, Validation};

use crate::alloc_count::no_alloc;
use crate::fixtures::secret;

const REGISTERED: [&str; 7] = ["exp", "nbf", "iat", "iss", "sub", "jti", "aud"];
const MAX_DATE: u64 = 1 << 53;
/// Deep enough to cross the signer's limit of 32.
const MAX_NODE_DEPTH: usize = 36;

/// A serde value of any shape.
#[derive(Clone, Debug)]
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Wide(i128),
    F64(f64),
    F32(f32),
    Str(String),
    Char(char),
    Bytes(Vec<u8>),
    Seq(Vec<Node>),
    Map(Vec<(MapKey, Node)>),
    Unit,
    Newtype(Box<Node>),
    Tuple(Vec<Node>),
    Struct(Vec<Node>),
}

/// A map key: the shapes the signer writes, and one it must refuse.
#[derive(Clone, Debug)]
enum MapKey {
    Str(String),
    Char(char),
    Int(i64),
    Unit,
}

/// Field names for struct variants (serde wants `&'static str`).
const FIELDS: [&str; 4] = ["a", "exp", "b\"\\", "é"];

fn node(u: &mut Unstructured<'_>, depth: usize, name: Option<&str>) -> arbitrary::Result<Node> {
    // Registered members get plausible values half the time.
    if let Some(name) = name {
        if u.arbitrary()? {
            return Ok(match name {
                "exp" | "nbf" | "iat" => Node::UInt(u.int_in_range(0..=MAX_DATE + 1)?),
                "aud" if u.arbitrary()? => Node::Seq(
                    (0..u.int_in_range(0..=3)?)
                        .map(|_| Ok(Node::Str(u.arbitrary()?)))
                        .collect::<arbitrary::Result<_>>()?,
                ),
                _ => Node::Str(u.arbitrary()?),
            });
        }
    }
    let leaves = 11;
    let kinds = if depth >= MAX_NODE_DEPTH { leaves } else { 16 };
    let children = |u: &mut Unstructured<'_>| -> arbitrary::Result<Vec<Node>> {
        (0..u.int_in_range(0..=3)?).map(|_| node(u, depth + 1, None)).collect()
    };
    Ok(match u.int_in_range(0..=kinds)? {
        0 => Node::Null,
        1 => Node::Bool(u.arbitrary()?),
        2 => Node::Int(u.arbitrary()?),
        3 => Node::UInt(u.arbitrary()?),
        4 => Node::Wide(u.arbitrary()?),
        5 => Node::F64(u.arbitrary()?),
        6 => Node::F32(u.arbitrary()?),
        7 => Node::Str(u.arbitrary()?),
        8 => Node::Char(u.arbitrary()?),
        9 => Node::Bytes(u.arbitrary()?),
        10 => Node::Unit,
        11 => Node::Str(u.arbitrary()?),
        12 => Node::Seq(children(u)?),
        13 => Node::Map(members(u, depth + 1)?),
        14 => Node::Newtype(Box::new(node(u, depth + 1, None)?)),
        15 => Node::Tuple(children(u)?),
        _ => Node::Struct(children(u)?.into_iter().take(FIELDS.len()).collect()),
    })
}

fn members(u: &mut Unstructured<'_>, depth: usize) -> arbitrary::Result<Vec<(MapKey, Node)>> {
    let mut out = Vec::new();
    for _ in 0..u.int_in_range(0..=6)? {
        let key = match u.int_in_range(0..=9)? {
            0..=3 => MapKey::Str(REGISTERED[usize::from(u.int_in_range(0..=6u8)?)].to_owned()),
            4..=6 => MapKey::Str(u.arbitrary()?),
            7 => MapKey::Char(u.arbitrary()?),
            8 => MapKey::Int(u.arbitrary()?),
            _ if u.ratio(1, 8)? => MapKey::Unit,
            _ => MapKey::Str(u.arbitrary()?),
        };
        let name = match &key {
            MapKey::Str(s) => Some(s.clone()),
            _ => None,
        };
        out.push((key, node(u, depth, name.as_deref())?));
    }
    Ok(out)
}

impl Serialize for MapKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            MapKey::Str(v) => s.serialize_str(v),
            MapKey::Char(v) => s.serialize_char(*v),
            MapKey::Int(v) => s.serialize_i64(*v),
            MapKey::Unit => s.serialize_unit(),
        }
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_none(),
            Node::Bool(v) => s.serialize_bool(*v),
            Node::Int(v) => s.serialize_i64(*v),
            Node::UInt(v) => s.serialize_u64(*v),
            Node::Wide(v) => s.serialize_i128(*v),
            Node::F64(v) => s.serialize_f64(*v),
            Node::F32(v) => s.serialize_f32(*v),
            Node::Str(v) => s.serialize_str(v),
            Node::Char(v) => s.serialize_char(*v),
            Node::Bytes(v) => s.serialize_bytes(v),
            Node::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                items.iter().try_for_each(|i| seq.serialize_element(i))?;
                seq.end()
            }
            Node::Map(members) => map(members, s),
            Node::Unit => s.serialize_unit_variant("E", 0, "Unit"),
            Node::Newtype(v) => s.serialize_newtype_variant("E", 1, "New", v),
            Node::Tuple(items) => {
                let mut t = s.serialize_tuple_variant("E", 2, "Tuple", items.len())?;
                items.iter().try_for_each(|i| t.serialize_field(i))?;
                t.end()
            }
            Node::Struct(items) => {
                let mut t = s.serialize_struct_variant("E", 3, "Struct", items.len())?;
                items.iter().zip(FIELDS).try_for_each(|(i, f)| t.serialize_field(f, i))?;
                t.end()
            }
        }
    }
}

/// The claims: a top-level map.
#[derive(Debug)]
struct Top(Vec<(MapKey, Node)>);

impl Serialize for Top {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        map(&self.0, s)
    }
}

fn map<S: Serializer>(members: &[(MapKey, Node)], s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(members.len()))?;
    members.iter().try_for_each(|(k, v)| map.serialize_entry(k, v))?;
    map.end()
}

fn finite(n: &Node) -> bool {
    match n {
        Node::F64(v) => v.is_finite(),
        Node::F32(v) => v.is_finite(),
        Node::Seq(items) | Node::Tuple(items) | Node::Struct(items) => items.iter().all(finite),
        Node::Map(members) => members.iter().all(|(_, v)| finite(v)),
        Node::Newtype(v) => finite(v),
        _ => true,
    }
}

/// Container depth of JSON text, the top-level object being 1. Counted on the
/// text, not on a `Value`: a repeated member name drops a subtree from it.
fn depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0, false, false);
    for b in text.bytes() {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') | (false, _, b'"') => in_string = !in_string,
            (false, _, b'{' | b'[') => {
                depth += 1;
                max = max.max(depth);
            }
            (false, _, b'}' | b']') => depth -= 1,
            _ => {}
        }
    }
    max
}

/// Whether a registered member's value is one the verifier accepts.
fn registered_ok(name: &str, v: &Value) -> bool {
    match name {
        "exp" | "nbf" | "iat" => v.as_u64().is_some_and(|d| d <= MAX_DATE),
        "iss" | "sub" | "jti" => v.is_string(),
        "aud" => v.is_string() || v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        _ => true,
    }
}

/// The reference: `serde_json`'s text for the claims, or `None` when signing must fail.
fn expected(top: &Top) -> Option<Value> {
    let text = serde_json::to_string(top).ok()?;
    let value: Value = serde_json::from_str(&text).expect("serde_json reads its own output");
    let twice =
        REGISTERED.iter().any(|r| top.0.iter().filter(|(k, _)| matches!(k, MapKey::Str(s) if s == r)).count() > 1);
    let members = value.as_object().expect("a map is an object");
    let registered = members.iter().all(|(k, v)| registered_ok(k, v));
    let ok = top.0.iter().all(|(_, v)| finite(v)) && depth(&text) <= 32 && registered && !twice;
    ok.then_some(value)
}

/// The `sign_any` target.
pub fn sign_any(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(top) = members(&mut u, 1).map(Top) else { return };
    let alg = Algorithm::ALL[usize::from(u.arbitrary::<u8>().unwrap_or(0) % 3)];
    let key = Key::new(alg, secret(alg)).expect("fixture key");
    let want = expected(&top);
    let mut out = vec![0u8; 1 << 16];
    let signed = no_alloc("Key::sign", || key.sign(&top, &mut out).map(str::len));
    let len = match (signed, &want) {
        (Ok(len), Some(_)) => len,
        (Err(Error::Claims), None) => return,
        (got, _) => panic!(
            "{alg}: sign gave {got:?}, expected {}: {top:?}",
            if want.is_some() { "a token" } else { "Error::Claims" }
        ),
    };
    let want = want.expect("matched above");
    let token = std::str::from_utf8(&out[..len]).expect("tokens are ASCII");

    // The verifier's policy, set to what the claims need.
    let date = |name: &str| want.get(name).and_then(Value::as_u64);
    let now = date("nbf").unwrap_or(0);
    let mut validation = Validation::new().require_exp(false).max_len(usize::MAX);
    if let Some(iss) = want.get("iss").and_then(Value::as_str) {
        validation = validation.issuer(iss);
    }
    let aud = want.get("aud").map(|a| a.as_str().or_else(|| a.as_array().and_then(|a| a.first()?.as_str())));
    if let Some(Some(aud)) = aud {
        validation = validation.audience(aud);
    }
    let expect_err = match (date("exp"), aud) {
        (Some(exp), _) if now >= exp => Some(Error::Expired),
        (_, Some(None)) => Some(Error::Audience), // an empty `aud` array
        _ => None,
    };
    let ring = KeyRing::<1>::single(key).expect("one key");
    let mut buf = vec![0u8; token.len()];
    let verified = no_alloc("KeyRing::verify", || ring.verify(token, &validation, now, &mut buf));
    let verified = match (verified, expect_err) {
        (Ok(v), None) => v,
        (Err(e), Some(x)) if e == x => return,
        (got, x) => panic!("{alg}: own token gave {got:?}, expected {x:?}: {token}"),
    };
    let c = verified.claims;
    assert_eq!((c.exp, c.nbf, c.iat), (date("exp"), date("nbf"), date("iat")), "{token}");
    let payload: Value = serde_json::from_str(verified.payload()).expect("payload is JSON");
    assert!(same(&payload, &want), "{alg}: payload differs from serde_json's for {top:?}:\n{payload}\n{want}");
}

/// Equality, except that two floats also match when they are the same `f32`:
/// an `f32` has ties between shortest forms (`-3351708.25` prints as `.2` in
/// `serde_json`'s `ryu`, `.3` in Rust's `Debug`), both reading back exactly.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() && y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            x == y || x as f32 == y as f32
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
