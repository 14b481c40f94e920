//! The listener: bounded connections, a deadline for request headers, and a
//! shutdown that settles every claim before it returns.

use std::{future::Future, io, time::Duration};

use axum::{body::Body, Router};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::proxy::Peer;

/// Limits of the main listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A connection that has not sent complete request headers by then is
    /// closed (slow-header clients hold nothing for long).
    pub header_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// After the shutdown signal: how long requests in flight and their
    /// claims may take to finish.
    pub shutdown_timeout: Duration,
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops
/// accepting, lets requests in flight finish and waits for `claims` (the
/// idempotency layer's tasks) to settle, within `limits.shutdown_timeout`.
/// Returns whether everything finished in time.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    claims: TaskTracker,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<bool> {
    let graceful = GracefulShutdown::new();
    let permits = std::sync::Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = std::sync::Arc::clone(&permits).acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permit else { break };
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = router
            .clone()
            .map_request(move |mut req: http::Request<Incoming>| {
                req.extensions_mut().insert(Peer(addr));
                req.map(Body::new)
            });
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    let finished = tokio::time::timeout(limits.shutdown_timeout, async {
        graceful.shutdown().await;
        claims.close();
        claims.wait().await;
    })
    .await;
    Ok(finished.is_ok())
}
