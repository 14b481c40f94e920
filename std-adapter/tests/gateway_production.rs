//! What an operator needs from `tessera gateway`: bounded slow clients, a
//! clean SIGTERM, readiness and metrics on an admin listener, and headers the
//! upstream can trust. Real binary, real upstream, real `redis-server`.

mod gateway_support;
mod http_support;

use std::{
    process::Command,
    time::{Duration, Instant},
};

use gateway_support::Gateway;
use http_support::{token_for, until, Upstream};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use tessera_std::testkit::RedisServer;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Reads until the peer closes or `limit` passes; returns what was read and
/// whether it closed.
async fn read_until_closed(conn: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let end = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(end, conn.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into(), false),
        }
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let up = Upstream::start().await;
    let gw = Gateway::start(&up.url(), &["--header-timeout", "1"]);
    let mut conns = Vec::new();
    for _ in 0..20 {
        let mut c = TcpStream::connect(gw.addr).await.unwrap();
        c.write_all(b"POST /orders HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        conns.push(c);
    }
    let start = Instant::now();
    for c in &mut conns {
        let (_, closed) = read_until_closed(c, Duration::from_secs(5)).await;
        assert!(closed, "a slow-header connection stayed open");
    }
    assert!(start.elapsed() < Duration::from_secs(4));
    // The gateway still serves others.
    let res = Client::new()
        .get(gw.url("/orders"))
        .bearer_auth(token_for("a"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(up.hits(), 1);
}

#[tokio::test]
async fn a_body_announced_too_large_is_413_before_100_continue() {
    let up = Upstream::start().await;
    let gw = Gateway::start(&up.url(), &["--max-body-bytes", "1000"]);
    let t = token_for("a");
    for (method, key) in [("POST", "Idempotency-Key: k\r\n"), ("PUT", "")] {
        let mut c = TcpStream::connect(gw.addr).await.unwrap();
        let head = format!(
            "{method} /orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\n{key}\
             Content-Length: 5000000\r\nExpect: 100-continue\r\n\r\n"
        );
        c.write_all(head.as_bytes()).await.unwrap();
        let (answer, _) = read_until_closed(&mut c, Duration::from_secs(2)).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{method}: {answer}");
        assert!(!answer.contains("100 Continue"), "{method}: {answer}");
    }
    assert_eq!(up.hits(), 0);
}

#[tokio::test]
async fn sigterm_settles_claims_in_flight_then_exits() {
    let redis = RedisServer::start().unwrap();
    let up = Upstream::start().await;
    let mut gw = Gateway::start(&up.url(), &["--redis", &redis.url()]);
    let client = Client::new();
    let t = token_for("a");
    let slow = tokio::spawn({
        let (client, url, t) = (client.clone(), gw.url("/slow?ms=800"), t.clone());
        async move {
            client
                .post(url)
                .bearer_auth(t)
                .header("idempotency-key", "k")
                .send()
                .await
                .map(|r| r.status())
        }
    });
    until("the request to reach the upstream", || up.hits() == 1).await;
    let pid = gw.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    assert_eq!(slow.await.unwrap().unwrap(), StatusCode::CREATED);
    let status = tokio::task::spawn_blocking(move || gw.wait_with_logs());
    let (status, logs) = tokio::time::timeout(Duration::from_secs(10), status)
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(logs.iter().any(|l| l.contains("shutting down")), "{logs:?}");
    assert!(logs.iter().any(|l| l.contains("\"stopped\"")), "{logs:?}");
    // The claim was completed before exit: another gateway replays it.
    let other = Gateway::start(&up.url(), &["--redis", &redis.url()]);
    let res = client
        .post(other.url("/slow?ms=800"))
        .bearer_auth(&t)
        .header("idempotency-key", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(up.hits(), 1);
}

/// The admin listener's `/metrics` text.
async fn metrics(client: &Client, gw: &Gateway) -> String {
    let res = client.get(gw.admin_url("/metrics")).send().await.unwrap();
    res.text().await.unwrap()
}

/// The value of `tessera_requests_total{outcome="<outcome>"}`, 0 if absent.
fn requests(metrics: &str, outcome: &str) -> u64 {
    let prefix = format!("tessera_requests_total{{outcome=\"{outcome}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn metrics_count_outcomes_and_readiness_follows_the_store() {
    let redis = RedisServer::start().unwrap();
    let up = Upstream::start().await;
    let gw = Gateway::start(
        &up.url(),
        &["--redis", &redis.url(), "--admin-listen", "127.0.0.1:0"],
    );
    let client = Client::new();
    let t = token_for("alice");
    let post = |key: &'static str| {
        client
            .post(gw.url("/orders"))
            .bearer_auth(&t)
            .header("idempotency-key", key)
            .send()
    };
    for key in ["a", "a", "a", "b"] {
        assert_eq!(post(key).await.unwrap().status(), StatusCode::CREATED);
    }
    client.post(gw.url("/orders")).send().await.unwrap();
    client
        .post(gw.url("/orders"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    client
        .get(gw.url("/healthz"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    let text = metrics(&client, &gw).await;
    let counts: Vec<u64> = ["fresh", "replay", "unauthorized", "missing_key", "pass"]
        .iter()
        .map(|o| requests(&text, o))
        .collect();
    assert_eq!(counts, [2, 2, 1, 1, 1], "{text}");
    assert!(text.contains("tessera_upstream_seconds_count 3"), "{text}");
    assert!(text.contains("tessera_store_seconds_count"), "{text}");
    // `/healthz` on the main port is the upstream's, not the gateway's.
    assert_eq!(up.hits(), 3);

    let ready =
        |client: Client, url: String| async move { client.get(url).send().await.unwrap().status() };
    assert_eq!(
        ready(client.clone(), gw.admin_url("/readyz")).await,
        StatusCode::OK
    );
    redis.pause().unwrap();
    assert_eq!(
        ready(client.clone(), gw.admin_url("/readyz")).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        ready(client.clone(), gw.admin_url("/healthz")).await,
        StatusCode::OK,
        "alive while the store is not"
    );
    redis.resume().unwrap();
    assert_eq!(ready(client, gw.admin_url("/readyz")).await, StatusCode::OK);
}

#[tokio::test]
async fn the_upstream_sees_only_what_the_gateway_vouches_for() {
    let up = Upstream::start().await;
    let client = Client::new();
    let t = token_for("alice");
    for (flags, kept_forwarded, authorization) in [
        (&[][..], false, true),
        (
            &["--trust-forwarded", "--strip-authorization"][..],
            true,
            false,
        ),
    ] {
        let gw = Gateway::start(&up.url(), flags);
        let res = client
            .put(gw.url("/orders"))
            .bearer_auth(&t)
            .header("tessera-subject", "admin")
            .header("x-forwarded-for", "203.0.113.9")
            .header("forwarded", "for=203.0.113.9")
            .header("host", "evil.example")
            .header("x-request-id", "req-42")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["x-request-id"], "req-42");
        let seen: Value = res.json().await.unwrap();
        assert_eq!(seen["tessera_subject"], "alice");
        assert_eq!(seen["host"], up.addr.to_string());
        assert_eq!(seen["x_request_id"], "req-42");
        assert_eq!(seen["authorization"], authorization);
        let (xff, fwd) = if kept_forwarded {
            ("203.0.113.9, 127.0.0.1", Value::from("for=203.0.113.9"))
        } else {
            ("127.0.0.1", Value::Null)
        };
        assert_eq!(
            (&seen["x_forwarded_for"], &seen["forwarded"]),
            (&Value::from(xff), &fwd)
        );
        // Without a client id, one is made and logged with the subject.
        let res = client
            .put(gw.url("/orders"))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 32);
        until("the request to be logged", || {
            gw.logs()
                .iter()
                .any(|l| l.contains(&id) && l.contains("\"subject\":\"alice\""))
        })
        .await;
    }
}

#[tokio::test]
async fn every_flag_can_come_from_the_environment() {
    let up = Upstream::start().await;
    let gw = Gateway::start_with(
        &up.url(),
        &[
            ("TESSERA_ADMIN_LISTEN", "127.0.0.1:0"),
            ("TESSERA_MAX_BODY_BYTES", "10"),
        ],
        true,
        &[],
    );
    let client = Client::new();
    let res = client.get(gw.admin_url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = client
        .put(gw.url("/orders"))
        .bearer_auth(token_for("a"))
        .body("more than ten bytes")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// A 429 or 503 with a `Retry-After` of about the 24 h TTL: computed from
/// the record in the way, not a constant. When every record in the way is
/// still in flight, the earliest ends at its lease (upstream timeout 30 s +
/// 10 s) plus the TTL.
fn retry_after_is_the_ttl(res: &reqwest::Response) {
    let after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((86_300..=86_442).contains(&after), "Retry-After {after}");
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "{res:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_subject_flooding_keys_hits_its_quota_while_another_works() {
    let up = Upstream::start().await;
    let gw = Gateway::start(
        &up.url(),
        &["--max-keys-per-sub", "20", "--admin-listen", "127.0.0.1:0"],
    );
    let client = Client::new();
    let post = |sub: &str, key: String| {
        client
            .post(gw.url("/orders"))
            .bearer_auth(token_for(sub))
            .header("idempotency-key", key)
            .send()
    };
    let flood = futures_util::future::join_all((0..60).map(|i| post("alice", format!("a-{i}"))));
    let work = async {
        let mut statuses = Vec::new();
        for i in 0..10 {
            statuses.push(post("bob", format!("b-{i}")).await.unwrap().status());
        }
        statuses
    };
    let (flood, bob) = tokio::join!(flood, work);
    assert_eq!(bob, vec![StatusCode::CREATED; 10], "bob's new keys run");
    let mut created = Vec::new();
    let mut refused = 0;
    for (i, res) in flood.into_iter().enumerate() {
        let res = res.unwrap();
        match res.status() {
            StatusCode::CREATED => created.push(i),
            StatusCode::TOO_MANY_REQUESTS => {
                retry_after_is_the_ttl(&res);
                let body: Value = res.json().await.unwrap();
                assert_eq!(body["type"], "tag:tessera,2026:idempotency-key-quota");
                refused += 1;
            }
            other => panic!("alice got {other}"),
        }
    }
    assert_eq!((created.len(), refused), (20, 40));
    assert_eq!(up.hits(), 30, "refused keys never reach the upstream");
    // Completed keys of both still replay; bob's new keys still run.
    for (sub, key) in [
        ("bob", "b-0".to_owned()),
        ("alice", format!("a-{}", created[0])),
    ] {
        let res = post(sub, key).await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.headers()["idempotent-replayed"], "true");
    }
    assert_eq!(
        post("bob", "b-new".into()).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(up.hits(), 31);
    let text = metrics(&client, &gw).await;
    assert_eq!(requests(&text, "quota"), 40, "{text}");
}

/// Resident memory of `pid` in bytes (`VmRSS` in `/proc/PID/status`).
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .map(|v| v.trim().parse().unwrap())
        .unwrap();
    kib * 1024
}

/// 2,000 responses of 56 KiB (112 MiB if all were kept) through a gateway
/// whose store may take 16 MiB. Bound: RSS after startup + 2 × the store's
/// budget (allocator slack on the stored responses) + 16 MiB (buffers of
/// the 8 requests in flight, tokio and hyper). Without the budget the
/// records alone would take the RSS over it by about 60 MiB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_large_responses_keep_the_rss_bounded() {
    const STORE: u64 = 16 * 1024 * 1024;
    let up = Upstream::start().await;
    let gw = Gateway::start(
        &up.url(),
        &[
            "--max-store-bytes",
            &STORE.to_string(),
            "--max-response-bytes",
            "65536",
            "--max-keys-per-sub",
            "0",
        ],
    );
    let client = Client::new();
    let t = token_for("alice");
    let warm = client
        .get(gw.url("/big?kib=56"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), StatusCode::OK);
    let base = rss_bytes(gw.child.id());
    let (mut stored, mut full) = (0, 0);
    for round in 0..250 {
        let batch = (0..8).map(|i| {
            client
                .post(gw.url("/big?kib=56"))
                .bearer_auth(&t)
                .header("idempotency-key", format!("k-{round}-{i}"))
                .send()
        });
        for res in futures_util::future::join_all(batch).await {
            let res = res.unwrap();
            match res.status() {
                StatusCode::OK => stored += 1,
                StatusCode::SERVICE_UNAVAILABLE => {
                    retry_after_is_the_ttl(&res);
                    full += 1;
                }
                other => panic!("got {other}"),
            }
        }
    }
    let rss = rss_bytes(gw.child.id());
    let bound = base + 2 * STORE + 16 * 1024 * 1024;
    eprintln!("RSS {base} -> {rss} bytes (bound {bound}); {stored} stored, {full} full");
    assert!(rss <= bound, "RSS {rss} over {bound} ({stored} stored)");
    // The budget held ~270 responses of 56 KiB; the rest were refused, unrun.
    assert!((200..=300).contains(&stored), "{stored} stored");
    assert_eq!(stored + full, 2000);
    assert_eq!(up.hits(), stored + 1);
}

/// `tessera gateway --help` names the environment variable of every flag,
/// and the default of each limit this issue added.
#[test]
fn help_names_every_flags_environment_variable_and_the_limits_defaults() {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["gateway", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    // Flags whose text runs over one line are joined by clap's wide layout.
    let flags: Vec<&str> = help
        .lines()
        .filter(|l| l.trim_start().starts_with("--"))
        .collect();
    assert!(flags.len() >= 30, "{help}");
    // The Redis naming flags live in cli/redis.rs (owned by the Redis store
    // work); they are the only ones without a variable yet.
    let pending = ["--record-secret-file", "--redis-prefix", "--redis-ca-file"];
    for line in &flags {
        let flag = line.split_whitespace().next().unwrap();
        if !pending.contains(&flag) {
            assert!(line.contains("[env: TESSERA_"), "no variable: {line}");
        }
    }
    for (flag, default) in [
        (
            "--max-keys-per-sub",
            "capacity / 16 in memory, 4096 with Redis",
        ),
        ("--max-store-bytes", "268435456"),
        ("--capacity", "--max-store-bytes / 4096"),
        ("--header-timeout", "10"),
        ("--shutdown-timeout", "30"),
        ("--max-connections", "10000"),
    ] {
        let line = flags
            .iter()
            .find(|l| l.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("{flag} missing"));
        assert!(line.contains(&format!("[default: {default}")), "{line}");
    }
}
