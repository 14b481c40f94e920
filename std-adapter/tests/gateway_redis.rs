//! `tessera gateway` on Redis deployments: a three-master Cluster, ACL users,
//! TLS, passwords kept out of every output, and record names that survive a
//! key rotation. The real binary and real `redis-server` processes, all on
//! 127.0.0.1.

mod gateway_support;
mod http_support;

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use gateway_support::Gateway;
use http_support::{now, token_for, Upstream, SECRET};
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::{Client, StatusCode};
use serde_json::json;
use tessera_std::testkit::{RedisCluster, RedisServer};

/// A POST of `body` under `key`: its status and whether it was a replay.
async fn post(client: &Client, gw: &Gateway, token: &str, key: &str) -> (StatusCode, bool) {
    let res = client
        .post(gw.url("/orders"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .body("same body")
        .send()
        .await
        .unwrap();
    let replayed = res
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true");
    (res.status(), replayed)
}

const FRESH: (StatusCode, bool) = (StatusCode::CREATED, false);
const REPLAY: (StatusCode, bool) = (StatusCode::CREATED, true);

/// A private directory for key, secret and certificate files, removed on drop.
struct Files(PathBuf);

impl Files {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tessera-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Files(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `tessera gateway` expecting it to fail at startup.
fn gateway_fails(files: &Files, env: &[(&str, &str)], extra: &[&str]) -> Output {
    let key = files.write("api.key", SECRET);
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["gateway", "--listen", "127.0.0.1:0"])
        .args(["--upstream", "http://127.0.0.1:9", "--key-file", &key])
        .args(extra)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Two gateways given the cluster's seed nodes: 48 keys, each sent six times
/// at once across both, run exactly once each, and the records land on all
/// three masters. (`--redis` pointed at one node answers 503 `MOVED` here.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_on_a_cluster_run_each_key_once() {
    let mut cluster = RedisCluster::start(3).unwrap();
    let seeds = cluster.urls().join(",");
    let up = Upstream::start().await;
    // Without the quota: its set ties one subject's records to one slot,
    // and this test checks that records spread over the nodes.
    let args = ["--redis-cluster", seeds.as_str(), "--max-keys-per-sub", "0"];
    let gws = [
        Gateway::start(&up.url(), &args),
        Gateway::start(&up.url(), &args),
    ];
    assert!(gws[0]
        .logs()
        .iter()
        .any(|l| l.contains("\"store\":\"redis-cluster\"")));
    let client = Client::new();
    let token = token_for("alice");
    let tasks: Vec<_> = (0..48 * 6)
        .map(|i| {
            let (client, token) = (client.clone(), token.clone());
            let url = gws[i % 2].url("/orders");
            tokio::spawn(async move {
                let res = client
                    .post(url)
                    .bearer_auth(token)
                    .header("idempotency-key", format!("key-{}", i / 6))
                    .body("same body")
                    .send()
                    .await
                    .unwrap();
                let replayed = res.headers().get("idempotent-replayed").is_some();
                (res.status(), replayed)
            })
        })
        .collect();
    let mut fresh = 0;
    for task in tasks {
        match task.await.unwrap() {
            FRESH => fresh += 1,
            REPLAY | (StatusCode::CONFLICT, false) => {}
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!((fresh, up.hits()), (48, 48));
    for i in 0..48 {
        let gw = &gws[i % 2];
        assert_eq!(post(&client, gw, &token, &format!("key-{i}")).await, REPLAY);
    }
    assert_eq!(up.hits(), 48);
    for node in cluster.nodes().iter() {
        let count: usize = node.cli(&["DBSIZE"]).unwrap().parse().unwrap();
        assert!(count > 0, "no records on {}", node.port());
    }
}

/// An ACL user's URL from `TESSERA_REDIS_URL`: the gateway uses Redis as that
/// user, and the password appears in none of its logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acl_user_from_the_environment_without_the_password_in_logs() {
    let redis = RedisServer::start().unwrap();
    redis
        .cli(&[
            "ACL",
            "SETUSER",
            "app",
            "on",
            ">s3cret-pass",
            "~*",
            "&*",
            "+@all",
        ])
        .unwrap();
    let url = format!("redis://app:s3cret-pass@127.0.0.1:{}/", redis.port());
    let up = Upstream::start().await;
    let gw = Gateway::start_with(&up.url(), &[("TESSERA_REDIS_URL", &url)], true, &[]);
    let client = Client::new();
    let token = token_for("alice");
    assert_eq!(post(&client, &gw, &token, "k").await, FRESH);
    assert_eq!(post(&client, &gw, &token, "k").await, REPLAY);
    assert_eq!(up.hits(), 1);
    // The record and alice's set of live keys (the quota).
    assert_eq!(redis.cli(&["DBSIZE"]).unwrap(), "2");
    let clients = redis.cli(&["CLIENT", "LIST"]).unwrap();
    assert!(clients.contains("user=app"), "{clients}");
    let logs = gw.logs();
    assert!(
        logs.iter().any(|l| l.contains("\"store\":\"redis\"")),
        "{logs:?}"
    );
    assert!(!logs.iter().any(|l| l.contains("s3cret-pass")), "{logs:?}");
}

/// A wrong password, or none where one is needed, stops the gateway with
/// "authentication failed" (not "timed out"), and the password is not printed,
/// whether the URL came from a flag or the environment.
#[test]
fn refused_credentials_are_reported_as_such_and_never_printed() {
    let redis = RedisServer::start().unwrap();
    redis
        .cli(&[
            "ACL",
            "SETUSER",
            "app",
            "on",
            ">right-pass",
            "~*",
            "&*",
            "+@all",
        ])
        .unwrap();
    let port = redis.port();
    let wrong = format!("redis://app:wrong-pass@127.0.0.1:{port}/");
    let files = Files::new("auth");
    let seeds = format!("{wrong},redis://app:wrong-pass@127.0.0.1:{port}/");
    for (env, extra) in [
        (vec![], vec!["--redis", wrong.as_str()]),
        (vec![("TESSERA_REDIS_URL", wrong.as_str())], vec![]),
        (vec![], vec!["--redis-cluster", seeds.as_str()]),
    ] {
        let out = gateway_fails(&files, &env, &extra);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("authentication failed"), "{stderr}");
        assert!(stderr.contains("app:***@127.0.0.1"), "{stderr}");
        assert!(!stderr.contains("wrong-pass"), "{stderr}");
        assert!(!stderr.contains("timed out"), "{stderr}");
    }
    // No password while the default user is disabled: NOAUTH.
    redis.cli(&["ACL", "SETUSER", "default", "off"]).unwrap();
    let anonymous = format!("redis://127.0.0.1:{port}/");
    let out = gateway_fails(&files, &[], &["--redis", &anonymous]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("authentication failed"), "{stderr}");
}

/// A token signed by the key named `kid` (HS256, [`SECRET`] or `secret`).
fn token_by(kid: &str, secret: &[u8]) -> String {
    let header = Header {
        kid: Some(kid.into()),
        ..Header::default()
    };
    let claims = json!({"sub": "alice", "iat": now(), "exp": now() + 600});
    encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap()
}

/// With `--record-secret-file`, a gateway restarted with an added key still
/// replays earlier responses. Without it (names from the keys, as before) the
/// rotated gateway runs the request again, and `--redis-prefix` keeps
/// separate records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_secret_keeps_records_across_a_key_rotation() {
    let redis = RedisServer::start().unwrap();
    let url = redis.url();
    let up = Upstream::start().await;
    let files = Files::new("rotation");
    let old = format!("old={}", files.write("old.key", SECRET));
    let new = format!(
        "new={}",
        files.write("new.key", b"a-second-key-of-32-bytes-at-last")
    );
    let secret = files.write("records.secret", b"the record secret, 32 bytes long");
    let client = Client::new();
    let token = token_by("old", SECRET);
    let start = |extra: &[&str]| {
        let mut args = vec!["--redis", url.as_str(), "--key", old.as_str()];
        args.extend_from_slice(extra);
        Gateway::start_with(&up.url(), &[], false, &args)
    };

    let before = start(&["--record-secret-file", &secret]);
    assert_eq!(post(&client, &before, &token, "k").await, FRESH);
    drop(before);
    let rotated = start(&["--key", &new, "--record-secret-file", &secret]);
    assert_eq!(post(&client, &rotated, &token, "k").await, REPLAY);
    assert_eq!(up.hits(), 1);

    let by_keys = start(&["--key", &new]);
    assert_eq!(post(&client, &by_keys, &token, "k").await, FRESH);
    assert_eq!(up.hits(), 2);
    let other_prefix = start(&["--record-secret-file", &secret, "--redis-prefix", "svc2:"]);
    assert_eq!(post(&client, &other_prefix, &token, "k").await, FRESH);
    assert_eq!(up.hits(), 3);
    let keys = redis.cli(&["KEYS", "*"]).unwrap();
    // Records only: each scope's set of live keys (the quota) ends in `}q`.
    let records = |prefix: &str| {
        keys.lines()
            .filter(|k| k.starts_with(prefix) && !k.ends_with("}q"))
            .count()
    };
    assert_eq!(records("tessera:{"), 2);
    assert_eq!(records("svc2:{"), 1);
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `openssl args` in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the TLS test needs the openssl command");
    assert!(status.success(), "openssl {args:?}");
}

/// A private CA and a server certificate for 127.0.0.1 that it signed, made
/// with `openssl`: the paths of (CA certificate, server certificate, key).
fn private_ca(files: &Files) -> (String, String, String) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509", "-days", "1", "-subj", "/CN=tessera test CA"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
    openssl(&files.0, &ca);
    let mut csr = vec!["req", "-subj", "/CN=127.0.0.1"];
    csr.extend(ec);
    csr.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(&files.0, &csr);
    files.write("san.cnf", b"subjectAltName=IP:127.0.0.1\n");
    openssl(
        &files.0,
        &[
            "x509",
            "-req",
            "-days",
            "1",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-extfile",
            "san.cnf",
            "-out",
            "server.pem",
        ],
    );
    let path = |name: &str| files.0.join(name).to_str().unwrap().to_owned();
    (path("ca.pem"), path("server.pem"), path("server.key"))
}

/// `rediss://` to a `redis-server` serving TLS with a private certificate:
/// trusted through `--redis-ca-file`, refused without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_with_a_private_ca() {
    let files = Files::new("tls");
    let (ca, cert, key) = private_ca(&files);
    let tls_port = free_port().to_string();
    let redis = RedisServer::start_with(&[
        "--tls-port",
        &tls_port,
        "--tls-cert-file",
        &cert,
        "--tls-key-file",
        &key,
        "--tls-ca-cert-file",
        &ca,
        "--tls-auth-clients",
        "no",
    ])
    .unwrap();
    let url = format!("rediss://127.0.0.1:{tls_port}/");
    let up = Upstream::start().await;
    let gw = Gateway::start(&up.url(), &["--redis", &url, "--redis-ca-file", &ca]);
    let client = Client::new();
    let token = token_for("alice");
    assert_eq!(post(&client, &gw, &token, "k").await, FRESH);
    assert_eq!(post(&client, &gw, &token, "k").await, REPLAY);
    assert_eq!(up.hits(), 1);
    // The record and alice's set of live keys (the quota).
    assert_eq!(redis.cli(&["DBSIZE"]).unwrap(), "2");

    let out = gateway_fails(&files, &[], &["--redis", &url]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("certificate") || stderr.contains("Certificate"),
        "{stderr}"
    );
}

/// A `--ttl` or `--upstream-timeout` beyond what Redis can hold exactly is a
/// startup error, before any record could be half-written.
#[test]
fn out_of_range_durations_are_refused_at_startup() {
    let files = Files::new("bounds");
    for flag in ["--ttl", "--upstream-timeout"] {
        let out = gateway_fails(&files, &[], &[flag, "100000000000000"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&format!("{flag} must be 1 to")), "{stderr}");
    }
}
