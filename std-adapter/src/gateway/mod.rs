//! The reverse proxy behind `tessera gateway`.
//!
//! Requests pass the [bearer layer](crate::layer::auth) first (so a bad token
//! is `401` before anything else), then the
//! [idempotency layer](crate::layer::idempotency), then the [`Proxy`] to the
//! upstream. The main listener serves no path of its own: everything goes
//! upstream. Health, readiness and metrics are on a separate admin listener
//! ([`admin_router`]). Each request is logged once, as a structured `tracing`
//! event with its request id, subject and outcome.

mod metrics;
mod proxy;
mod serve;

use std::{
    hash::{BuildHasher, RandomState},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, OnceLock,
    },
    time::Instant,
};

use axum::{
    body::Body,
    extract::{Request, State},
    middleware::Next,
    response::Response,
    routing::get,
    Router,
};
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use tower::ServiceBuilder;

pub use metrics::{Metered, Metrics};
pub use proxy::{Forwarding, Peer, Proxy, Upstream, UpstreamError, REQUEST_ID, TESSERA_SUBJECT};
pub use serve::{serve, Limits};

use crate::{
    layer::{
        auth::{BearerAuthLayer, VerifiedToken},
        idempotency::{IdempotencyLayer, Outcome, IDEMPOTENT_REPLAYED},
    },
    store::IdempotencyStore,
};

/// The main listener's routes: everything through the layers to the upstream.
pub fn router<St: IdempotencyStore>(
    auth: BearerAuthLayer,
    idempotency: IdempotencyLayer<St>,
    proxy: Proxy,
    metrics: Metrics,
) -> Router {
    let proxied = ServiceBuilder::new()
        .layer(auth)
        .layer(idempotency)
        .service(proxy);
    Router::new()
        .fallback_service(proxied)
        .layer(axum::middleware::from_fn_with_state(metrics, observe))
}

/// The admin listener: `/healthz` (the process answers), `/readyz` (the store
/// answers too; `503` otherwise) and `/metrics` (Prometheus text).
pub fn admin_router<St: IdempotencyStore>(store: Arc<St>, metrics: Metrics) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || async move {
                match store.ready().await {
                    Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
                    Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}\n")),
                }
            }),
        )
        .route(
            "/metrics",
            get(move || async move {
                (
                    [(
                        http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    metrics.render(),
                )
            }),
        )
}

/// A request id the client may choose: 1–128 visible ASCII characters.
fn client_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=128).contains(&bytes.len()) && bytes.iter().all(|b| (0x21..0x7F).contains(b))
}

/// Request ids: a counter through SipHash-1-3 under random keys drawn once,
/// so ids neither repeat nor show how many requests the gateway served, with
/// no system call per request (a `getrandom` per id cost about 3% of the
/// gateway's CPU under load).
struct RequestIds {
    keys: RandomState,
    next: AtomicU64,
}

static REQUEST_IDS: OnceLock<RequestIds> = OnceLock::new();

/// A fresh request id: 128 bits in hex.
fn new_request_id() -> HeaderValue {
    let ids = REQUEST_IDS.get_or_init(|| RequestIds {
        keys: RandomState::new(),
        next: AtomicU64::new(0),
    });
    let n = ids.next.fetch_add(1, Ordering::Relaxed);
    let id =
        u128::from(ids.keys.hash_one((n, 0u8))) << 64 | u128::from(ids.keys.hash_one((n, 1u8)));
    HeaderValue::from_maybe_shared(Bytes::from(format!("{id:032x}")))
        .unwrap_or(HeaderValue::from_static("0"))
}

/// Sets the request id (upstream and response), then logs and counts the
/// request once it is answered.
async fn observe(State(metrics): State<Metrics>, mut req: Request, next: Next) -> Response<Body> {
    let start = Instant::now();
    let id = req
        .headers()
        .get(REQUEST_ID)
        .filter(|v| client_request_id(v))
        .cloned()
        .unwrap_or_else(new_request_id);
    req.headers_mut().insert(REQUEST_ID, id.clone());
    let method = req.method().clone();
    // A clone shares the parsed URI's bytes: no copy of the path.
    let uri = req.uri().clone();
    let mut res = next.run(req).await;
    let outcome = match res.extensions().get::<Outcome>() {
        Some(outcome) => outcome.name(),
        None if res.status() == StatusCode::UNAUTHORIZED => Outcome::Unauthorized.name(),
        None => Outcome::Pass.name(),
    };
    metrics.request(outcome);
    let subject = res
        .extensions()
        .get::<VerifiedToken>()
        .and_then(VerifiedToken::sub)
        .unwrap_or("");
    tracing::info!(
        request_id = id.to_str().unwrap_or(""),
        subject,
        %method,
        path = uri.path(),
        status = res.status().as_u16(),
        outcome,
        replayed = res.headers().contains_key(IDEMPOTENT_REPLAYED),
        micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    res.headers_mut().insert(REQUEST_ID, id);
    res
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_request_ids_are_distinct_and_valid() {
        let ids: std::collections::HashSet<_> = (0..10_000).map(|_| new_request_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| id.len() == 32 && client_request_id(id)));
    }
}
