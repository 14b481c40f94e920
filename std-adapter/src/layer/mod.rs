//! Tower layers for servers: bearer authentication and idempotency keys.
//!
//! Stack authentication outside idempotency: the idempotency layer scopes keys
//! by the verified token's `sub`, which the authentication layer puts into the
//! request extensions. Every rejection is a response (`application/problem+json`,
//! or `401` with `WWW-Authenticate`), never an opaque error.
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{routing::post, Router};
//! use tessera_std::core::{Key, KeyRing};
//! use tessera_std::layer::{auth::{BearerAuthLayer, VerifiedToken}, idempotency::IdempotencyLayer};
//! use tessera_std::store::IdempotencyStore;
//!
//! async fn create(token: VerifiedToken) -> String {
//!     format!("created for {}", token.sub().unwrap_or("nobody"))
//! }
//!
//! fn app<St: IdempotencyStore>(store: Arc<St>) -> Router {
//!     let ring = KeyRing::single(Key::hs256(&[7; 32]).unwrap()).unwrap();
//!     Router::new()
//!         .route("/orders", post(create))
//!         // Layers run outside in: the last one added runs first.
//!         .layer(IdempotencyLayer::new(store))
//!         .layer(BearerAuthLayer::new(ring).issuer("https://issuer.example"))
//! }
//! ```

pub mod auth;
pub mod idempotency;
pub(crate) mod problem;

use std::{future::Future, pin::Pin};

use http::{header, HeaderMap};

/// Whether the request announces a body over `limit` bytes (`Content-Length`),
/// so it can be refused before any of it is read.
pub(crate) fn announced_over(headers: &HeaderMap, limit: usize) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|len| len > limit as u64)
}

/// The boxed future the layers' services return.
pub type ResponseFuture<E> =
    Pin<Box<dyn Future<Output = Result<http::Response<axum::body::Body>, E>> + Send>>;
