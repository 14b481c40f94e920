//! Idempotency keys for POST and PATCH, over any [`IdempotencyStore`].
//!
//! Follows the IETF draft "The Idempotency-Key HTTP Header Field" and Stripe's
//! practice. For a POST or PATCH carrying `Idempotency-Key` (quoted `"abc"` or
//! bare `abc`, at most 255 characters):
//!
//! | situation | answer |
//! | --- | --- |
//! | first request | the inner service runs; its response is stored and returned |
//! | the inner service answers `429` or `5xx` (a complete refusal) | returned as sent, `Retry-After` included; the key is released, so a retry runs again |
//! | the response says [`Delivery::NotSent`] (the work provably did not start) | returned; the key is released |
//! | the work may have happened with no complete answer: [`Delivery::Unknown`], a body that breaks off, an error instead of a response | `502`/`504` problem; stored, so every retry gets it too |
//! | a response body over [`IdempotencyLayer::max_stored_body`] | the first client gets it whole; retries get `502` `response-not-stored` with `Tessera-Original-Status` |
//! | retry after completion, same request | the stored response, with `Idempotent-Replayed: true` |
//! | same key, different request | `422` |
//! | same key, still running | `409` |
//! | same key, its lease ran out unsettled (the process died) | `502` `idempotency-outcome-unknown`, with `Idempotent-Replayed: true`, until the TTL |
//! | the subject already holds its quota of live keys ([`StoreConfig::max_keys_per_scope`]) | `429` with `Retry-After` (when its earliest record ends); nothing runs |
//! | store full | `503` with `Retry-After` (when a record in the way ends, if the store can tell); nothing runs |
//! | store unavailable | `503` with `Retry-After` ([`IdempotencyLayer::retry_after`]); nothing runs |
//! | key missing (unless [`IdempotencyLayer::require_key`] is off) or malformed | `400` |
//! | token without `sub` | `403` |
//! | a method other than `GET HEAD OPTIONS POST PUT PATCH DELETE` (case-sensitive: `post` is not `POST`) | `501`; never reaches the inner service |
//!
//! # Cancellation
//!
//! Once a key is claimed, the request runs in a spawned task that owns the
//! ticket: a client that disconnects (its future dropped) does not cancel it,
//! and the outcome is stored or the key released as above. A store that cannot
//! take the outcome is retried until the lease ends; a claim still unsettled
//! then (the process was killed) is abandoned, never run again in its TTL.
//!
//! Keys are scoped by the `sub` of the [`VerifiedToken`] that the authentication
//! layer put into the request (no token is `401`), or by any other [`Scope`]
//! ([`IdempotencyLayer::scope`]: a tenant claim, an mTLS identity): two
//! principals never share a key. A request is identified by its fingerprint: method, path and query,
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
//! `iat`) after its record was evicted or expired runs again.
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
//! [`StoreConfig::max_keys_per_scope`]: crate::store::StoreConfig::max_keys_per_scope

mod key;
mod layer;
mod outcome;
mod replay;
mod scope;
mod service;

pub use key::{IDEMPOTENCY_KEY, MAX_KEY_LEN};
pub use layer::IdempotencyLayer;
pub use outcome::{Delivery, Outcome};
pub use replay::{IDEMPOTENT_REPLAYED, ORIGINAL_STATUS};
pub use scope::{NoScope, Scope, Subject};
pub use service::Idempotency;
