//! The layer: a store and the limits, shared by every service it wraps.

use std::{sync::Arc, time::Duration};

use http::HeaderName;
use tokio_util::task::TaskTracker;
use tower_layer::Layer;

use super::{
    scope::{Scope, Subject},
    service::Idempotency,
};
use crate::store::IdempotencyStore;

/// Limits and choices of an [`IdempotencyLayer`].
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) scope: Arc<dyn Scope>,
    pub(crate) require_key: bool,
    pub(crate) max_request_bytes: usize,
    pub(crate) max_stored_body: usize,
    pub(crate) retry_after: Duration,
    pub(crate) replay_headers: Vec<HeaderName>,
}

/// Makes POST and PATCH safe to retry; see the [module docs](super).
pub struct IdempotencyLayer<St> {
    store: Arc<St>,
    settings: Arc<Settings>,
    tasks: TaskTracker,
}

impl<St> Clone for IdempotencyLayer<St> {
    fn clone(&self) -> Self {
        IdempotencyLayer {
            store: Arc::clone(&self.store),
            settings: Arc::clone(&self.settings),
            tasks: self.tasks.clone(),
        }
    }
}

impl<St: IdempotencyStore> IdempotencyLayer<St> {
    /// A layer over `store`: keys required, request bodies up to 1 MiB, stored
    /// response bodies up to 56 KiB (the default store limit of 64 KiB less
    /// room for headers), `Retry-After: 1` on a `503`.
    pub fn new(store: Arc<St>) -> Self {
        let settings = Settings {
            scope: Arc::new(Subject),
            require_key: true,
            max_request_bytes: 1024 * 1024,
            max_stored_body: 56 * 1024,
            retry_after: Duration::from_secs(1),
            replay_headers: Vec::new(),
        };
        IdempotencyLayer {
            store,
            settings: Arc::new(settings),
            tasks: TaskTracker::new(),
        }
    }

    /// The tasks that carry claimed requests to their end. On shutdown, stop
    /// taking requests, then `close()` and `wait()` on it so that every claim
    /// is settled before the process exits.
    pub fn tasks(&self) -> TaskTracker {
        self.tasks.clone()
    }

    /// Scopes keys by `scope` instead of the verified token's `sub`; see
    /// [`Scope`](super::Scope).
    pub fn scope(mut self, scope: impl Scope) -> Self {
        Arc::make_mut(&mut self.settings).scope = Arc::new(scope);
        self
    }

    /// Whether a POST or PATCH without `Idempotency-Key` is refused with `400`
    /// (default) or passed through without protection.
    pub fn require_key(mut self, required: bool) -> Self {
        Arc::make_mut(&mut self.settings).require_key = required;
        self
    }

    /// Largest request body read for the fingerprint; larger ones get `413`.
    pub fn max_request_bytes(mut self, bytes: usize) -> Self {
        Arc::make_mut(&mut self.settings).max_request_bytes = bytes;
        self
    }

    /// Largest response body stored for replay (the store's
    /// `max_response_bytes`, which also counts headers, caps it too). A larger
    /// response still reaches the first client in full; the key is completed
    /// as a `502` `response-not-stored` record naming the original status, so
    /// retries learn it ran and never run it again.
    pub fn max_stored_body(mut self, bytes: usize) -> Self {
        Arc::make_mut(&mut self.settings).max_stored_body = bytes;
        self
    }

    /// Also store and replay this response header (beyond `Content-Type`,
    /// `Location`, `ETag`, `Last-Modified`, `Cache-Control` and the other
    /// representation headers, which always are).
    pub fn replay_header(mut self, name: HeaderName) -> Self {
        Arc::make_mut(&mut self.settings).replay_headers.push(name);
        self
    }

    /// The `Retry-After` sent with a `503` when the store is unavailable, or
    /// full and cannot tell when a record ends (rounded up to whole seconds).
    pub fn retry_after(mut self, after: Duration) -> Self {
        Arc::make_mut(&mut self.settings).retry_after = after;
        self
    }
}

impl<S, St> Layer<S> for IdempotencyLayer<St> {
    type Service = Idempotency<S, St>;

    fn layer(&self, inner: S) -> Self::Service {
        Idempotency::new(
            inner,
            Arc::clone(&self.store),
            Arc::clone(&self.settings),
            self.tasks.clone(),
        )
    }
}
