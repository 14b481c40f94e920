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

mod alg;
/// Strict base64url, public only for fuzzing and property tests.
#[cfg(feature = "testing")]
pub mod b64;
#[cfg(not(feature = "testing"))]
mod b64;
mod claims;
mod de;
mod error;
pub mod json;
mod key;
#[cfg(any(feature = "paseto-local", feature = "paseto-public"))]
pub mod paseto;
mod ser;
mod sign;
mod verify;

pub use alg::Algorithm;
pub use claims::{Audience, Claims, Header};
pub use error::{Claim, ConfigError, Error, Malformed};
pub use json::JsonStr;
pub use key::{Key, KeyRing, MAX_KID_LEN};
pub use verify::{Validation, Verified, DEFAULT_MAX_LEN, MAX_LEEWAY};

/// The workspace README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct WorkspaceReadme;
#[cfg(any(test, feature = "testing"))]
pub mod conformance;
pub mod window;
