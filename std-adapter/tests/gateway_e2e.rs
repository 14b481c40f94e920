//! `tessera gateway` end to end: the real binary, a counting upstream, and a
//! real `redis-server` (from `tessera_std::testkit`), all on 127.0.0.1.

mod gateway_support;
mod http_support;

use std::{sync::Arc, time::Duration};

use gateway_support::Gateway;
use http_support::{now, token, token_for, until, Upstream};
use reqwest::{header, Client, Method, Response, StatusCode};
use serde_json::{json, Value};
use tessera_std::testkit::RedisServer;

/// A request through `gw` with an optional token and key.
async fn send(
    client: &Client,
    gw: &Gateway,
    method: Method,
    path: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: &str,
) -> Response {
    let mut req = client
        .request(method, gw.url(path))
        .body(body.to_owned())
        .header("x-custom", "kept")
        // A header the `Connection` header names is hop-by-hop: not forwarded.
        .header("connection", "x-hop")
        .header("x-hop", "1");
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

async fn problem(res: Response) -> (StatusCode, String) {
    let status = res.status();
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let doc: Value = res.json().await.unwrap();
    (
        status,
        doc["type"]
            .as_str()
            .unwrap()
            .trim_start_matches("tag:tessera,2026:")
            .to_owned(),
    )
}

fn replayed(res: &Response) -> bool {
    res.headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

/// The paths every store must get right, through one gateway.
async fn branches(up: &Upstream, gw: &Gateway) {
    let client = Client::new();
    let t = token_for("alice");

    for (path, body) in [("/healthz", "ok\n"), ("/readyz", "ready\n")] {
        let res = client.get(gw.admin_url(path)).send().await.unwrap();
        assert_eq!(
            (res.status(), res.text().await.unwrap()),
            (StatusCode::OK, body.to_owned())
        );
    }

    // Authentication first: no token is 401 even without a key.
    let res = send(&client, gw, Method::POST, "/orders", None, None, "").await;
    assert_eq!(res.headers()[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(
        problem(res).await,
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    let res = send(
        &client,
        gw,
        Method::POST,
        "/orders",
        Some("a.b.c"),
        Some("k"),
        "",
    )
    .await;
    assert_eq!(
        res.headers()[header::WWW_AUTHENTICATE],
        r#"Bearer error="invalid_token""#
    );
    let res = send(&client, gw, Method::POST, "/orders", Some(&t), None, "").await;
    assert_eq!(
        problem(res).await,
        (StatusCode::BAD_REQUEST, "idempotency-key-missing".into())
    );
    let res = send(
        &client,
        gw,
        Method::POST,
        "/orders",
        Some(&t),
        Some("\"unterminated"),
        "",
    )
    .await;
    assert_eq!(
        problem(res).await,
        (StatusCode::BAD_REQUEST, "idempotency-key-malformed".into())
    );
    let no_sub = token(&json!({"exp": now() + 60}));
    let res = send(
        &client,
        gw,
        Method::PATCH,
        "/orders",
        Some(&no_sub),
        Some("k"),
        "",
    )
    .await;
    assert_eq!(
        problem(res).await,
        (StatusCode::FORBIDDEN, "token-without-subject".into())
    );
    assert_eq!(up.hits(), 0, "no refused request reached the upstream");

    // First run, then replay: the upstream count does not move.
    let first = send(
        &client,
        gw,
        Method::POST,
        "/orders?page=2",
        Some(&t),
        Some("order-1"),
        "{\"qty\":3}",
    )
    .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(!replayed(&first));
    let location = first.headers()[header::LOCATION].clone();
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["method"], "POST");
    assert_eq!(
        (first["path"].as_str(), first["query"].as_str()),
        (Some("/orders"), Some("page=2"))
    );
    assert_eq!(
        (first["body"].as_str(), first["x_custom"].as_str()),
        (Some("{\"qty\":3}"), Some("kept"))
    );
    assert_eq!(first["authorization"], true);
    assert_eq!(first["connection_named"], false);
    let retry = send(
        &client,
        gw,
        Method::POST,
        "/orders?page=2",
        Some(&t),
        Some("\"order-1\""),
        "{\"qty\":3}",
    )
    .await;
    assert!(replayed(&retry));
    assert_eq!(
        (retry.status(), &retry.headers()[header::LOCATION]),
        (StatusCode::CREATED, &location)
    );
    assert_eq!(retry.json::<Value>().await.unwrap(), first);
    assert_eq!(up.hits(), 1);

    // Same key, another request: 422.
    let res = send(
        &client,
        gw,
        Method::POST,
        "/orders?page=2",
        Some(&t),
        Some("order-1"),
        "{\"qty\":4}",
    )
    .await;
    assert_eq!(
        problem(res).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused".into()
        )
    );

    // Still running: 409, then the finished response is replayed.
    let slow = tokio::spawn({
        let (client, url, t) = (client.clone(), gw.url("/slow?ms=600"), t.clone());
        async move {
            client
                .post(url)
                .bearer_auth(t)
                .header("idempotency-key", "slow")
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    until("the slow request to reach the upstream", || up.hits() == 2).await;
    let res = send(
        &client,
        gw,
        Method::POST,
        "/slow?ms=600",
        Some(&t),
        Some("slow"),
        "",
    )
    .await;
    assert_eq!(
        problem(res).await,
        (StatusCode::CONFLICT, "idempotency-key-in-flight".into())
    );
    assert_eq!(slow.await.unwrap(), StatusCode::CREATED);
    assert!(replayed(
        &send(
            &client,
            gw,
            Method::POST,
            "/slow?ms=600",
            Some(&t),
            Some("slow"),
            ""
        )
        .await
    ));
    assert_eq!(up.hits(), 2);

    // An upstream 5xx is passed through and releases the key.
    for _ in 0..2 {
        let res = send(
            &client,
            gw,
            Method::POST,
            "/fail",
            Some(&t),
            Some("fails"),
            "",
        )
        .await;
        assert!(!replayed(&res));
        assert_eq!(
            (res.status(), res.text().await.unwrap()),
            (StatusCode::INTERNAL_SERVER_ERROR, "upstream failed".into())
        );
    }
    assert_eq!(up.hits(), 4);

    // Other methods pass without a key, each one run.
    for method in [Method::GET, Method::HEAD, Method::PUT, Method::DELETE] {
        assert_eq!(
            send(&client, gw, method.clone(), "/orders", Some(&t), None, "")
                .await
                .status(),
            StatusCode::CREATED,
            "{method}"
        );
    }
    assert_eq!(up.hits(), 8);
}

#[tokio::test]
async fn in_memory_gateway_branches() {
    let up = Upstream::start().await;
    let gw = Gateway::start(&up.url(), &["--admin-listen", "127.0.0.1:0"]);
    branches(&up, &gw).await;
    let logs = gw.logs();
    assert!(
        logs.iter().any(|l| l.contains("\"store\":\"memory\"")),
        "{logs:?}"
    );
    // Logged before the answer, but read here by another thread through a
    // pipe: it can arrive after the answer.
    until("the replay to be logged", || {
        gw.logs()
            .iter()
            .any(|l| l.contains("\"replayed\":true") && l.contains("\"status\":201"))
    })
    .await;
}

#[tokio::test]
async fn redis_gateway_branches() {
    let redis = RedisServer::start().unwrap();
    let up = Upstream::start().await;
    let gw = Gateway::start(
        &up.url(),
        &["--redis", &redis.url(), "--admin-listen", "127.0.0.1:0"],
    );
    branches(&up, &gw).await;
    assert!(gw.logs().iter().any(|l| l.contains("\"store\":\"redis\"")));
}

async fn ttl_expiry(extra: &[&str]) {
    let up = Upstream::start().await;
    let gw = Gateway::start(&up.url(), &[&["--ttl", "2"], extra].concat());
    let client = Client::new();
    let t = token_for("alice");
    assert!(!replayed(
        &send(
            &client,
            &gw,
            Method::POST,
            "/orders",
            Some(&t),
            Some("k"),
            ""
        )
        .await
    ));
    assert!(replayed(
        &send(
            &client,
            &gw,
            Method::POST,
            "/orders",
            Some(&t),
            Some("k"),
            ""
        )
        .await
    ));
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let after = send(
        &client,
        &gw,
        Method::POST,
        "/orders",
        Some(&t),
        Some("k"),
        "",
    )
    .await;
    assert!(!replayed(&after), "after the TTL the key runs again");
    assert_eq!(after.json::<Value>().await.unwrap()["n"], 2);
    assert_eq!(up.hits(), 2);
}

#[tokio::test]
async fn ttl_expiry_in_memory() {
    ttl_expiry(&[]).await;
}

#[tokio::test]
async fn ttl_expiry_on_redis() {
    let redis = RedisServer::start().unwrap();
    ttl_expiry(&["--redis", &redis.url()]).await;
}

#[tokio::test]
async fn an_unreachable_upstream_is_502_and_releases_the_key() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let gw = Gateway::start(&url, &[]);
    let client = Client::new();
    let t = token_for("alice");
    for _ in 0..2 {
        let res = send(
            &client,
            &gw,
            Method::POST,
            "/orders",
            Some(&t),
            Some("k"),
            "",
        )
        .await;
        assert!(!replayed(&res));
        assert_eq!(
            problem(res).await,
            (StatusCode::BAD_GATEWAY, "upstream-unreachable".into())
        );
    }
}

#[tokio::test]
async fn an_unavailable_redis_is_503_with_retry_after() {
    let mut redis = RedisServer::start().unwrap();
    let up = Upstream::start().await;
    let gw = Gateway::start(&up.url(), &["--redis", &redis.url()]);
    redis.kill().unwrap();
    let client = Client::new();
    let res = send(
        &client,
        &gw,
        Method::POST,
        "/orders",
        Some(&token_for("a")),
        Some("k"),
        "",
    )
    .await;
    assert_eq!(res.headers()[header::RETRY_AFTER], "1");
    assert_eq!(
        problem(res).await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "idempotency-store-unavailable".into()
        )
    );
    assert_eq!(
        up.hits(),
        0,
        "a store that cannot decide never runs the request"
    );
}

#[tokio::test]
async fn request_bodies_over_the_limit_are_413() {
    let up = Upstream::start().await;
    let gw = Gateway::start(&up.url(), &["--max-body-bytes", "100"]);
    let client = Client::new();
    let t = token_for("alice");
    for (method, key) in [(Method::PUT, None), (Method::POST, Some("k"))] {
        let res = send(
            &client,
            &gw,
            method,
            "/orders",
            Some(&t),
            key,
            &"x".repeat(101),
        )
        .await;
        assert_eq!(
            problem(res).await,
            (StatusCode::PAYLOAD_TOO_LARGE, "body-too-large".into())
        );
    }
    assert_eq!(
        send(
            &client,
            &gw,
            Method::PUT,
            "/orders",
            Some(&t),
            None,
            &"x".repeat(100)
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    assert_eq!(up.hits(), 1);
}

/// 200 concurrent identical POSTs spread over `gws`: the upstream sees exactly
/// one; every other answer is a replay or a 409.
async fn storm(up: &Upstream, gws: &[Gateway]) {
    let client = Client::new();
    let t = token_for("storm");
    let urls: Vec<String> = gws.iter().map(|g| g.url("/orders")).collect();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (client, url, t) = (client.clone(), urls[i % urls.len()].clone(), t.clone());
            tokio::spawn(async move {
                let res = client
                    .post(url)
                    .bearer_auth(t)
                    .header("idempotency-key", "storm-1")
                    .body("same body")
                    .send()
                    .await
                    .unwrap();
                (res.status(), replayed(&res))
            })
        })
        .collect();
    let (mut fresh, mut replays, mut conflicts) = (0, 0, 0);
    for task in tasks {
        match task.await.unwrap() {
            (StatusCode::CREATED, false) => fresh += 1,
            (StatusCode::CREATED, true) => replays += 1,
            (StatusCode::CONFLICT, false) => conflicts += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(
        up.hits(),
        1,
        "fresh {fresh}, replays {replays}, conflicts {conflicts}"
    );
    assert_eq!(fresh, 1);
    assert_eq!(fresh + replays + conflicts, 200);
    eprintln!("storm: 1 run, {replays} replays, {conflicts} conflicts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_storm_across_two_gateways_on_one_redis() {
    let redis = RedisServer::start().unwrap();
    let up = Upstream::start().await;
    let gws = [
        Gateway::start(&up.url(), &["--redis", &redis.url()]),
        Gateway::start(&up.url(), &["--redis", &redis.url()]),
    ];
    storm(&up, &gws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_storm_on_one_in_memory_gateway() {
    let up = Upstream::start().await;
    storm(&up, &[Gateway::start(&up.url(), &[])]).await;
}

#[tokio::test]
async fn policy_flags_reach_the_gateway() {
    let up = Upstream::start().await;
    let gw = Gateway::start(
        &up.url(),
        &[
            "--iss",
            "https://issuer.example",
            "--aud",
            "orders",
            "--leeway",
            "30",
        ],
    );
    let client = Client::new();
    let claims = |iss: &str, aud: &str, exp: u64| {
        token(&json!({"sub": "a", "iss": iss, "aud": aud, "exp": exp}))
    };
    let good = claims("https://issuer.example", "orders", now() - 10);
    let res = send(&client, &gw, Method::PUT, "/orders", Some(&good), None, "").await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "accepted inside the leeway"
    );
    for bad in [
        claims("https://evil.example", "orders", now() + 60),
        claims("https://issuer.example", "billing", now() + 60),
        claims("https://issuer.example", "orders", now() - 31),
    ] {
        let res = send(&client, &gw, Method::PUT, "/orders", Some(&bad), None, "").await;
        assert_eq!(
            res.headers()[header::WWW_AUTHENTICATE],
            r#"Bearer error="invalid_token""#
        );
    }
    assert_eq!(up.hits(), 1);
}

/// A raw upstream that reads each request, counts it, then misbehaves as its
/// path says: `/stall` answers after 3 s, `/reset` closes with RST,
/// `/broken` sends a head and part of a body, then closes.
async fn faulty_upstream() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    tokio::spawn(async move {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            let hits = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = 0;
                while !buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf[got..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got += n,
                    }
                }
                hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let head = String::from_utf8_lossy(&buf[..got]).into_owned();
                if head.contains(" /stall ") {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    let _ = conn
                        .write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok")
                        .await;
                } else if head.contains(" /reset ") {
                    // Linger 0: the drop sends RST at once (nothing blocks).
                    #[allow(deprecated)]
                    let _ = conn.set_linger(Some(Duration::ZERO));
                } else {
                    let _ = conn
                        .write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 100\r\n\r\npartial")
                        .await;
                }
            });
        }
    });
    (url, hits)
}

/// An upstream that may have acted without a complete answer: the client
/// gets 502/504, every retry gets the same with `Idempotent-Replayed`, and the
/// upstream is reached once.
async fn unknown_outcomes_are_kept(extra: &[&str]) {
    let (url, hits) = faulty_upstream().await;
    let mut flags = vec!["--upstream-timeout", "1"];
    flags.extend_from_slice(extra);
    let gw = Gateway::start(&url, &flags);
    let client = Client::new();
    let t = token_for("alice");
    for (path, status, kind) in [
        ("/stall", StatusCode::GATEWAY_TIMEOUT, "upstream-timeout"),
        (
            "/reset",
            StatusCode::BAD_GATEWAY,
            "upstream-outcome-unknown",
        ),
        (
            "/broken",
            StatusCode::BAD_GATEWAY,
            "upstream-outcome-unknown",
        ),
    ] {
        let before = hits.load(std::sync::atomic::Ordering::SeqCst);
        for attempt in 0..3 {
            let res = send(&client, &gw, Method::POST, path, Some(&t), Some(path), "").await;
            assert_eq!(replayed(&res), attempt > 0, "{path} attempt {attempt}");
            assert_eq!(problem(res).await, (status, kind.into()), "{path}");
        }
        assert_eq!(
            hits.load(std::sync::atomic::Ordering::SeqCst),
            before + 1,
            "{path}: the upstream is never reached again for this key"
        );
    }
    // Methods are case-sensitive: `post` is not POST and is never forwarded.
    let before = hits.load(std::sync::atomic::Ordering::SeqCst);
    for method in ["post", "Post"] {
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let res = send(&client, &gw, m, "/broken", Some(&t), None, "").await;
        assert_eq!(
            problem(res).await,
            (StatusCode::NOT_IMPLEMENTED, "method-not-implemented".into())
        );
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), before);
}

#[tokio::test]
async fn unknown_outcomes_are_kept_in_memory() {
    unknown_outcomes_are_kept(&[]).await;
}

#[tokio::test]
async fn unknown_outcomes_are_kept_on_redis() {
    let redis = RedisServer::start().unwrap();
    unknown_outcomes_are_kept(&["--redis", &redis.url()]).await;
}

#[tokio::test]
async fn restart_floor_now_refuses_tokens_issued_before_the_start() {
    let up = Upstream::start().await;
    let before = token(&json!({"sub": "alice", "iat": now() - 30, "exp": now() + 600}));
    let gw = Gateway::start(&up.url(), &["--restart-floor", "now"]);
    let client = Client::new();
    let old = send(
        &client,
        &gw,
        Method::POST,
        "/orders",
        Some(&before),
        Some("k"),
        "",
    )
    .await;
    assert_eq!(
        problem(old).await,
        (StatusCode::CONFLICT, "idempotency-key-stale".to_owned())
    );
    // Issued after the start (the default skew allows a stamp a little ahead).
    let after = token(&json!({"sub": "alice", "iat": now() + 2, "exp": now() + 600}));
    let new = send(
        &client,
        &gw,
        Method::POST,
        "/orders",
        Some(&after),
        Some("k"),
        "",
    )
    .await;
    assert_eq!(new.status(), StatusCode::CREATED);
    assert_eq!(up.hits(), 1);
}
