//! Both layers on an axum router, keys scoped by a `tenant` claim instead of
//! the token's `sub`, so every user of a tenant shares its keys.
//!
//! ```text
//! cargo run -p tessera-std --example layers_axum -- 127.0.0.1:8080
//! TOKEN=$(tessera mint --alg hs256 --key-file key --sub alice --claim tenant=acme)
//! curl -X POST -H "Authorization: Bearer $TOKEN" -H 'Idempotency-Key: k1' http://127.0.0.1:8080/orders
//! ```
//!
//! The key file holds the HS256 secret (`tessera keygen --alg hs256 > key`);
//! set `KEY_FILE` to read another path.

use std::sync::Arc;

use axum::{http::request::Parts, routing::post, Router};
use tessera_std::{
    core::{Key, KeyRing},
    layer::{
        auth::{BearerAuthLayer, VerifiedToken},
        idempotency::{IdempotencyLayer, NoScope},
    },
    store::{memory::MemoryStore, StoreConfig},
};

async fn create(token: VerifiedToken) -> (axum::http::StatusCode, String) {
    let sub = token.sub().unwrap_or("nobody").to_owned();
    (
        axum::http::StatusCode::CREATED,
        format!("created by {sub}\n"),
    )
}

/// The scope: the verified token's `tenant` claim.
fn tenant(req: &Parts) -> Result<Vec<u8>, NoScope> {
    #[derive(serde::Deserialize)]
    struct Claims {
        tenant: String,
    }
    let token = req
        .extensions
        .get::<VerifiedToken>()
        .ok_or(NoScope::Unauthenticated)?;
    let claims: Claims = token.claims().map_err(|_| NoScope::Forbidden)?;
    Ok(claims.tenant.into_bytes())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let secret = std::fs::read(std::env::var("KEY_FILE").unwrap_or_else(|_| "key".into()))?;
    let ring = KeyRing::single(Key::hs256(&secret)?)?;
    let store = Arc::new(MemoryStore::new(65_536, StoreConfig::default())?);
    let app = Router::new()
        .route("/orders", post(create))
        // Layers run outside in: the last one added runs first.
        .layer(IdempotencyLayer::new(store).scope(tenant))
        .layer(BearerAuthLayer::new(ring));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
