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

/// The store's claim script (`std-adapter/src/store/redis/scripts.rs`), for
/// `redis-benchmark ... EVALSHA`: the same Lua work, without the client.
pub const CLAIM_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(ARGV[3]) > now + tonumber(ARGV[6]) then return {'stale'} end
local rec = redis.call('HMGET', KEYS[1], 'st', 'fp', 'tok', 's', 'h', 'b')
if rec[1] then
  if rec[2] ~= ARGV[1] then return {'mismatch'} end
  if rec[1] == 'd' then return {'replay', rec[4], rec[5], rec[6]} end
  if rec[3] == ARGV[2] then return {'fresh'} end
  return {'inflight'}
end
redis.call('HSET', KEYS[1], 'st', 'r', 'fp', ARGV[1], 'tok', ARGV[2], 'keep', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {'fresh'}
";

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
    /// Requests per second.
    pub rps: f64,
}

/// Runs `redis-benchmark -h 127.0.0.1 -p <port> --csv <args>` and reads the
/// requests per second of its (single) result line.
pub fn redis_benchmark(port: u16, args: &[&str]) -> std::io::Result<Baseline> {
    let port = port.to_string();
    let mut full = vec!["-h", "127.0.0.1", "-p", &port, "--csv"];
    full.extend_from_slice(args);
    let out = Command::new("redis-benchmark").args(&full).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // `"SET","52910.05","0.683",...`: the second field of the last line.
    let rps = text
        .lines()
        .last()
        .and_then(|line| line.split("\",\"").nth(1))
        .and_then(|rps| rps.trim_matches('"').parse().ok())
        .ok_or_else(|| {
            std::io::Error::other(format!("redis-benchmark {full:?} printed {text:?}"))
        })?;
    Ok(Baseline {
        command: format!("redis-benchmark {}", full.join(" ")),
        rps,
    })
}
