//! Both layers in a plain hyper + tower service, no axum router: the request
//! body is hyper's `Incoming`, the handler a `tower::service_fn`.
//!
//! ```text
//! cargo run -p tessera-std --example layers_hyper -- 127.0.0.1:8080
//! TOKEN=$(tessera mint --alg hs256 --key-file key --sub alice)
//! curl -X POST -H "Authorization: Bearer $TOKEN" -H 'Idempotency-Key: k1' http://127.0.0.1:8080/orders
//! ```
//!
//! The key file holds the HS256 secret (`tessera keygen --alg hs256 > key`);
//! set `KEY_FILE` to read another path.

use std::{convert::Infallible, sync::Arc};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::{rt::TokioIo, service::TowerToHyperService};
use tessera_std::{
    core::{Key, KeyRing},
    layer::{
        auth::{BearerAuthLayer, VerifiedToken},
        idempotency::IdempotencyLayer,
    },
    store::{memory::MemoryStore, StoreConfig},
};
use tower::ServiceBuilder;

/// The handler: sees the verified token and the buffered request body.
async fn create(req: Request<axum::body::Body>) -> Result<Response<Full<Bytes>>, Infallible> {
    let sub = req
        .extensions()
        .get::<VerifiedToken>()
        .and_then(VerifiedToken::sub)
        .unwrap_or("nobody")
        .to_owned();
    let mut res = Response::new(Full::new(Bytes::from(format!("created for {sub}\n"))));
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let secret = std::fs::read(std::env::var("KEY_FILE").unwrap_or_else(|_| "key".into()))?;
    let ring = KeyRing::single(Key::hs256(&secret)?)?;
    let store = Arc::new(MemoryStore::new(65_536, StoreConfig::default())?);
    let service = ServiceBuilder::new()
        // Outside in: authentication first, then the key check.
        .layer(BearerAuthLayer::new(ring))
        .layer(IdempotencyLayer::new(store))
        .service(tower::service_fn(create));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                eprintln!("connection: {e}");
            }
        });
    }
}

/// `Incoming` is what hyper hands the service: the layers take it as is.
#[allow(dead_code)]
fn takes_hyper_bodies(
    svc: impl tower::Service<Request<Incoming>, Response = Response<axum::body::Body>>,
) -> impl tower::Service<Request<Incoming>> {
    svc
}
