//! The async idempotency store contract, shared by every server backend.
//!
//! Outcomes are the core window's ([`Begin`]): `Fresh`, `Replay`, `InFlight`,
//! `Mismatch`, `Full`, `Stale`, plus a typed [`StoreError`] when the store cannot
//! decide (unreachable, slow, corrupt). A store that cannot decide never answers
//! `Fresh`: it fails closed.
//!
//! Times are milliseconds: `Request::stamp` and `Request::keep_until` are Unix
//! milliseconds, and lease, TTL and skew are durations in [`StoreConfig`].

use std::{future::Future, time::Duration};

mod clock;
pub mod memory;
#[doc(hidden)]
pub mod record_codec;
#[cfg(feature = "redis")]
pub mod redis;

pub use clock::{Clock, SystemClock};

pub use tessera_core::window::{Begin, Fingerprint, Request, TicketError};

/// A stored response: what a retry gets back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// Selected headers (name, value), in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl StoredResponse {
    /// Bytes counted against [`StoreConfig::max_response_bytes`]: the status
    /// (2), every header name and value, and the body.
    pub fn stored_size(&self) -> usize {
        let headers = self
            .headers
            .iter()
            .map(|(n, v)| n.len().saturating_add(v.len()));
        headers.fold(self.body.len().saturating_add(2), usize::saturating_add)
    }
}

/// Lease, TTL, skew and size limits shared by every store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// How long an in-flight claim may run; after it the record answers
    /// `Abandoned` (outcome unknown) until its TTL, never `Fresh`.
    pub lease: Duration,
    /// How long a completed response is replayed.
    pub ttl: Duration,
    /// How far in the future a request stamp may be.
    pub max_skew: Duration,
    /// Largest stored response (status, headers and body), in bytes.
    pub max_response_bytes: usize,
    /// Most live records (in flight or completed, unexpired) one scope may
    /// hold; a new key beyond it is answered `Begin::Quota`. `None`: no quota.
    pub max_keys_per_scope: Option<std::num::NonZeroU32>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            lease: Duration::from_secs(30),
            ttl: Duration::from_secs(24 * 3600),
            max_skew: Duration::from_secs(60),
            max_response_bytes: 64 * 1024,
            max_keys_per_scope: None,
        }
    }
}

/// Why a store could not answer. Never a reason to run the request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend is unreachable or answered with an error.
    Unavailable(String),
    /// The backend did not answer in time.
    Timeout,
    /// `complete` or `abort` by a ticket that no longer owns the record.
    Ticket(TicketError),
    /// The response is larger than `max_response_bytes`.
    TooLarge,
    /// A stored record could not be decoded.
    Corrupt,
    /// The lease or TTL is zero (below one millisecond).
    Config(tessera_core::window::WindowConfigError),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Unavailable(why) => write!(f, "store unavailable: {why}"),
            StoreError::Timeout => f.write_str("store timed out"),
            StoreError::Ticket(e) => write!(f, "ticket refused: {e}"),
            StoreError::TooLarge => f.write_str("response too large to store"),
            StoreError::Corrupt => f.write_str("stored record is corrupt"),
            StoreError::Config(e) => write!(f, "invalid store configuration: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// The async variant of [`tessera_core::window::Store`], for shared servers.
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Proof of ownership of an in-flight claim.
    type Ticket: Send + Sync + 'static;

    /// Lease, TTL, skew and size limits, so callers can check a response
    /// against `max_response_bytes` before spending the ticket on it.
    fn config(&self) -> &StoreConfig;

    /// Whether the store answers now (for readiness checks). The in-memory
    /// store always does.
    fn ready(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Ok(()) }
    }

    /// After a `Full` or `Quota` answer to `req`: how long until a record in
    /// its way ends (the scope's oldest for `Quota`), for a `Retry-After`.
    /// `None` when the store cannot tell.
    fn retry_after(
        &self,
        req: &Request<'_>,
    ) -> impl Future<Output = Result<Option<Duration>, StoreError>> + Send {
        let _ = req;
        async { Ok(None) }
    }

    /// Claims `(scope, key)` or says why not.
    fn begin(
        &self,
        req: &Request<'_>,
    ) -> impl Future<Output = Result<Begin<StoredResponse, Self::Ticket>, StoreError>> + Send;

    /// Stores the owner's response. A store that cannot answer is retried
    /// until the lease ends; after that the record answers `Abandoned`.
    fn complete(
        &self,
        ticket: Self::Ticket,
        response: StoredResponse,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Releases the key so a retry runs again: only for work that provably
    /// did not happen.
    fn abort(&self, ticket: Self::Ticket) -> impl Future<Output = Result<(), StoreError>> + Send;
}
