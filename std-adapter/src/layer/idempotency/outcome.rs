//! How a claimed request ended, when its response alone cannot say.

use http::StatusCode;

use crate::layer::problem::Problem;

/// Put into a response's extensions by the inner service to say whether the
/// work may have happened. Without it, the status decides: `429` and `5xx`
/// release the key, anything else is stored.
///
/// The gateway's proxy sets it: [`Delivery::NotSent`] when the connection to
/// the upstream failed before the request left, [`Delivery::Unknown`] when the
/// request may have arrived and no complete answer came back (timeout, reset,
/// a body broken off). An axum handler that calls another service can set it
/// the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// The work provably did not happen: the key is released, a retry runs.
    NotSent,
    /// The work may have happened: this response is stored as the outcome and
    /// replayed to retries, which never run the work again.
    Unknown,
}

/// A claim whose lease ran out before it was settled.
pub(super) const ABANDONED: Problem = Problem::new(
    StatusCode::BAD_GATEWAY,
    "idempotency-outcome-unknown",
    "The request with this Idempotency-Key stopped before it finished and may have been carried out; it will not be run again under this key",
);

/// A response whose body broke off: the upstream may have acted.
pub(super) const BROKEN_RESPONSE: Problem = Problem::new(
    StatusCode::BAD_GATEWAY,
    "upstream-outcome-unknown",
    "The response broke off before it was complete; the request may have been carried out",
);

/// The inner service failed with an error instead of a response.
pub(super) const HANDLER_FAILED: Problem = Problem::new(
    StatusCode::BAD_GATEWAY,
    "upstream-outcome-unknown",
    "The request failed without an answer and may have been carried out",
);

/// What the layer decided for a request, put into every response it answers
/// (`res.extensions().get::<Outcome>()`), for metrics and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// No claim needed (another method, or no key where keys are optional).
    Pass,
    /// Claimed, run, and its response stored.
    Fresh,
    /// Claimed and run; a complete refusal (`429`, `5xx`, nothing sent), key released.
    Released,
    /// Claimed; the work may have happened with no complete answer. Stored.
    UpstreamUnknown,
    /// The stored response of an earlier run.
    Replay,
    /// The same key is running.
    InFlight,
    /// The same key's lease ran out unsettled.
    Abandoned,
    /// The same key for another request.
    Mismatch,
    /// No room for another record.
    Full,
    /// The subject holds as many live keys as its quota allows.
    Quota,
    /// Stamp outside what the store can vouch for.
    Stale,
    /// The store could not answer.
    StoreUnavailable,
    /// No `Idempotency-Key` where one is required.
    MissingKey,
    /// A malformed key, an unreadable or oversized body, a token without `sub`.
    BadRequest,
    /// No verified token reached the layer.
    Unauthorized,
    /// A method outside the seven served.
    Method,
}

impl Outcome {
    /// The label used in metrics (`tessera_requests_total{outcome=...}`).
    pub const fn name(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fresh => "fresh",
            Outcome::Released => "released",
            Outcome::UpstreamUnknown => "upstream_unknown",
            Outcome::Replay => "replay",
            Outcome::InFlight => "in_flight",
            Outcome::Abandoned => "abandoned",
            Outcome::Mismatch => "mismatch",
            Outcome::Full => "full",
            Outcome::Quota => "quota",
            Outcome::Stale => "stale",
            Outcome::StoreUnavailable => "store_unavailable",
            Outcome::MissingKey => "missing_key",
            Outcome::BadRequest => "bad_request",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Method => "method",
        }
    }
}
