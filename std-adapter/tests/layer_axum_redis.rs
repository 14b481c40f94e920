//! Both layers in an axum app over the Redis store, served on a loopback port
//! and called over HTTP, against a real `redis-server`.

mod http_support;

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{extract::State, routing::post, Json, Router};
use http_support::{ring, token_for};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tessera_std::{
    layer::{auth::BearerAuthLayer, auth::VerifiedToken, idempotency::IdempotencyLayer},
    store::redis::{RedisConfig, RedisStore},
    testkit::RedisServer,
};

async fn create(
    State(count): State<Arc<AtomicUsize>>,
    token: VerifiedToken,
    Json(order): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
    (
        StatusCode::CREATED,
        Json(json!({"id": n, "owner": token.sub(), "order": order})),
    )
}

async fn serve(redis_url: &str) -> (String, Arc<AtomicUsize>) {
    let config = RedisConfig {
        timeout: Duration::from_millis(200),
        ..RedisConfig::new(b"layer test digest secret".to_vec())
    };
    let store = Arc::new(RedisStore::connect(redis_url, config).await.unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/orders", post(create))
        .with_state(Arc::clone(&count))
        .layer(IdempotencyLayer::new(store))
        .layer(BearerAuthLayer::new(ring()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/orders", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, count)
}

#[tokio::test]
async fn axum_app_over_redis_runs_each_key_once_per_subject() {
    let redis = RedisServer::start().unwrap();
    let (url, count) = serve(&redis.url()).await;
    let client = Client::new();
    let post = |sub: &str, key: &str, qty: u32| {
        client
            .post(&url)
            .bearer_auth(token_for(sub))
            .header("idempotency-key", key)
            .json(&json!({"qty": qty}))
            .send()
    };
    let first = post("alice", "a-1", 1).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(
        (first["id"].as_u64(), first["owner"].as_str()),
        (Some(1), Some("alice"))
    );

    let retry = post("alice", "a-1", 1).await.unwrap();
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.headers()["content-type"], "application/json");
    assert_eq!(retry.json::<Value>().await.unwrap(), first);

    assert_eq!(
        post("alice", "a-1", 2).await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let bob = post("bob", "a-1", 1).await.unwrap();
    assert_eq!(bob.json::<Value>().await.unwrap()["owner"], "bob");
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_paused_redis_is_503_and_never_runs_the_handler() {
    let redis = RedisServer::start().unwrap();
    let (url, count) = serve(&redis.url()).await;
    let client = Client::new();
    redis.pause().unwrap();
    let res = client
        .post(&url)
        .bearer_auth(token_for("a"))
        .header("idempotency-key", "p")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    redis.resume().unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(count.load(Ordering::SeqCst), 0);
    let send = |key: &'static str| {
        client
            .post(&url)
            .bearer_auth(token_for("a"))
            .header("idempotency-key", key)
            .json(&json!({}))
            .send()
    };
    // The claim that timed out ran late, once Redis resumed (see STORES.md,
    // "A timed-out call runs late"): the key is held by nobody until its
    // lease ends, and still does not run.
    let res = send("p").await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(count.load(Ordering::SeqCst), 0);
    // Redis answers again: a new key runs.
    let res = send("q").await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(count.load(Ordering::SeqCst), 1);
}
