//! Shared by the layer, CLI and gateway tests: keys, tokens minted by the
//! `jsonwebtoken` crate (an independent implementation), a counting upstream,
//! and request helpers.
#![allow(dead_code)] // each test binary uses a different part

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    response::Response,
    Router,
};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};
use tessera_std::core::{Key, KeyRing};
use tessera_std::layer::auth::Ring;

/// The shared secret of the tests (32 bytes: the HS256 minimum).
pub const SECRET: &[u8; 32] = b"tessera-test-secret-32-bytes-ok!";

pub fn ring() -> Ring {
    KeyRing::single(Key::hs256(SECRET).unwrap()).unwrap()
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token over `claims`, signed by `jsonwebtoken` with [`SECRET`].
pub fn token(claims: &Value) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

/// A token for `sub`, issued now, valid ten minutes.
pub fn token_for(sub: &str) -> String {
    token(&json!({"sub": sub, "iat": now(), "exp": now() + 600}))
}

/// Counts requests and answers like a small orders API:
/// - `/fail`: 500;
/// - `/busy`: 429 with `Retry-After: 7`;
/// - `/slow?ms=N`: waits N ms, then like the default;
/// - `/big?kib=N`: 200 with N KiB of `x`;
/// - anything else: 201, `Location`, `Set-Cookie`, `X-Order-Version`, and a JSON
///   echo of the request with `n`, the hit count so far.
pub fn upstream_app(hits: Arc<AtomicUsize>) -> Router {
    Router::new().fallback(answer).with_state(hits)
}

async fn answer(State(hits): State<Arc<AtomicUsize>>, req: Request) -> Response {
    let n = hits.fetch_add(1, Ordering::SeqCst) + 1;
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse::<u64>().ok())
    };
    match parts.uri.path() {
        "/fail" => {
            return Response::builder()
                .status(500)
                .body(Body::from("upstream failed"))
                .unwrap()
        }
        "/busy" => {
            return Response::builder()
                .status(429)
                .header(header::RETRY_AFTER, "7")
                .body(Body::from("busy"))
                .unwrap()
        }
        "/big" => {
            return Response::new(Body::from(
                "x".repeat(param("kib").unwrap_or(1) as usize * 1024),
            ))
        }
        "/slow" => tokio::time::sleep(Duration::from_millis(param("ms").unwrap_or(200))).await,
        _ => {}
    }
    let echo = json!({
        "n": n,
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": query,
        "body": String::from_utf8_lossy(&body),
        "authorization": parts.headers.contains_key(header::AUTHORIZATION),
        "x_custom": parts.headers.get("x-custom").and_then(|v| v.to_str().ok()),
        "connection_named": parts.headers.contains_key("x-hop"),
        "host": parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()),
        "tessera_subject": parts.headers.get("tessera-subject").and_then(|v| v.to_str().ok()),
        "x_forwarded_for": parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()),
        "forwarded": parts.headers.get("forwarded").and_then(|v| v.to_str().ok()),
        "x_request_id": parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()),
    });
    Response::builder()
        .status(StatusCode::CREATED)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::LOCATION, format!("/orders/{n}"))
        .header(header::SET_COOKIE, "session=secret")
        .header("x-order-version", "3")
        .body(Body::from(echo.to_string()))
        .unwrap()
}

/// The counting upstream on a free loopback port, served until the test ends.
pub struct Upstream {
    pub addr: SocketAddr,
    pub hits: Arc<AtomicUsize>,
}

impl Upstream {
    pub async fn start() -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = upstream_app(Arc::clone(&hits));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Upstream { addr, hits }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// A request with optional bearer token and idempotency key.
pub fn request(
    method: &str,
    uri: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: &str,
) -> http::Request<Body> {
    let mut req = http::Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.body(Body::from(body.to_owned())).unwrap()
}

/// Status, headers and body text of a response.
pub async fn read(res: http::Response<Body>) -> (StatusCode, HeaderMap, String) {
    let (parts, body) = res.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    (
        parts.status,
        parts.headers,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

/// The `type` of a problem document, checking its media type and status.
pub fn problem_type(status: StatusCode, headers: &HeaderMap, body: &str) -> String {
    assert_eq!(
        headers.get(header::CONTENT_TYPE),
        Some(&HeaderValue::from_static("application/problem+json")),
        "{body}"
    );
    let doc: Value = serde_json::from_str(body).unwrap();
    assert_eq!(doc["status"], status.as_u16(), "{body}");
    doc["type"].as_str().unwrap().to_owned()
}

/// Waits until `ready` holds (polling every 10 ms), failing after 10 s.
pub async fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let end = tokio::time::Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(
            tokio::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
