//! `base64url`: tessera's encoder and decoder against the `base64` crate's
//! strict URL-safe, unpadded engine, through the public paths (`sign_json`
//! encodes; `verify` decodes the payload segment).
//!
//! Input: one control byte, then the body.
//! - bit 0 clear: the body is bytes to encode; tessera's header and payload
//!   segments must equal the reference encoding, and decoding them back must
//!   give the body (when it is an acceptable payload) or fail past base64.
//! - bit 0 set: the body is a payload segment (mutated by bits 1–3 towards a
//!   non-canonical form); behind a valid MAC, tessera must report
//!   `Malformed::Base64` exactly when the reference refuses to decode it.
//!
//! In both modes the body also goes straight through `tessera_core::b64`
//! (public under the `testing` feature): `decode` agrees with the reference on
//! accept/reject and bytes, `encode` and `encode_in_place` equal the reference
//! encoding, and a buffer one byte short is reported, not overrun.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tessera_core::b64::{self, B64Error};
use tessera_core::{Algorithm, Error, Key, KeyRing, Malformed, Validation};

use crate::alloc_count::no_alloc;
use crate::fixtures::{secret, NOW};
use crate::reference::sign_input;

/// The header tessera writes for the HS256 fixture key.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

fn key() -> Key {
    Key::new(Algorithm::Hs256, secret(Algorithm::Hs256)).expect("fixture key")
}

/// Accepts any payload that is a JSON object: the decoder is under test.
fn validation() -> Validation<'static> {
    Validation::new().require_exp(false).max_len(usize::MAX)
}

/// The `base64url` target.
pub fn base64url(data: &[u8]) {
    let Some((&control, body)) = data.split_first() else { return };
    direct(body);
    if control & 1 == 0 {
        encode(body);
    } else if let Ok(segment) = std::str::from_utf8(body) {
        decode(&noncanonical(segment, control >> 1));
    }
}

fn encode(body: &[u8]) {
    let key = key();
    let mut out = vec![0u8; body.len() * 4 / 3 + 256];
    let len =
        no_alloc("Key::sign_json", || key.sign_json(body, &mut out).map(str::len)).expect("buffer is large enough");
    let token = std::str::from_utf8(&out[..len]).expect("tokens are ASCII");
    let mut parts = token.split('.');
    assert_eq!(parts.next(), Some(URL_SAFE_NO_PAD.encode(HEADER).as_str()), "header of {token}");
    assert_eq!(parts.next(), Some(URL_SAFE_NO_PAD.encode(body).as_str()), "payload of {body:?}");
    let mut buf = vec![0u8; len];
    let ring = KeyRing::<1>::single(key).expect("one key");
    match no_alloc("KeyRing::verify", || ring.verify(token, &validation(), NOW, &mut buf)) {
        Ok(v) => assert_eq!(v.payload().as_bytes(), body, "round trip of {token}"),
        // An empty payload is an empty segment, which the format forbids.
        Err(Error::Malformed(Malformed::Segments)) if body.is_empty() => {}
        Err(e) => assert!(
            !matches!(e, Error::Malformed(Malformed::Base64 | Malformed::Segments)),
            "tessera cannot decode its own encoding ({e:?}): {token}"
        ),
    }
}

/// Mutates a segment towards the forms a strict decoder must refuse.
fn noncanonical(segment: &str, how: u8) -> String {
    let mut s = segment.to_owned();
    match how & 7 {
        0 => {}
        1 => s.push('='),
        2 => s.push_str("=="),
        // Flip the low bit of the last symbol: changes only padding bits when
        // the length is 4k+2 or 4k+3.
        3 => {
            if let Some(last) = s.pop() {
                let flipped = URL_SAFE_ALPHABET
                    .iter()
                    .position(|c| char::from(*c) == last)
                    .map(|i| char::from(URL_SAFE_ALPHABET[i ^ 1]))
                    .unwrap_or(last);
                s.push(flipped);
            }
        }
        4 => s = s.replace('-', "+").replace('_', "/"),
        5 => s.push('A'),
        6 => {
            let at = (0..=s.len() / 2).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
            s.insert(at, ' ');
        }
        _ => s.push_str("\r\n"),
    }
    s
}

const URL_SAFE_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn decode(segment: &str) {
    if segment.is_empty() || segment.contains('.') {
        return; // a segment-structure question, not a base64 one
    }
    let token = sign_input(Algorithm::Hs256, &format!("{}.{segment}", URL_SAFE_NO_PAD.encode(HEADER)));
    let mut buf = vec![0u8; token.len()];
    let ring = KeyRing::<1>::single(key()).expect("one key");
    let ours = no_alloc("KeyRing::verify", || ring.verify(&token, &validation(), NOW, &mut buf));
    match (URL_SAFE_NO_PAD.decode(segment), ours) {
        (Err(_), Err(Error::Malformed(Malformed::Base64))) => {}
        (Err(e), other) => {
            panic!("reference refuses {segment:?} ({e}) but tessera says {:?}", other.map(|v| v.payload()))
        }
        (Ok(_), Err(Error::Malformed(Malformed::Base64))) => panic!("tessera refuses canonical base64url {segment:?}"),
        (Ok(bytes), Ok(v)) => assert_eq!(v.payload().as_bytes(), bytes.as_slice(), "{segment:?}"),
        (Ok(_), Err(_)) => {} // decoded, then refused as JSON or UTF-8
    }
}

/// The crate-level codec against the reference, on `body` as input and as text.
fn direct(body: &[u8]) {
    let mut out = vec![0u8; body.len()];
    let ours = no_alloc("b64::decode", || b64::decode(body, &mut out).map(<[u8]>::len));
    match (URL_SAFE_NO_PAD.decode(body), ours) {
        (Ok(bytes), Ok(n)) => {
            assert_eq!(&out[..n], bytes.as_slice(), "decode {body:?}");
            assert_eq!(b64::decoded_len(body.len()), Some(n));
            if n > 0 {
                let short = no_alloc("b64::decode", || b64::decode(body, &mut out[..n - 1]).map(<[u8]>::len));
                assert_eq!(short, Err(B64Error::Full), "decode {body:?} into {} bytes", n - 1);
            }
        }
        (Err(_), Err(B64Error::Invalid)) => {}
        (reference, ours) => panic!("decode {body:?}: reference {reference:?}, tessera {ours:?}"),
    }

    let expected = URL_SAFE_NO_PAD.encode(body);
    assert_eq!(b64::encoded_len(body.len()), Some(expected.len()));
    let mut enc = vec![0u8; expected.len()];
    let n = no_alloc("b64::encode", || b64::encode(body, &mut enc)).expect("exact buffer");
    assert_eq!(&enc[..n], expected.as_bytes(), "encode {body:?}");
    let mut in_place = body.to_vec();
    in_place.resize(expected.len().max(body.len()), 0);
    let m = no_alloc("b64::encode_in_place", || b64::encode_in_place(&mut in_place, body.len())).expect("exact buffer");
    assert_eq!(&in_place[..m], expected.as_bytes(), "encode_in_place {body:?}");
    if !expected.is_empty() {
        let short = no_alloc("b64::encode", || b64::encode(body, &mut enc[..expected.len() - 1]));
        assert_eq!(short, Err(B64Error::Full), "encode {body:?} one byte short");
    }
}
