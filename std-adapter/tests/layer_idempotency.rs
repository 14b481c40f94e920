//! The idempotency layer, branch by branch, through `tower::ServiceExt::oneshot`
//! over the in-memory store and the counting upstream app.

mod http_support;

use std::{
    convert::Infallible,
    sync::{atomic::AtomicUsize, Arc},
    time::Duration,
};

use axum::body::Body;
use http::{header, Request, Response, StatusCode};
use http_support::{now, problem_type, read, request, ring, token, token_for, until, upstream_app};
use serde_json::{json, Value};
use tessera_std::{
    layer::{
        auth::BearerAuthLayer,
        idempotency::{Delivery, IdempotencyLayer, NoScope, IDEMPOTENT_REPLAYED, ORIGINAL_STATUS},
    },
    store::{memory::MemoryStore, StoreConfig},
};
use tower::{util::BoxCloneService, Layer, ServiceBuilder, ServiceExt};

type Svc = BoxCloneService<Request<Body>, Response<Body>, Infallible>;

struct Rig {
    svc: Svc,
    hits: Arc<AtomicUsize>,
}

impl Rig {
    fn with(
        layer: impl FnOnce(IdempotencyLayer<MemoryStore>) -> IdempotencyLayer<MemoryStore>,
    ) -> Self {
        let store = Arc::new(MemoryStore::new(1024, StoreConfig::default()).unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let svc = ServiceBuilder::new()
            .layer(BearerAuthLayer::new(ring()))
            .layer(layer(IdempotencyLayer::new(store)))
            .service(upstream_app(Arc::clone(&hits)));
        Rig {
            svc: BoxCloneService::new(svc),
            hits,
        }
    }

    fn new() -> Self {
        Self::with(|l| l)
    }

    fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
        read(self.svc.clone().oneshot(req).await.unwrap()).await
    }
}

fn problem(r: &(StatusCode, http::HeaderMap, String)) -> String {
    problem_type(r.0, &r.1, &r.2)
}

#[tokio::test]
async fn first_request_runs_and_a_retry_is_replayed() {
    let rig = Rig::new();
    let t = token_for("alice");
    let first = rig
        .send(request(
            "POST",
            "/orders?x=1",
            Some(&t),
            Some("k1"),
            "{\"qty\":1}",
        ))
        .await;
    assert_eq!(first.0, StatusCode::CREATED);
    assert!(!first.1.contains_key(IDEMPOTENT_REPLAYED));
    let retry = rig
        .send(request(
            "POST",
            "/orders?x=1",
            Some(&t),
            Some("\"k1\""),
            "{\"qty\":1}",
        ))
        .await;
    assert_eq!(rig.hits(), 1, "the retry must not reach the inner service");
    assert_eq!(retry.0, StatusCode::CREATED);
    assert_eq!(retry.2, first.2);
    assert_eq!(retry.1[IDEMPOTENT_REPLAYED], "true");
    assert_eq!(retry.1[header::LOCATION], "/orders/1");
    assert_eq!(retry.1[header::CONTENT_TYPE], "application/json");
    assert!(first.1.contains_key(header::SET_COOKIE) && !retry.1.contains_key(header::SET_COOKIE));
    let echo: Value = serde_json::from_str(&retry.2).unwrap();
    assert_eq!(
        (echo["n"].as_u64(), echo["body"].as_str()),
        (Some(1), Some("{\"qty\":1}"))
    );
}

#[tokio::test]
async fn same_key_for_another_request_is_422() {
    let rig = Rig::new();
    let t = token_for("alice");
    assert_eq!(
        rig.send(request("POST", "/orders?x=1", Some(&t), Some("k"), "a"))
            .await
            .0,
        StatusCode::CREATED
    );
    for (method, uri, body) in [
        ("POST", "/orders?x=1", "b"),
        ("POST", "/orders?x=2", "a"),
        ("POST", "/other?x=1", "a"),
        ("PATCH", "/orders?x=1", "a"),
    ] {
        let r = rig
            .send(request(method, uri, Some(&t), Some("k"), body))
            .await;
        assert_eq!(
            problem(&r),
            "tag:tessera,2026:idempotency-key-reused",
            "{method} {uri} {body}"
        );
        assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(rig.hits(), 1);
}

#[tokio::test]
async fn keys_are_scoped_by_subject() {
    let rig = Rig::new();
    for sub in ["alice", "bob"] {
        let r = rig
            .send(request(
                "POST",
                "/orders",
                Some(&token_for(sub)),
                Some("shared"),
                "x",
            ))
            .await;
        assert!(!r.1.contains_key(IDEMPOTENT_REPLAYED), "{sub}");
    }
    assert_eq!(rig.hits(), 2);
}

#[tokio::test]
async fn missing_and_malformed_keys_are_400_and_authentication_comes_first() {
    let rig = Rig::new();
    let t = token_for("alice");
    let missing = rig
        .send(request("POST", "/orders", Some(&t), None, ""))
        .await;
    assert_eq!(
        (missing.0, problem(&missing).as_str()),
        (
            StatusCode::BAD_REQUEST,
            "tag:tessera,2026:idempotency-key-missing"
        )
    );
    for bad in ["\"open", "two words", "\"\"", &"k".repeat(256)] {
        let r = rig
            .send(request("PATCH", "/orders", Some(&t), Some(bad), ""))
            .await;
        assert_eq!(
            (r.0, problem(&r).as_str()),
            (
                StatusCode::BAD_REQUEST,
                "tag:tessera,2026:idempotency-key-malformed"
            ),
            "{bad}"
        );
    }
    assert_eq!(
        rig.send(request(
            "POST",
            "/orders",
            Some(&t),
            Some(&"k".repeat(255)),
            ""
        ))
        .await
        .0,
        StatusCode::CREATED
    );
    let unauthenticated = rig.send(request("POST", "/orders", None, None, "")).await;
    assert_eq!(unauthenticated.0, StatusCode::UNAUTHORIZED);
    assert_eq!(rig.hits(), 1);
}

#[tokio::test]
async fn other_methods_pass_without_a_key() {
    let rig = Rig::new();
    let t = token_for("alice");
    for method in ["GET", "HEAD", "PUT", "DELETE"] {
        let r = rig
            .send(request(method, "/orders", Some(&t), None, ""))
            .await;
        assert_eq!(r.0, StatusCode::CREATED, "{method}");
    }
    assert_eq!(rig.hits(), 4);
}

#[tokio::test]
async fn optional_keys_when_configured() {
    let rig = Rig::with(|l| l.require_key(false));
    let t = token_for("alice");
    for _ in 0..2 {
        assert_eq!(
            rig.send(request("POST", "/orders", Some(&t), None, ""))
                .await
                .0,
            StatusCode::CREATED
        );
    }
    assert_eq!(rig.hits(), 2, "without a key, nothing is deduplicated");
}

#[tokio::test]
async fn a_token_without_subject_is_403() {
    let rig = Rig::new();
    let t = token(&json!({"exp": now() + 60}));
    let r = rig
        .send(request("POST", "/orders", Some(&t), Some("k"), ""))
        .await;
    assert_eq!(
        (r.0, problem(&r).as_str()),
        (
            StatusCode::FORBIDDEN,
            "tag:tessera,2026:token-without-subject"
        )
    );
    assert_eq!(
        rig.send(request("GET", "/orders", Some(&t), None, ""))
            .await
            .0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_key_still_running_is_409() {
    let rig = Rig::new();
    let t = token_for("alice");
    let slow = tokio::spawn({
        let svc = rig.svc.clone();
        let t = t.clone();
        async move {
            read(
                svc.oneshot(request("POST", "/slow?ms=400", Some(&t), Some("k"), ""))
                    .await
                    .unwrap(),
            )
            .await
        }
    });
    until("the slow request to run", || rig.hits() == 1).await;
    let r = rig
        .send(request("POST", "/slow?ms=400", Some(&t), Some("k"), ""))
        .await;
    assert_eq!(
        (r.0, problem(&r).as_str()),
        (
            StatusCode::CONFLICT,
            "tag:tessera,2026:idempotency-key-in-flight"
        )
    );
    assert_eq!(slow.await.unwrap().0, StatusCode::CREATED);
    let after = rig
        .send(request("POST", "/slow?ms=400", Some(&t), Some("k"), ""))
        .await;
    assert_eq!(after.1[IDEMPOTENT_REPLAYED], "true");
    assert_eq!(rig.hits(), 1);
}

#[tokio::test]
async fn a_5xx_releases_the_key() {
    let rig = Rig::new();
    let t = token_for("alice");
    for _ in 0..2 {
        let r = rig
            .send(request("POST", "/fail", Some(&t), Some("k"), ""))
            .await;
        assert_eq!(
            (r.0, r.2.as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, "upstream failed")
        );
        assert!(!r.1.contains_key(IDEMPOTENT_REPLAYED));
    }
    assert_eq!(rig.hits(), 2, "each retry after a 5xx runs again");
}

#[tokio::test]
async fn an_inner_error_is_an_unknown_outcome_kept_for_retries() {
    let store = Arc::new(MemoryStore::new(1024, StoreConfig::default()).unwrap());
    let layer = ServiceBuilder::new()
        .layer(BearerAuthLayer::new(ring()))
        .layer(IdempotencyLayer::new(store));
    let (mut svc, mut handle) =
        tower_test::mock::spawn_layer::<Request<Body>, Response<Body>, _>(layer);
    let t = token_for("alice");
    assert!(svc.poll_ready::<Request<Body>>().is_ready());
    let answer = tokio::spawn(svc.call(request("POST", "/orders", Some(&t), Some("k"), "x")));
    let (req, send) = handle.next_request().await.unwrap();
    assert_eq!(req.uri(), "/orders");
    send.send_error(std::io::Error::other("connection reset"));
    assert_eq!(
        answer.await.unwrap().unwrap_err().to_string(),
        "connection reset"
    );
    // The handler may have acted before failing: the retry is told so and
    // never reaches it.
    assert!(svc.poll_ready::<Request<Body>>().is_ready());
    let retry = read(
        svc.call(request("POST", "/orders", Some(&t), Some("k"), "x"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(retry.1[IDEMPOTENT_REPLAYED], "true");
    assert_eq!(
        (retry.0, problem(&retry).as_str()),
        (
            StatusCode::BAD_GATEWAY,
            "tag:tessera,2026:upstream-outcome-unknown"
        )
    );
    handle.allow(0);
    assert!(
        tokio::time::timeout(Duration::from_millis(50), handle.next_request())
            .await
            .is_err(),
        "the retry must not reach the inner service"
    );
}

#[tokio::test]
async fn a_client_that_goes_away_does_not_cancel_the_claimed_request() {
    let rig = Rig::new();
    let t = token_for("alice");
    let send = || request("POST", "/slow?ms=300", Some(&t), Some("k"), "");
    // The client gives up (drops the future) while the inner service runs.
    let gone =
        tokio::time::timeout(Duration::from_millis(50), rig.svc.clone().oneshot(send())).await;
    assert!(gone.is_err(), "the client must have given up first");
    until("the inner service to run", || rig.hits() == 1).await;
    // A retry while it runs is 409; once it finished, the stored answer.
    let during = rig.send(send()).await;
    assert_eq!(during.0, StatusCode::CONFLICT);
    let end = tokio::time::Instant::now() + Duration::from_secs(5);
    let replayed = loop {
        let r = rig.send(send()).await;
        if r.0 != StatusCode::CONFLICT {
            break r;
        }
        assert!(
            tokio::time::Instant::now() < end,
            "the key stayed in flight"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        (
            replayed.0,
            replayed.1[IDEMPOTENT_REPLAYED].to_str().unwrap()
        ),
        (StatusCode::CREATED, "true")
    );
    assert_eq!(rig.hits(), 1, "the dropped request ran once and was stored");
}

#[tokio::test]
async fn a_429_releases_the_key_and_keeps_its_retry_after() {
    let rig = Rig::new();
    let t = token_for("alice");
    for _ in 0..2 {
        let r = rig
            .send(request("POST", "/busy", Some(&t), Some("k"), ""))
            .await;
        assert_eq!((r.0, r.2.as_str()), (StatusCode::TOO_MANY_REQUESTS, "busy"));
        assert_eq!(r.1[header::RETRY_AFTER], "7");
        assert!(!r.1.contains_key(IDEMPOTENT_REPLAYED));
    }
    assert_eq!(rig.hits(), 2, "a refusal is not stored: each retry runs");
}

#[tokio::test]
async fn methods_other_than_the_seven_are_501_and_never_reach_the_service() {
    let rig = Rig::new();
    let t = token_for("alice");
    for method in ["post", "Post", "patch", "TRACE", "PROPFIND", "CONNECT"] {
        for key in [None, Some("k")] {
            let r = rig
                .send(request(method, "/orders", Some(&t), key, ""))
                .await;
            assert_eq!(
                (r.0, problem(&r).as_str()),
                (
                    StatusCode::NOT_IMPLEMENTED,
                    "tag:tessera,2026:method-not-implemented"
                ),
                "{method}"
            );
        }
    }
    assert_eq!(rig.hits(), 0);
}

#[tokio::test]
async fn extra_replay_headers_are_kept_only_when_configured() {
    for (extra, kept) in [(false, false), (true, true)] {
        let rig = Rig::with(|l| {
            if extra {
                l.replay_header(http::HeaderName::from_static("x-order-version"))
            } else {
                l
            }
        });
        let t = token_for("alice");
        let first = rig
            .send(request("POST", "/orders", Some(&t), Some("k"), ""))
            .await;
        assert_eq!(first.1["x-order-version"], "3");
        let retry = rig
            .send(request("POST", "/orders", Some(&t), Some("k"), ""))
            .await;
        assert_eq!(retry.1[IDEMPOTENT_REPLAYED], "true");
        assert_eq!(retry.1.contains_key("x-order-version"), kept);
        for name in [header::CONTENT_TYPE, header::LOCATION] {
            assert_eq!(retry.1[&name], first.1[&name]);
        }
    }
}

/// An inner service that marks its answer with `delivery` and counts calls.
fn marking(
    calls: Arc<AtomicUsize>,
    status: u16,
    delivery: Delivery,
) -> impl tower::Service<
    Request<Body>,
    Response = Response<Body>,
    Error = Infallible,
    Future = impl Send + 'static,
> + Clone
       + Send
       + 'static {
    tower::service_fn(move |_: Request<Body>| {
        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut res = Response::builder()
            .status(status)
            .body(Body::from("upstream said so"))
            .unwrap();
        res.extensions_mut().insert(delivery);
        async move { Ok::<_, Infallible>(res) }
    })
}

#[tokio::test]
async fn delivery_not_sent_releases_and_unknown_is_kept() {
    for (delivery, runs) in [(Delivery::NotSent, 2), (Delivery::Unknown, 1)] {
        let store = Arc::new(MemoryStore::new(1024, StoreConfig::default()).unwrap());
        let calls = Arc::new(AtomicUsize::new(0));
        let svc = ServiceBuilder::new()
            .layer(BearerAuthLayer::new(ring()))
            .layer(IdempotencyLayer::new(store))
            .service(marking(Arc::clone(&calls), 504, delivery));
        let t = token_for("alice");
        let mut answers = Vec::new();
        for _ in 0..2 {
            let r = read(
                svc.clone()
                    .oneshot(request("POST", "/orders", Some(&t), Some("k"), ""))
                    .await
                    .unwrap(),
            )
            .await;
            answers.push((r.0, r.1.contains_key(IDEMPOTENT_REPLAYED), r.2));
        }
        assert_eq!(
            calls.load(std::sync::atomic::Ordering::SeqCst),
            runs,
            "{delivery:?}"
        );
        let body = "upstream said so".to_owned();
        assert_eq!(
            answers[0],
            (StatusCode::GATEWAY_TIMEOUT, false, body.clone())
        );
        assert_eq!(
            answers[1],
            (StatusCode::GATEWAY_TIMEOUT, runs == 1, body),
            "{delivery:?}"
        );
    }
}

#[tokio::test]
async fn a_claim_whose_task_dies_is_abandoned_never_run_again() {
    let config = StoreConfig {
        // Long enough for the panic (and its backtrace) to be reported first.
        lease: Duration::from_secs(3),
        ..StoreConfig::default()
    };
    let store = Arc::new(MemoryStore::new(1024, config).unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let inner = tower::service_fn({
        let calls = Arc::clone(&calls);
        move |_: Request<Body>| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                panic!("the handler crashed after acting");
                #[allow(unreachable_code)]
                Ok::<Response<Body>, Infallible>(Response::new(Body::empty()))
            }
        }
    });
    let svc = ServiceBuilder::new()
        .layer(BearerAuthLayer::new(ring()))
        .layer(IdempotencyLayer::new(store))
        .service(inner);
    let t = token_for("alice");
    let send = || async {
        read(
            svc.clone()
                .oneshot(request("POST", "/orders", Some(&t), Some("k"), ""))
                .await
                .unwrap(),
        )
        .await
    };
    let first = send().await;
    assert_eq!(problem(&first), "tag:tessera,2026:idempotency-task-lost");
    assert_eq!(
        send().await.0,
        StatusCode::CONFLICT,
        "still within the lease"
    );
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let after = send().await;
    assert_eq!(
        (
            after.0,
            problem(&after).as_str(),
            after.1[IDEMPOTENT_REPLAYED].to_str().unwrap()
        ),
        (
            StatusCode::BAD_GATEWAY,
            "tag:tessera,2026:idempotency-outcome-unknown",
            "true"
        )
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn request_body_over_the_limit_is_413() {
    let rig = Rig::with(|l| l.max_request_bytes(16));
    let t = token_for("alice");
    let r = rig
        .send(request(
            "POST",
            "/orders",
            Some(&t),
            Some("k"),
            &"x".repeat(17),
        ))
        .await;
    assert_eq!(
        (r.0, problem(&r).as_str()),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "tag:tessera,2026:body-too-large"
        )
    );
    assert_eq!(
        rig.send(request(
            "POST",
            "/orders",
            Some(&t),
            Some("k"),
            &"x".repeat(16)
        ))
        .await
        .0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_response_too_large_to_store_reaches_the_client_and_retries_get_its_status() {
    let rig = Rig::with(|l| l.max_stored_body(1024));
    let t = token_for("alice");
    let first = rig
        .send(request("POST", "/big?kib=8", Some(&t), Some("k"), ""))
        .await;
    assert_eq!((first.0, first.2.len()), (StatusCode::OK, 8 * 1024));
    let retry = rig
        .send(request("POST", "/big?kib=8", Some(&t), Some("k"), ""))
        .await;
    assert_eq!(retry.1[IDEMPOTENT_REPLAYED], "true");
    assert_eq!(retry.0, StatusCode::BAD_GATEWAY);
    assert_eq!(problem(&retry), "tag:tessera,2026:response-not-stored");
    assert_eq!(retry.1[ORIGINAL_STATUS], "200");
    assert_eq!(rig.hits(), 1);
}

#[tokio::test]
async fn a_stamp_far_in_the_future_is_refused() {
    let rig = Rig::new();
    // `iat` is the store stamp; more than the allowed skew (60 s) ahead is refused.
    let t = token(&json!({"sub": "alice", "iat": now() + 3600, "exp": now() + 7200}));
    let r = rig
        .send(request("POST", "/orders", Some(&t), Some("k"), ""))
        .await;
    assert_eq!(
        (r.0, problem(&r).as_str()),
        (
            StatusCode::CONFLICT,
            "tag:tessera,2026:idempotency-key-stale"
        )
    );
    assert_eq!(rig.hits(), 0);
}

#[tokio::test]
async fn a_full_store_is_503_with_retry_after_and_nothing_runs_twice() {
    // 1024 records; every request carries the same token, so the same stamp,
    // and no completed record may be evicted: some bucket fills up first.
    // The layer's own 1.5 s is only for a store that cannot tell.
    let rig = Rig::with(|l| l.retry_after(Duration::from_millis(1500)));
    let t = token_for("alice");
    let mut full = None;
    for i in 0..1100 {
        let r = rig
            .send(request(
                "POST",
                "/orders",
                Some(&t),
                Some(&format!("key-{i}")),
                "",
            ))
            .await;
        if r.0 == StatusCode::SERVICE_UNAVAILABLE {
            full = Some((i, r));
            break;
        }
        assert_eq!(r.0, StatusCode::CREATED);
    }
    let (i, r) = full.expect("a 1024-record store must refuse within 1100 keys");
    assert_eq!(problem(&r), "tag:tessera,2026:idempotency-store-full");
    // The records in the way completed just now and end after the 24 h TTL.
    let after: u64 = r.1[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((86_300..=86_402).contains(&after), "Retry-After {after}");
    assert_eq!(rig.hits(), i, "the refused request did not run");
    // Earlier keys are still replayed, not run again.
    let again = rig
        .send(request("POST", "/orders", Some(&t), Some("key-0"), ""))
        .await;
    assert_eq!(
        (again.0, again.1.get(IDEMPOTENT_REPLAYED).is_some()),
        (StatusCode::CREATED, true)
    );
    assert_eq!(rig.hits(), i);
}

#[tokio::test]
async fn a_response_body_that_breaks_off_is_502_and_kept_as_an_unknown_outcome() {
    let store = Arc::new(MemoryStore::new(1024, StoreConfig::default()).unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let inner = tower::service_fn({
        let calls = Arc::clone(&calls);
        move |_: Request<Body>| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let chunks: [Result<&'static str, std::io::Error>; 2] =
                [Ok("partial"), Err(std::io::Error::other("reset"))];
            let res = Response::builder()
                .status(201)
                .body(Body::from_stream(futures_util::stream::iter(chunks)))
                .unwrap();
            async move { Ok::<_, Infallible>(res) }
        }
    });
    let svc = ServiceBuilder::new()
        .layer(BearerAuthLayer::new(ring()))
        .layer(IdempotencyLayer::new(store))
        .service(inner);
    let t = token_for("alice");
    for attempt in 0..2 {
        let r = read(
            svc.clone()
                .oneshot(request("POST", "/orders", Some(&t), Some("k"), ""))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (r.0, problem(&r).as_str()),
            (
                StatusCode::BAD_GATEWAY,
                "tag:tessera,2026:upstream-outcome-unknown"
            )
        );
        assert_eq!(r.1.contains_key(IDEMPOTENT_REPLAYED), attempt == 1);
    }
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the handler may have acted: a broken response is never run again"
    );
}

#[tokio::test]
async fn a_tenant_claim_scope_shares_keys_within_a_tenant_only() {
    let rig = Rig::with(|l| {
        l.scope(|req: &http::request::Parts| {
            let token = req
                .extensions
                .get::<tessera_std::layer::auth::VerifiedToken>()
                .ok_or(NoScope::Unauthenticated)?;
            let claims: Value = token.claims().map_err(|_| NoScope::Forbidden)?;
            let tenant = claims["tenant"].as_str().ok_or(NoScope::Forbidden)?;
            Ok(tenant.as_bytes().to_vec())
        })
    });
    let of = |sub: &str, tenant: &str| {
        token(&json!({"sub": sub, "tenant": tenant, "iat": now(), "exp": now() + 3600}))
    };
    let send = |t: String| rig.send(request("POST", "/orders", Some(&t), Some("k"), "{}"));
    let first = send(of("alice", "acme")).await;
    assert_eq!(first.0, StatusCode::CREATED);
    // Bob of the same tenant gets Alice's response; Carol of another runs.
    let bob = send(of("bob", "acme")).await;
    assert_eq!(bob.0, StatusCode::CREATED);
    assert_eq!(bob.1[IDEMPOTENT_REPLAYED], "true");
    let carol = send(of("carol", "globex")).await;
    assert!(!carol.1.contains_key(IDEMPOTENT_REPLAYED));
    assert_eq!(rig.hits(), 2);
    // No tenant claim: 403, nothing runs.
    let none = send(token_for("dave")).await;
    assert_eq!(
        (none.0, problem(&none)),
        (
            StatusCode::FORBIDDEN,
            "tag:tessera,2026:token-without-subject".into()
        )
    );
    assert_eq!(rig.hits(), 2);
}

/// What a TLS acceptor would insert for a verified client certificate.
#[derive(Clone)]
struct PeerIdentity(&'static str);

#[tokio::test]
async fn an_mtls_identity_scope_needs_no_token_and_any_request_body() {
    use http_body_util::Full;
    let store = Arc::new(MemoryStore::new(1024, StoreConfig::default()).unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let svc = IdempotencyLayer::new(store)
        .scope(|req: &http::request::Parts| {
            let peer = req
                .extensions
                .get::<PeerIdentity>()
                .ok_or(NoScope::Unauthenticated)?;
            Ok(peer.0.as_bytes().to_vec())
        })
        .layer(upstream_app(Arc::clone(&hits)));
    // The request body is `Full<Bytes>`, not axum's `Body`.
    let req = |peer: Option<&'static str>| {
        let mut req = Request::post("/orders")
            .header("idempotency-key", "k")
            .body(Full::new(bytes::Bytes::from_static(b"{}")))
            .unwrap();
        if let Some(peer) = peer {
            req.extensions_mut().insert(PeerIdentity(peer));
        }
        req
    };
    let send = |r| async { read(svc.clone().oneshot(r).await.unwrap()).await };
    assert_eq!(send(req(Some("device-1"))).await.0, StatusCode::CREATED);
    let again = send(req(Some("device-1"))).await;
    assert_eq!(&again.1[IDEMPOTENT_REPLAYED], "true");
    assert!(!send(req(Some("device-2")))
        .await
        .1
        .contains_key(IDEMPOTENT_REPLAYED));
    assert_eq!(send(req(None)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2);
}
