//! Bearer authentication (RFC 6750) with the core verifier.
//!
//! [`BearerAuthLayer`] reads `Authorization: Bearer <token>`, verifies it with
//! a key ring (or one PASETO v4 key, [`BearerAuthLayer::with_keys`]) and a claim policy (issuer, audience, leeway, maximum length), and
//! puts the verified claims into the request extensions as a [`VerifiedToken`],
//! which is also an axum extractor.
//!
//! A request without credentials gets `401` with `WWW-Authenticate: Bearer`; a
//! token that fails any check gets `401` with
//! `WWW-Authenticate: Bearer error="invalid_token"`. Neither says which check
//! failed: the reason is logged (`tracing`, at debug level) for the operator, not
//! handed to whoever probes the server.
//!
//! ```
//! use axum::{routing::get, Router};
//! use tessera_std::core::{Key, KeyRing};
//! use tessera_std::layer::auth::{BearerAuthLayer, VerifiedToken};
//!
//! async fn whoami(token: VerifiedToken) -> String {
//!     token.sub().unwrap_or("anonymous").to_owned()
//! }
//!
//! let key = Key::hs256(b"an example secret of 32 bytes!!!").unwrap();
//! let layer = BearerAuthLayer::new(KeyRing::single(key).unwrap())
//!     .issuer("https://issuer.example")
//!     .audience("orders")
//!     .leeway(5)
//!     .unwrap();
//! let app: Router = Router::new().route("/me", get(whoami)).layer(layer);
//! # drop(app);
//! ```

mod keys;
mod layer;
pub(crate) mod service;
mod token;

pub use keys::{Checked, TokenKeys};
pub use layer::BearerAuthLayer;
pub use service::BearerAuth;
pub use token::VerifiedToken;

/// Keys a layer's ring holds: enough for a rotation with overlap.
pub const MAX_KEYS: usize = 8;

/// The key ring type the layer verifies with.
pub type Ring = tessera_core::KeyRing<MAX_KEYS>;
