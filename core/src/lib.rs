#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]

#[cfg(test)]
extern crate std;
#[cfg(test)]
#[macro_use]
extern crate alloc;

mod error;
/// JWS compact tokens with HMAC: algorithms, keys, signing, verification.
mod jws;
#[cfg(any(feature = "paseto-local", feature = "paseto-public"))]
pub mod paseto;
/// The pieces every token format shares: strict base64url and JSON, the
/// registered claims, the serde reader and the JSON writer.
mod token;

/// Strict base64url, public only for fuzzing and property tests.
#[cfg(feature = "testing")]
pub use token::b64;
pub use token::json;

pub use error::{Claim, ConfigError, Error, Malformed};
pub use json::JsonStr;
pub use jws::alg::Algorithm;
pub use jws::key::{Key, KeyRing, MAX_KID_LEN};
pub use jws::verify::{Validation, Verified, DEFAULT_MAX_LEN, MAX_LEEWAY};
pub use token::claims::{Audience, Claims, Header};

/// The workspace README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct WorkspaceReadme;
/// The store contract's conformance cases (moved under `window`).
#[cfg(any(test, feature = "testing"))]
pub use window::conformance;
pub mod window;
