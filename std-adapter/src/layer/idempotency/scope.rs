//! Whose keys a request uses: the principal that [`IdempotencyLayer`] scopes
//! idempotency keys by, so two principals never share a key.
//!
//! The default, [`Subject`], is the `sub` of the [`VerifiedToken`] that
//! [`BearerAuthLayer`] put into the request. Any [`Scope`] can replace it
//! ([`IdempotencyLayer::scope`]): a closure over the request head reading a
//! tenant claim, or an mTLS peer identity that the TLS acceptor put into the
//! request extensions.
//!
//! ```
//! use std::sync::Arc;
//! use http::request::Parts;
//! use tessera_std::layer::{auth::VerifiedToken, idempotency::{IdempotencyLayer, NoScope}};
//! use tessera_std::store::memory::MemoryStore;
//!
//! /// What a TLS acceptor inserts for a verified client certificate.
//! #[derive(Clone)]
//! struct PeerIdentity(String);
//!
//! let store = Arc::new(MemoryStore::new(1024, Default::default()).unwrap());
//! // Keys shared by a tenant: the `tenant` claim of the verified token.
//! let by_tenant = IdempotencyLayer::new(Arc::clone(&store)).scope(|req: &Parts| {
//!     #[derive(serde::Deserialize)]
//!     struct Tenant { tenant: String }
//!     let token = req.extensions.get::<VerifiedToken>().ok_or(NoScope::Unauthenticated)?;
//!     let claims: Tenant = token.claims().map_err(|_| NoScope::Forbidden)?;
//!     Ok(claims.tenant.into_bytes())
//! });
//! // Keys per mTLS client, no bearer token needed.
//! let by_peer = IdempotencyLayer::new(store).scope(|req: &Parts| {
//!     let peer = req.extensions.get::<PeerIdentity>().ok_or(NoScope::Unauthenticated)?;
//!     Ok(peer.0.clone().into_bytes())
//! });
//! # drop((by_tenant, by_peer));
//! ```
//!
//! [`IdempotencyLayer`]: super::IdempotencyLayer
//! [`IdempotencyLayer::scope`]: super::IdempotencyLayer::scope
//! [`BearerAuthLayer`]: crate::layer::auth::BearerAuthLayer

use http::request::Parts;

use crate::layer::auth::VerifiedToken;

/// Why a request has no scope; nothing runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoScope {
    /// No verified principal at all: `401` with `WWW-Authenticate: Bearer`.
    Unauthenticated,
    /// A principal without what the scope needs (a token without `sub`):
    /// `403` `token-without-subject`.
    Forbidden,
}

/// Picks the scope of a request from its head (headers and extensions).
pub trait Scope: Send + Sync + 'static {
    /// The scope's bytes, or why there is none.
    fn scope(&self, req: &Parts) -> Result<Vec<u8>, NoScope>;
}

impl<F> Scope for F
where
    F: Fn(&Parts) -> Result<Vec<u8>, NoScope> + Send + Sync + 'static,
{
    fn scope(&self, req: &Parts) -> Result<Vec<u8>, NoScope> {
        self(req)
    }
}

/// The default scope: the verified token's `sub`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Subject;

impl Scope for Subject {
    fn scope(&self, req: &Parts) -> Result<Vec<u8>, NoScope> {
        let token = req
            .extensions
            .get::<VerifiedToken>()
            .ok_or(NoScope::Unauthenticated)?;
        let sub = token.sub().ok_or(NoScope::Forbidden)?;
        Ok(sub.as_bytes().to_vec())
    }
}
