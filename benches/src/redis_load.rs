//! Load for the Redis store: claim + complete pairs from concurrent tasks, and
//! `redis-benchmark` against the same server for the baseline.

use std::{
    process::Command,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde::Serialize;
use tessera_std::store::{
    redis::{RedisConfig, RedisStore},
    Begin, Fingerprint, IdempotencyStore, Request, StoreConfig, StoredResponse,
};

/// The store's claim script, for `redis-benchmark ... EVALSHA`: the same Lua
/// work, without the client.
pub use tessera_std::store::redis::claim_script;

/// Idempotency keys handed out so far, so every pair claims a new key.
static NEXT_KEY: AtomicU64 = AtomicU64::new(0);

/// A store on `url` whose records live a minute (the run leaves no debris).
pub async fn connect(url: &str) -> RedisStore {
    let mut config = RedisConfig::new(b"bench digest secret".to_vec());
    config.store = StoreConfig {
        ttl: Duration::from_secs(60),
        ..StoreConfig::default()
    };
    config.timeout = Duration::from_secs(2);
    RedisStore::connect(url, config)
        .await
        .expect("redis-server is up")
}

/// Claims a new key and completes it: the two round trips of a first request.
pub async fn pair(store: &RedisStore) {
    let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed).to_le_bytes();
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64;
    let req = Request {
        scope: b"bench",
        key: &key,
        fingerprint: Fingerprint([7; 16]),
        stamp,
        keep_until: None,
    };
    let Ok(Begin::Fresh(ticket)) = store.begin(&req).await else {
        panic!("a new key was not claimed");
    };
    let response = StoredResponse {
        status: 200,
        headers: Vec::new(),
        body: b"ok".to_vec(),
    };
    store
        .complete(ticket, response)
        .await
        .expect("the owner completes");
}

/// Runs `total` pairs spread over one task per store in `stores` (the same
/// store repeated for a shared multiplexed connection), returning the time.
pub async fn pairs(stores: &[RedisStore], total: u64) -> Duration {
    let tasks = stores.len() as u64;
    let start = Instant::now();
    let handles: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(i, store)| {
            let store = store.clone();
            let n = total / tasks + u64::from((i as u64) < total % tasks);
            tokio::spawn(async move {
                for _ in 0..n {
                    pair(&store).await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("task ran");
    }
    start.elapsed()
}

/// One `redis-benchmark` result.
#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    /// What it ran.
    pub command: String,
    /// Requests per second: the median of the runs.
    pub rps: f64,
    /// Requests per second of each run.
    pub runs: Vec<f64>,
}

/// Runs `redis-benchmark -h 127.0.0.1 -p <port> --csv <args>` `runs` times
/// (one run is a second or two, easily hit by a neighbour's burst) and keeps
/// the median requests per second.
pub fn redis_benchmark(port: u16, runs: usize, args: &[&str]) -> std::io::Result<Baseline> {
    let port = port.to_string();
    let mut full = vec!["-h", "127.0.0.1", "-p", &port, "--csv"];
    full.extend_from_slice(args);
    let mut rates = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let out = Command::new("redis-benchmark").args(&full).output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        // `"SET","52910.05","0.683",...`: the second field of the last line.
        let rps: f64 = text
            .lines()
            .last()
            .and_then(|line| line.split("\",\"").nth(1))
            .and_then(|rps| rps.trim_matches('"').parse().ok())
            .ok_or_else(|| {
                std::io::Error::other(format!("redis-benchmark {full:?} printed {text:?}"))
            })?;
        rates.push(rps);
    }
    let mut sorted = rates.clone();
    sorted.sort_by(f64::total_cmp);
    let shown: Vec<&str> = full
        .iter()
        .map(|a| if a.is_empty() { "''" } else { a })
        .collect();
    Ok(Baseline {
        command: format!("redis-benchmark {}", shown.join(" ")),
        rps: sorted[sorted.len() / 2],
        runs: rates,
    })
}

/// Where the time of a run went: wall clock, and CPU seconds of this process
/// (the client) and of `redis-server`, per pair. On a two-core machine the
/// two compete, so client CPU is throughput the server does not get.
#[derive(Clone, Debug, Serialize)]
pub struct CpuSplit {
    /// Concurrent tasks.
    pub concurrency: usize,
    /// `per-task` or `multiplexed`.
    pub connection: &'static str,
    /// Pairs per second of wall clock.
    pub pairs_per_sec: f64,
    /// Client CPU microseconds per pair (user + system, this process).
    pub client_cpu_us: f64,
    /// `redis-server` CPU microseconds per pair (`INFO cpu`).
    pub server_cpu_us: f64,
}

/// CPU seconds used by this process so far (`/proc/self/stat` utime + stime).
fn own_cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    // `rest` starts at field 3 (state, not numeric, dropped by the parse).
    let ticks = f.get(10).copied().unwrap_or(0.0) + f.get(11).copied().unwrap_or(0.0);
    ticks / 100.0
}

/// `used_cpu_sys + used_cpu_user` of the server, from `INFO cpu`.
fn server_cpu_secs(info: &str) -> f64 {
    info.lines()
        .filter(|l| l.starts_with("used_cpu_sys:") || l.starts_with("used_cpu_user:"))
        .filter_map(|l| l.split(':').nth(1)?.trim().parse::<f64>().ok())
        .sum()
}

/// Runs `total` pairs as [`pairs`] does and splits the CPU between client and
/// server; `info` reads the server's `INFO cpu`.
pub fn cpu_split(
    rt: &tokio::runtime::Runtime,
    stores: &[RedisStore],
    connection: &'static str,
    total: u64,
    info: impl Fn() -> String,
) -> CpuSplit {
    let (client0, server0) = (own_cpu_secs(), server_cpu_secs(&info()));
    let wall = rt.block_on(pairs(stores, total));
    let (client1, server1) = (own_cpu_secs(), server_cpu_secs(&info()));
    let per_pair = |secs: f64| secs * 1e6 / total as f64;
    CpuSplit {
        concurrency: stores.len(),
        connection,
        pairs_per_sec: total as f64 / wall.as_secs_f64(),
        client_cpu_us: per_pair(client1 - client0),
        server_cpu_us: per_pair(server1 - server0),
    }
}
