//! The logic behind tessera's fuzz targets, kept in a library so that every
//! target is one line and every seed and regression input also runs under
//! plain `cargo test`.
//!
//! Each public function takes the fuzzer's bytes and panics only when a
//! property fails: a panic inside tessera, an allocation inside tessera, or a
//! disagreement with an independent reference (`jsonwebtoken`, `serde_json`,
//! `base64`, the window's reference model) or a failed round trip.

pub mod alloc_count;
mod base64url;
mod claims_json;
pub mod fixtures;
pub mod frame;
mod paseto;
mod redis_record;
pub mod reference;
pub mod seeds;
mod sign_any;
mod sign_verify;
mod verify;
pub mod window_ops;

pub use base64url::base64url;
pub use claims_json::claims_json;
pub use frame::frame;
pub use paseto::paseto;
pub use redis_record::redis_record;
pub use sign_any::sign_any;
pub use sign_verify::sign_verify;
pub use verify::{check_token, verdict, verify};
pub use window_ops::window_ops;

/// A fuzz target's entry point.
pub type Target = fn(&[u8]);

/// The fuzz targets by name.
pub const TARGETS: [(&str, Target); 9] = [
    ("verify", verify),
    ("sign_verify", sign_verify),
    ("sign_any", sign_any),
    ("claims_json", claims_json),
    ("window_ops", window_ops),
    ("base64url", base64url),
    ("paseto", paseto),
    ("frame", frame),
    ("redis_record", redis_record),
];
