//! A tiny upstream for the gateway demo: answers every request with `201` and
//! a JSON echo carrying a running count, so a replay is easy to tell from a
//! second run.
//!
//! ```text
//! cargo run -p tessera-std --example echo_upstream -- 127.0.0.1:9000
//! ```

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    http::StatusCode,
    Json, Router,
};
use serde_json::{json, Value};

async fn echo(
    State(count): State<Arc<AtomicU64>>,
    req: Request<Body>,
) -> (StatusCode, Json<Value>) {
    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, 1024 * 1024).await.unwrap_or_default();
    let echo = json!({
        "request": n,
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "body": String::from_utf8_lossy(&body),
    });
    (StatusCode::CREATED, Json(echo))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("echo upstream on http://{}", listener.local_addr()?);
    let app = Router::new()
        .fallback(echo)
        .with_state(Arc::new(AtomicU64::new(0)));
    axum::serve(listener, app).await
}
