//! Fault injection with real processes: two `tessera gateway`s sharing one
//! `redis-server` (AOF, fsync always), a counting upstream that stalls, crashes,
//! breaks bodies and refuses, clients that disconnect and retry, and an
//! injector that SIGKILLs Redis and the gateways while the traffic runs.
//!
//! What it proves, for logical requests (one key, one token, one body, retried
//! unchanged until a final answer):
//! - the upstream never sees a request again once it has acted on it
//!   (no duplicates), whatever the retries, timeouts and crashes;
//! - a client's final answer is either the upstream's own answer to its
//!   request, or an outcome-unknown problem (`502`/`504`) that the gateway
//!   replays as such when asked again;
//! - nothing acknowledged as completed is lost: after a last Redis SIGKILL and
//!   restart, every completed request is replayed (same status and body,
//!   `Idempotent-Replayed: true`) without reaching the upstream.
//!
//! The default run has 45 s of traffic (under two minutes in all). The long
//! version, printing its summary line:
//!
//! ```text
//! TESSERA_FAULT_SECS=600 cargo test -p tessera-std --test fault_injection -- --nocapture
//! ```
//!
//! `TESSERA_FAULT_SEED` sets the seed (printed at the start). Needs a gateway
//! with `--upstream-timeout` (see [`GATEWAY_FLAGS`]), and `redis-server` and
//! `redis-cli` on `PATH`; everything runs on 127.0.0.1.

mod gateway_support;
mod http_support;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering::SeqCst},
        Arc, Mutex,
    },
    time::Duration,
};

use gateway_support::Gateway;
use http_support::{now, token};
use reqwest::{header, Client, StatusCode};
use serde_json::{json, Value};
use tessera_std::testkit::RedisServer;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    task::block_in_place,
    time::{sleep, Instant},
};

/// Flags every gateway gets besides `--upstream` and `--redis`.
const GATEWAY_FLAGS: &[&str] = &["--upstream-timeout", "1"];
/// The upstream timeout [`GATEWAY_FLAGS`] set.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(1);
/// The gateway's lease: its upstream timeout plus 10 s to store the outcome
/// (`SETTLE_MARGIN` in `cli/gateway.rs`).
const LEASE: Duration = UPSTREAM_TIMEOUT.saturating_add(Duration::from_secs(10));
/// A stalled upstream answers this long after the request, when the gateway
/// has given up on it.
const STALL: Duration = UPSTREAM_TIMEOUT.saturating_add(Duration::from_millis(1500));
/// How long a patient client waits for one attempt: longer than the gateway.
const CLIENT_TIMEOUT: Duration = UPSTREAM_TIMEOUT.saturating_add(Duration::from_secs(3));
/// How long a disconnecting client waits before it hangs up.
const DISCONNECT_AFTER: Duration = Duration::from_millis(150);
/// After the traffic, before the final checks: longer than the lease, so
/// that nothing is still in flight.
const SETTLE: Duration = LEASE.saturating_add(Duration::from_secs(1));

const GATEWAYS: usize = 2;
const CLIENTS: usize = 12;
/// A logical request still without a final answer after this many attempts or
/// this long is "still retrying".
const MAX_ATTEMPTS: usize = 60;
const MAX_RETRYING: Duration = Duration::from_secs(20);
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Fewer completed requests than this means the run proved nothing.
const MIN_COMPLETED: usize = 50;

const DEFAULT_SECS: u64 = 45;
const DEFAULT_SEED: u64 = 0x7e55_e7a0;

/// Problem types (`tag:tessera,2026:<kind>`) that tell the client the request
/// may or may not have run: a final answer, never retried.
const OUTCOME_UNKNOWN: [&str; 4] = [
    "upstream-timeout",
    "upstream-outcome-unknown",
    "idempotency-outcome-unknown",
    "response-not-stored",
];
const PROBLEM_TYPE_PREFIX: &str = "tag:tessera,2026:";

/// xorshift64*: reproducible choices from a seed, one stream per task.
struct Rng(u64);

impl Rng {
    /// Stream `stream` of `seed` (a splitmix64 step spreads nearby seeds apart).
    fn new(seed: u64, stream: u64) -> Self {
        let mut z = seed.wrapping_add(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A duration from `lo` to `hi` milliseconds.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.below(hi - lo + 1))
    }
}

/// The faults injected, by kind.
#[derive(Clone, Copy)]
enum Fault {
    ClientDisconnect,
    UpstreamStall,
    UpstreamCrash,
    BrokenBody,
    Upstream429,
    Upstream503,
    RedisKill,
    GatewayKill,
}

const FAULT_NAMES: [&str; 8] = [
    "client_disconnect",
    "upstream_stall",
    "upstream_crash",
    "broken_body",
    "upstream_429",
    "upstream_503",
    "redis_kill",
    "gateway_kill",
];

#[derive(Default)]
struct Faults([AtomicUsize; 8]);

impl Faults {
    fn add(&self, fault: Fault) {
        self.0[fault as usize].fetch_add(1, SeqCst);
    }

    /// `name=count` for each kind.
    fn summary(&self) -> String {
        FAULT_NAMES
            .iter()
            .zip(&self.0)
            .map(|(name, n)| format!("{name}={}", n.load(SeqCst)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn never_injected(&self) -> Vec<&'static str> {
        FAULT_NAMES
            .iter()
            .zip(&self.0)
            .filter(|(_, n)| n.load(SeqCst) == 0)
            .map(|(name, _)| *name)
            .collect()
    }
}

/// What the upstream does with one request.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Acts, waits `delay`, answers `201` with the key and nonce.
    Ok { delay: Duration },
    /// Acts, answers only after [`STALL`].
    Stall,
    /// Acts, then resets the connection without an answer.
    Crash,
    /// Acts, then sends a `201` whose body breaks off.
    Broken,
    /// Refuses without acting: `429` with `Retry-After: 1`.
    Busy,
    /// Fails without acting: `503`.
    Fail,
}

impl Behaviour {
    fn acts(self) -> bool {
        !matches!(self, Behaviour::Busy | Behaviour::Fail)
    }

    fn fault(self) -> Option<Fault> {
        match self {
            Behaviour::Ok { .. } => None,
            Behaviour::Stall => Some(Fault::UpstreamStall),
            Behaviour::Crash => Some(Fault::UpstreamCrash),
            Behaviour::Broken => Some(Fault::BrokenBody),
            Behaviour::Busy => Some(Fault::Upstream429),
            Behaviour::Fail => Some(Fault::Upstream503),
        }
    }
}

/// One key as the upstream saw it.
#[derive(Default)]
struct KeyLog {
    executions: usize,
    /// Arrivals after the key was first executed.
    duplicates: usize,
}

/// A request as the upstream read it.
struct Received {
    key: String,
    nonce: String,
}

/// The counting upstream: a raw HTTP/1.1 server, for full control over faults.
struct Upstream {
    rng: Mutex<Rng>,
    keys: Mutex<HashMap<String, KeyLog>>,
    arrivals: AtomicUsize,
    faults: Arc<Faults>,
}

impl Upstream {
    /// Serves on a free loopback port; returns it and its URL.
    async fn start(seed: u64, faults: Arc<Faults>) -> (Arc<Self>, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = Arc::new(Upstream {
            rng: Mutex::new(Rng::new(seed, u64::MAX)),
            keys: Mutex::default(),
            arrivals: AtomicUsize::new(0),
            faults,
        });
        let serving = Arc::clone(&upstream);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(Arc::clone(&serving).serve(stream));
            }
        });
        (upstream, url)
    }

    async fn serve(self: Arc<Self>, mut stream: TcpStream) {
        let mut buf = Vec::new();
        while let Some(req) = read_request(&mut stream, &mut buf).await {
            if !self.answer(&mut stream, req).await {
                return;
            }
        }
    }

    /// Picks a behaviour: 70% `ok` (a third of them delayed), 6% each fault.
    fn pick(&self) -> Behaviour {
        let mut rng = self.rng.lock().unwrap();
        let behaviour = match rng.below(100) {
            0..70 if rng.below(3) == 0 => Behaviour::Ok {
                delay: rng.millis(0, 300),
            },
            0..70 => Behaviour::Ok {
                delay: Duration::ZERO,
            },
            70..76 => Behaviour::Stall,
            76..82 => Behaviour::Crash,
            82..88 => Behaviour::Broken,
            88..94 => Behaviour::Busy,
            _ => Behaviour::Fail,
        };
        if let Some(fault) = behaviour.fault() {
            self.faults.add(fault);
        }
        behaviour
    }

    /// Counts an arrival for `key`, and an execution if `acts`.
    fn arrive(&self, key: &str, acts: bool) {
        self.arrivals.fetch_add(1, SeqCst);
        let mut keys = self.keys.lock().unwrap();
        let log = keys.entry(key.to_owned()).or_default();
        if log.executions > 0 {
            log.duplicates += 1;
        }
        if acts {
            log.executions += 1;
        }
    }

    /// Answers one request; whether the connection can carry another.
    async fn answer(&self, stream: &mut TcpStream, req: Received) -> bool {
        let behaviour = self.pick();
        self.arrive(&req.key, behaviour.acts());
        let echo = json!({"key": req.key, "nonce": req.nonce}).to_string();
        match behaviour {
            Behaviour::Ok { delay } => {
                sleep(delay).await;
                write_response(stream, "201 Created", &[], &echo).await
            }
            Behaviour::Stall => {
                sleep(STALL).await;
                write_response(stream, "201 Created", &[], &echo).await;
                false
            }
            Behaviour::Crash => {
                // SO_LINGER 0: closing sends RST, not FIN.
                let _ = stream.set_zero_linger();
                false
            }
            Behaviour::Broken => {
                let head = "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n\
                            content-length: 1000\r\n\r\n";
                let _ = stream
                    .write_all(format!("{head}{}", &echo[..10]).as_bytes())
                    .await;
                false
            }
            Behaviour::Busy => {
                write_response(
                    stream,
                    "429 Too Many Requests",
                    &[("retry-after", "1")],
                    r#"{"error":"busy"}"#,
                )
                .await
            }
            Behaviour::Fail => {
                write_response(
                    stream,
                    "503 Service Unavailable",
                    &[],
                    r#"{"error":"unavailable"}"#,
                )
                .await
            }
        }
    }

    fn arrivals(&self) -> usize {
        self.arrivals.load(SeqCst)
    }

    /// Every key that arrived again after it was executed: `(key, executions, duplicates)`.
    fn duplicated(&self) -> Vec<(String, usize, usize)> {
        let keys = self.keys.lock().unwrap();
        let mut dups: Vec<_> = keys
            .iter()
            .filter(|(_, log)| log.duplicates > 0)
            .map(|(key, log)| (key.clone(), log.executions, log.duplicates))
            .collect();
        dups.sort();
        dups
    }
}

/// Reads one request (head and `Content-Length` body) from `stream`; `buf`
/// keeps what was read beyond it. `None` when the peer closed.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Received> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        read_more(stream, buf).await?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let header = |name: &str| {
        head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    let len: usize = header("content-length").map_or(0, |v| v.parse().unwrap());
    while buf.len() < head_end + len {
        read_more(stream, buf).await?;
    }
    let body: Value = serde_json::from_slice(&buf[head_end..head_end + len]).unwrap_or_default();
    buf.drain(..head_end + len);
    Some(Received {
        key: header("idempotency-key").unwrap_or_default(),
        nonce: body["nonce"].as_str().unwrap_or_default().to_owned(),
    })
}

/// Appends what the socket has; `None` at its end or on an error.
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0; 4096];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}

/// Writes a JSON response; whether the connection is still usable.
async fn write_response(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> bool {
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await.is_ok()
}

/// One logical request, sent unchanged on every retry.
struct Logical {
    key: String,
    nonce: String,
    token: String,
    body: String,
}

impl Logical {
    /// Request `n` of client `client`, with a token minted now.
    fn new(client: usize, n: usize) -> Self {
        let key = format!("c{client}-{n}");
        let nonce = format!("nonce-{client}-{n}");
        let issued = now();
        Logical {
            token: token(&json!({
                "sub": format!("client-{client}"),
                "iat": issued,
                "exp": issued + 3600,
            })),
            body: json!({ "nonce": nonce }).to_string(),
            key,
            nonce,
        }
    }
}

/// What a client saw for one attempt.
struct Answer {
    status: StatusCode,
    replayed: bool,
    retry_after: Option<Duration>,
    /// The kind of an `application/problem+json` answer.
    problem: Option<String>,
    body: String,
}

/// How a client takes an answer that is not to be retried.
enum Verdict {
    /// The upstream's own answer to this request.
    Completed,
    /// A problem saying the request may or may not have run.
    OutcomeUnknown,
    /// An answer the gateway must never give.
    Violation(String),
}

/// The verdict on an answer; `None` for a transient one, to retry: `409`,
/// `429`, `503`, and a `502`/`504` that does not leave the outcome unknown.
/// A transient answer is never stored, so never replayed.
fn judge(answer: &Answer, req: &Logical) -> Option<Verdict> {
    let unknown = answer
        .problem
        .as_deref()
        .is_some_and(|kind| OUTCOME_UNKNOWN.contains(&kind));
    match answer.status.as_u16() {
        200..=299 => {
            let echo: Value = serde_json::from_str(&answer.body).unwrap_or_default();
            Some(if echo["key"] == req.key && echo["nonce"] == req.nonce {
                Verdict::Completed
            } else {
                Verdict::Violation(format!(
                    "{} is not its answer: {}",
                    answer.status, answer.body
                ))
            })
        }
        502 | 504 if unknown => Some(Verdict::OutcomeUnknown),
        409 | 429 | 502..=504 if answer.replayed => Some(Verdict::Violation(format!(
            "a transient answer was stored and replayed: {} {}",
            answer.status, answer.body
        ))),
        409 | 429 | 502..=504 => None,
        _ => Some(Verdict::Violation(format!(
            "final {}: {}",
            answer.status, answer.body
        ))),
    }
}

/// One attempt at `req` through the gateway at `addr`.
async fn send(
    client: &Client,
    addr: SocketAddr,
    req: &Logical,
    timeout: Duration,
) -> reqwest::Result<Answer> {
    let res = client
        .post(format!("http://{addr}/orders"))
        .bearer_auth(&req.token)
        .header("idempotency-key", &req.key)
        .header(header::CONTENT_TYPE, "application/json")
        .body(req.body.clone())
        .timeout(timeout)
        .send()
        .await?;
    let status = res.status();
    let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok());
    let replayed = header("idempotent-replayed") == Some("true");
    let retry_after = header("retry-after")
        .and_then(|v| v.parse().ok())
        .map(Duration::from_secs);
    let is_problem = header("content-type") == Some("application/problem+json");
    let body = res.text().await?;
    let problem = is_problem
        .then(|| serde_json::from_str::<Value>(&body).ok())
        .flatten()
        .and_then(|doc| {
            doc["type"]
                .as_str()
                .map(|t| t.trim_start_matches(PROBLEM_TYPE_PREFIX).to_owned())
        });
    Ok(Answer {
        status,
        replayed,
        retry_after,
        problem,
        body,
    })
}

#[derive(Default)]
struct Counts {
    requests: AtomicUsize,
    attempts: AtomicUsize,
    completed: AtomicUsize,
    outcome_unknown: AtomicUsize,
    still_retrying: AtomicUsize,
}

fn bump(counter: &AtomicUsize) {
    counter.fetch_add(1, SeqCst);
}

/// What the clients share: the gateways' current addresses, and what they saw.
struct Run {
    client: Client,
    gateways: Mutex<Vec<SocketAddr>>,
    faults: Arc<Faults>,
    counts: Counts,
    violations: Mutex<Vec<String>>,
    completed: Mutex<Vec<(Logical, Answer)>>,
}

impl Run {
    fn violation(&self, what: String) {
        self.violations.lock().unwrap().push(what);
    }

    fn pick_gateway(&self, rng: &mut Rng) -> SocketAddr {
        let gateways = self.gateways.lock().unwrap();
        gateways[rng.below(gateways.len() as u64) as usize]
    }

    /// Sends `req` through random gateways until an answer that is not
    /// transient; `None` if it is still retrying at the bound. With
    /// `disconnects`, one attempt in ten hangs up after [`DISCONNECT_AFTER`].
    async fn settle(
        &self,
        req: &Logical,
        rng: &mut Rng,
        disconnects: bool,
    ) -> Option<(Verdict, Answer)> {
        let started = Instant::now();
        let mut backoff = FIRST_BACKOFF;
        for _ in 0..MAX_ATTEMPTS {
            if started.elapsed() > MAX_RETRYING {
                break;
            }
            let disconnect = disconnects && rng.below(10) == 0;
            let timeout = if disconnect {
                DISCONNECT_AFTER
            } else {
                CLIENT_TIMEOUT
            };
            bump(&self.counts.attempts);
            let wait = match send(&self.client, self.pick_gateway(rng), req, timeout).await {
                Err(e) => {
                    if disconnect && e.is_timeout() {
                        self.faults.add(Fault::ClientDisconnect);
                    }
                    backoff
                }
                Ok(answer) => match judge(&answer, req) {
                    Some(verdict) => return Some((verdict, answer)),
                    None => answer
                        .retry_after
                        .map_or(backoff, |after| after.min(MAX_BACKOFF).max(backoff)),
                },
            };
            sleep(wait).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        None
    }

    /// Runs one logical request to its end and records how it ended.
    async fn request(&self, req: Logical, rng: &mut Rng) {
        bump(&self.counts.requests);
        match self.settle(&req, rng, true).await {
            None => bump(&self.counts.still_retrying),
            Some((Verdict::Completed, answer)) => {
                bump(&self.counts.completed);
                self.completed.lock().unwrap().push((req, answer));
            }
            Some((Verdict::OutcomeUnknown, answer)) => {
                bump(&self.counts.outcome_unknown);
                self.confirm_replay(&req, &answer, rng).await;
            }
            Some((Verdict::Violation(why), _)) => self.violation(format!("{}: {why}", req.key)),
        }
    }

    /// An outcome-unknown answer is final: asked again, the gateway replays it.
    async fn confirm_replay(&self, req: &Logical, first: &Answer, rng: &mut Rng) {
        let again = self.settle(req, rng, false).await;
        if let Some((_, again)) = &again {
            if again.replayed && again.status == first.status && again.problem == first.problem {
                return;
            }
        }
        self.violation(format!(
            "{}: outcome unknown ({} {:?}), then {}",
            req.key,
            first.status,
            first.problem,
            describe(again.as_ref().map(|(_, a)| a)),
        ));
    }

    /// Sends every completed request again: each must be replayed with the
    /// same status and body. Returns how many were checked.
    async fn recheck_completed(&self, rng: &mut Rng) -> usize {
        let completed = std::mem::take(&mut *self.completed.lock().unwrap());
        for (req, first) in &completed {
            let again = self.settle(req, rng, false).await;
            if let Some((_, again)) = &again {
                if again.replayed && again.status == first.status && again.body == first.body {
                    continue;
                }
            }
            self.violation(format!(
                "{}: completed ({} {}), after the Redis restart {}",
                req.key,
                first.status,
                first.body,
                describe(again.as_ref().map(|(_, a)| a)),
            ));
        }
        completed.len()
    }
}

fn describe(answer: Option<&Answer>) -> String {
    match answer {
        None => "no final answer within the bound".to_owned(),
        Some(a) => format!("{} (replayed: {}) {}", a.status, a.replayed, a.body),
    }
}

/// Logical requests back to back until `until`.
async fn client(run: Arc<Run>, id: usize, seed: u64, until: Instant) {
    let mut rng = Rng::new(seed, id as u64 + 1);
    let mut n = 0;
    while Instant::now() < until {
        run.request(Logical::new(id, n), &mut rng).await;
        n += 1;
    }
}

/// The processes the injector kills and restarts.
struct Processes {
    redis: RedisServer,
    gateways: Vec<Gateway>,
    upstream_url: String,
}

impl Processes {
    fn start(upstream_url: String) -> Self {
        let redis =
            RedisServer::start_with(&["--appendonly", "yes", "--appendfsync", "always"]).unwrap();
        let mut processes = Processes {
            redis,
            gateways: Vec::new(),
            upstream_url,
        };
        processes.gateways = (0..GATEWAYS).map(|_| processes.gateway()).collect();
        processes
    }

    fn gateway(&self) -> Gateway {
        let redis = self.redis.url();
        let flags = [&["--redis", redis.as_str()], GATEWAY_FLAGS].concat();
        Gateway::start(&self.upstream_url, &flags)
    }

    fn addrs(&self) -> Vec<SocketAddr> {
        self.gateways.iter().map(|g| g.addr).collect()
    }

    /// SIGKILL, down for `down`, restart on the same port and data directory.
    async fn kill_redis(&mut self, down: Duration) {
        block_in_place(|| self.redis.kill()).unwrap();
        sleep(down).await;
        block_in_place(|| self.redis.restart()).unwrap();
    }

    /// SIGKILL gateway `i`, start a new one (on a new port); returns its address.
    fn kill_gateway(&mut self, i: usize) -> SocketAddr {
        block_in_place(|| {
            self.gateways[i].kill();
            self.gateways[i] = self.gateway();
        });
        self.gateways[i].addr
    }
}

/// Every 2–4 s until `until`, kills Redis or a gateway and restarts it.
async fn inject(run: Arc<Run>, mut processes: Processes, seed: u64, until: Instant) -> Processes {
    let mut rng = Rng::new(seed, 0);
    loop {
        sleep(rng.millis(2000, 4000)).await;
        if Instant::now() >= until {
            return processes;
        }
        if rng.below(2) == 0 {
            run.faults.add(Fault::RedisKill);
            processes.kill_redis(rng.millis(300, 1000)).await;
        } else {
            run.faults.add(Fault::GatewayKill);
            let i = rng.below(GATEWAYS as u64) as usize;
            let addr = processes.kill_gateway(i);
            run.gateways.lock().unwrap()[i] = addr;
        }
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v}: not a number"))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retried_requests_run_at_most_once_under_faults() {
    let secs = env_u64("TESSERA_FAULT_SECS", DEFAULT_SECS);
    let seed = env_u64("TESSERA_FAULT_SEED", DEFAULT_SEED);
    eprintln!("fault-injection: seed {seed}, {secs} s of traffic");

    let faults = Arc::new(Faults::default());
    let (upstream, upstream_url) = Upstream::start(seed, Arc::clone(&faults)).await;
    let processes = block_in_place(|| Processes::start(upstream_url));
    let run = Arc::new(Run {
        client: Client::builder().no_proxy().build().unwrap(),
        gateways: Mutex::new(processes.addrs()),
        faults: Arc::clone(&faults),
        counts: Counts::default(),
        violations: Mutex::default(),
        completed: Mutex::default(),
    });

    let until = Instant::now() + Duration::from_secs(secs);
    let injector = tokio::spawn(inject(Arc::clone(&run), processes, seed, until));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| tokio::spawn(client(Arc::clone(&run), id, seed, until)))
        .collect();
    for c in clients {
        c.await.unwrap();
    }
    let mut processes = injector.await.unwrap();

    let attempts = run.counts.attempts.load(SeqCst);

    // Nothing acknowledged as completed is lost across a Redis restart.
    sleep(SETTLE).await;
    processes.kill_redis(Duration::from_millis(500)).await;
    let arrivals = upstream.arrivals();
    let rechecked = run
        .recheck_completed(&mut Rng::new(seed, CLIENTS as u64 + 1))
        .await;
    let reached = upstream.arrivals() - arrivals;
    if reached > 0 {
        run.violation(format!(
            "{reached} replays of {rechecked} completed requests reached the upstream"
        ));
    }

    let duplicated = upstream.duplicated();
    let duplicates: usize = duplicated.iter().map(|(_, _, d)| d).sum();
    let c = &run.counts;
    let completed = c.completed.load(SeqCst);
    eprintln!(
        "fault-injection: {} requests, {attempts} attempts, faults: {}; completed={completed} \
         outcome_unknown={} still_retrying={} duplicates={duplicates} violations={}",
        c.requests.load(SeqCst),
        faults.summary(),
        c.outcome_unknown.load(SeqCst),
        c.still_retrying.load(SeqCst),
        run.violations.lock().unwrap().len(),
    );

    let mut failures = std::mem::take(&mut *run.violations.lock().unwrap());
    failures.extend(
        duplicated
            .iter()
            .map(|(key, runs, dups)| format!("{key}: executed {runs}x, {dups} duplicate arrivals")),
    );
    if completed <= MIN_COMPLETED {
        failures.push(format!("only {completed} requests completed"));
    }
    for name in faults.never_injected() {
        failures.push(format!("fault {name} never injected"));
    }
    assert!(
        failures.is_empty(),
        "{} failures (seed {seed}):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
