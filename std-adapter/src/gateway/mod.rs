//! The reverse proxy behind `tessera gateway`.
//!
//! Requests pass the [bearer layer](crate::layer::auth) first (so a bad token
//! is `401` before anything else), then the
//! [idempotency layer](crate::layer::idempotency), then the [`Proxy`] to the
//! upstream. `GET /healthz` is answered by the gateway itself. Each request is
//! logged once, as a structured `tracing` event.

mod proxy;

use std::{future::Future, io, time::Instant};

use axum::{
    body::Body, extract::Request, middleware::Next, response::Response, routing::get, Router,
};
use tokio::net::TcpListener;
use tower::ServiceBuilder;

pub use proxy::{Proxy, Upstream, UpstreamError};

use crate::{
    layer::{
        auth::BearerAuthLayer, idempotency::IdempotencyLayer, idempotency::IDEMPOTENT_REPLAYED,
    },
    store::IdempotencyStore,
};

/// The gateway's routes: `/healthz`, and everything else through the layers to
/// the upstream.
pub fn router<St: IdempotencyStore>(
    auth: BearerAuthLayer,
    idempotency: IdempotencyLayer<St>,
    proxy: Proxy,
) -> Router {
    let proxied = ServiceBuilder::new()
        .layer(auth)
        .layer(idempotency)
        .service(proxy);
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback_service(proxied)
        .layer(axum::middleware::from_fn(log))
}

async fn log(req: Request, next: Next) -> Response<Body> {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let res = next.run(req).await;
    tracing::info!(
        %method,
        path,
        status = res.status().as_u16(),
        replayed = res.headers().contains_key(IDEMPOTENT_REPLAYED),
        micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    res
}

/// Serves `router` on `listener` until `shutdown` resolves, then finishes the
/// requests in progress.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
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
