//! Token forging for tests: raw header and payload JSON, MAC'd with the `hmac` crate.
#![allow(dead_code)]

use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384, Sha512};
use tessera_core::{Algorithm, Key, KeyRing, Validation};

pub const SECRET_KEY: &[u8; 64] = SECRET;
pub const SECRET: &[u8; 64] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub const NOW: u64 = 1_700_000_000;

pub fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

pub fn mac(alg: Algorithm, secret: &[u8], input: &[u8]) -> Vec<u8> {
    match alg {
        Algorithm::Hs256 => Hmac::<Sha256>::new_from_slice(secret)
            .unwrap()
            .chain_update(input)
            .finalize()
            .into_bytes()
            .to_vec(),
        Algorithm::Hs384 => Hmac::<Sha384>::new_from_slice(secret)
            .unwrap()
            .chain_update(input)
            .finalize()
            .into_bytes()
            .to_vec(),
        Algorithm::Hs512 => Hmac::<Sha512>::new_from_slice(secret)
            .unwrap()
            .chain_update(input)
            .finalize()
            .into_bytes()
            .to_vec(),
    }
}

/// A token with exactly these header and payload bytes, correctly MAC'd with `alg`.
pub fn forge_with(alg: Algorithm, secret: &[u8], header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let sig = mac(alg, secret, input.as_bytes());
    format!("{input}.{}", b64(&sig))
}

/// An HS256 token over `payload` with the standard header.
pub fn forge(payload: &str) -> String {
    forge_with(
        Algorithm::Hs256,
        SECRET,
        r#"{"alg":"HS256","typ":"JWT"}"#,
        payload,
    )
}

pub fn ring(alg: Algorithm) -> KeyRing<1> {
    KeyRing::single(Key::new(alg, SECRET).unwrap()).unwrap()
}

pub fn valid_payload() -> String {
    format!(r#"{{"sub":"alice","exp":{},"iat":{}}}"#, NOW + 60, NOW - 1)
}

/// Verifies with the HS256 ring, strict default policy, at NOW.
pub fn check(token: &str) -> Result<(), tessera_core::Error> {
    check_with(token, &Validation::new(), NOW)
}

pub fn check_with(
    token: &str,
    validation: &Validation<'_>,
    now: u64,
) -> Result<(), tessera_core::Error> {
    let mut buf = [0u8; 8192];
    ring(Algorithm::Hs256)
        .verify(token, validation, now, &mut buf)
        .map(|_| ())
}

/// Runs a test body once per algorithm.
#[macro_export]
macro_rules! for_each_alg {
    ($($name:ident($alg:ident) $body:block)*) => {$(
        #[test]
        fn $name() {
            for $alg in tessera_core::Algorithm::ALL {
                $body
            }
        }
    )*};
}
