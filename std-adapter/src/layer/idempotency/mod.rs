//! Idempotency keys for POST and PATCH, over any [`IdempotencyStore`].
//!
//! Follows the IETF draft "The Idempotency-Key HTTP Header Field" and Stripe's
//! practice. For a POST or PATCH carrying `Idempotency-Key` (quoted `"abc"` or
//! bare `abc`, at most 255 characters):
//!
//! | situation | answer |
//! | --- | --- |
//! | first request | the inner service runs; a response below 500 is stored and returned |
//! | the inner service answers 5xx or fails | the key is released, so a retry runs again |
//! | retry after completion, same request | the stored response, with `Idempotent-Replayed: true` |
//! | same key, different request | `422` |
//! | same key, still running | `409` |
//! | store full or unavailable | `503` with `Retry-After` |
//! | key missing (unless [`IdempotencyLayer::require_key`] is off) or malformed | `400` |
//! | token without `sub` | `403` |
//!
//! Keys are scoped by the `sub` of the [`VerifiedToken`] that the authentication
//! layer put into the request (no token is `401`): two principals never share
//! a key. A request is identified by its fingerprint: method, path and query,
//! and a SHA-256 digest of the body. Rejections are `application/problem+json`.
//! Other methods pass through untouched.
//!
//! Stored from a response: its status, the representation headers
//! (`Content-Type`, `Location`, `ETag`, …; never `Set-Cookie`) and a body of up
//! to [`IdempotencyLayer::max_stored_body`] bytes.
//!
//! # The exactly-once limit
//!
//! The store is told when each request was made, in Unix milliseconds: the
//! token's `iat` × 1000, or the arrival time for a token without `iat`. A store
//! under memory pressure may evict a completed record, and then refuses (`409`)
//! any request of that key's bucket not newer than the evicted one, so a retry
//! with the *same token* is never run twice. A retry with a *new* token (a newer
//! `iat`) after its record was evicted or expired runs again. A request still
//! running when its lease ends (30 s by default) may be taken over by a retry.
//!
//! ```
//! use std::sync::Arc;
//! use axum::{routing::post, Router};
//! use tessera_std::layer::idempotency::IdempotencyLayer;
//! use tessera_std::store::IdempotencyStore;
//!
//! fn orders<St: IdempotencyStore>(store: Arc<St>) -> Router {
//!     Router::new()
//!         .route("/orders", post(|| async { "created" }))
//!         .layer(IdempotencyLayer::new(store).max_stored_body(16 * 1024))
//!     // ...and a `BearerAuthLayer` outside it, which supplies the scope.
//! }
//! ```
//!
//! [`VerifiedToken`]: crate::layer::auth::VerifiedToken
//! [`IdempotencyStore`]: crate::store::IdempotencyStore

mod key;
mod layer;
mod outcome;
mod replay;
mod service;

pub use key::{IDEMPOTENCY_KEY, MAX_KEY_LEN};
pub use layer::IdempotencyLayer;
pub use outcome::Delivery;
pub use replay::{IDEMPOTENT_REPLAYED, ORIGINAL_STATUS};
pub use service::Idempotency;
