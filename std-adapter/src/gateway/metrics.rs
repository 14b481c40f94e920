//! Prometheus metrics: requests by outcome, upstream and store latency.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Instant,
};

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};

use crate::store::{Begin, IdempotencyStore, Request, StoreConfig, StoreError, StoredResponse};

/// The label of `tessera_requests_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// The gateway's metrics; clones share them.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    requests: Family<OutcomeLabel, Counter>,
    upstream: Histogram,
    store: Histogram,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// 0.5 ms to about 16 s, doubling.
fn buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.0005, 2.0, 16)
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<OutcomeLabel, Counter>::default();
        let upstream = Histogram::new(buckets());
        let store = Histogram::new(buckets());
        registry.register(
            "tessera_requests",
            "Requests by what the gateway decided",
            requests.clone(),
        );
        registry.register(
            "tessera_upstream_seconds",
            "Time until the upstream's response head (or failure)",
            upstream.clone(),
        );
        registry.register(
            "tessera_store_seconds",
            "Time of each idempotency store call",
            store.clone(),
        );
        Metrics {
            registry: Arc::new(Mutex::new(registry)),
            requests,
            upstream,
            store,
        }
    }
}

impl Metrics {
    /// Counts one request with `outcome`.
    pub fn request(&self, outcome: &'static str) {
        self.requests.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// The upstream latency histogram, for the proxy to observe.
    pub fn upstream(&self) -> Histogram {
        self.upstream.clone()
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }
}

/// A store whose every call is timed into `tessera_store_seconds`.
pub struct Metered<St> {
    inner: St,
    seconds: Histogram,
}

impl<St> Metered<St> {
    /// `inner`, timed into `metrics`.
    pub fn new(inner: St, metrics: &Metrics) -> Self {
        Metered {
            inner,
            seconds: metrics.store.clone(),
        }
    }
}

impl<St: IdempotencyStore> Metered<St> {
    async fn timed<T>(&self, call: impl std::future::Future<Output = T>) -> T {
        let start = Instant::now();
        let out = call.await;
        self.seconds.observe(start.elapsed().as_secs_f64());
        out
    }
}

impl<St: IdempotencyStore> IdempotencyStore for Metered<St> {
    type Ticket = St::Ticket;

    fn config(&self) -> &StoreConfig {
        self.inner.config()
    }

    async fn ready(&self) -> Result<(), StoreError> {
        self.timed(self.inner.ready()).await
    }

    async fn retry_after(
        &self,
        req: &Request<'_>,
    ) -> Result<Option<std::time::Duration>, StoreError> {
        self.inner.retry_after(req).await
    }

    async fn begin(
        &self,
        req: &Request<'_>,
    ) -> Result<Begin<StoredResponse, St::Ticket>, StoreError> {
        self.timed(self.inner.begin(req)).await
    }

    async fn complete(
        &self,
        ticket: St::Ticket,
        response: StoredResponse,
    ) -> Result<(), StoreError> {
        self.timed(self.inner.complete(ticket, response)).await
    }

    async fn abort(&self, ticket: St::Ticket) -> Result<(), StoreError> {
        self.timed(self.inner.abort(ticket)).await
    }
}
