//! Redis and Redis Cluster stores: many gateway instances, one shared record
//! per key, so a key runs once across all of them.
//!
//! - `begin` is one Lua script (see `scripts.rs`): look up, compare the fingerprint,
//!   and claim with a fresh random 128-bit lease token, atomically.
//! - `complete` and `abort` are compare-and-set on that token, within the
//!   lease: once it runs out the record answers `Abandoned` (outcome unknown)
//!   until its TTL, and neither a late owner nor a retry can change that.
//! - Expiry is `PEXPIRE` computed by the script from the server's `TIME`.
//! - Every call has a timeout and is retried (same token, so idempotently)
//!   up to [`RedisConfig::attempts`] times. An unreachable or slow Redis gives
//!   a [`StoreError`], never `Fresh`. The connection reconnects by itself when
//!   Redis is back.
//! - The scripts are a Redis Functions library, loaded with `FUNCTION LOAD
//!   REPLACE` on every primary when the store is made and called with `FCALL`:
//!   persisted and replicated with the data. A server that lost them (`FUNCTION
//!   FLUSH`, a restart without persistence, a fresh primary) answers "Function
//!   not found" and gets them again in the same call. On Redis < 7 (no
//!   Functions), or for an ACL user without `FUNCTION`, the store uses
//!   `EVALSHA`, loading the script on `NOSCRIPT`.
//! - Lease, TTL and skew are checked against [`MAX_MILLIS`] when the store is
//!   made, and again inside the scripts before any write.
//!
//! What survives a Redis restart, failover or eviction is in `STORES.md`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tessera_std::store::StoreError> {
//! use tessera_std::store::redis::{RedisConfig, RedisStore};
//!
//! let config = RedisConfig::new(b"the same secret on every instance".to_vec());
//! let single = RedisStore::connect("redis://127.0.0.1:6379/", config.clone()).await?;
//! let cluster = RedisStore::connect_cluster(&["redis://127.0.0.1:7000/"], config).await?;
//! # drop((single, cluster)); Ok(()) }
//! ```

mod conn;
mod record;
mod scripts;

pub use scripts::{claim_script, MAX_MILLIS};

use std::time::{Duration, Instant};

use conn::{CallError, Conn};
use redis::Value;
use scripts::Op;

use super::{
    Begin, IdempotencyStore, Request, StoreConfig, StoreError, StoredResponse, TicketError,
};

/// Redis store settings. Every instance sharing a Redis must use the same
/// `digest_secret` and `prefix`, or they will not see each other's records.
#[derive(Clone)]
pub struct RedisConfig {
    /// Lease, TTL, skew and response size limit.
    pub store: StoreConfig,
    /// Keys the digest that names records (see `STORES.md`).
    pub digest_secret: Vec<u8>,
    /// Prepended to every record key.
    pub prefix: String,
    /// Limit on each Redis call, connecting included.
    pub timeout: Duration,
    /// Tries per operation on a timeout or broken connection (at least 1).
    pub attempts: u32,
    /// PEM root certificates trusted for `rediss://` instead of the system's
    /// (used with the `redis-tls` feature).
    pub root_cert: Option<Vec<u8>>,
}

impl RedisConfig {
    /// Defaults (prefix `tessera:`, 500 ms timeout, 2 attempts) with `digest_secret`.
    pub fn new(digest_secret: Vec<u8>) -> Self {
        RedisConfig {
            store: StoreConfig::default(),
            digest_secret,
            prefix: "tessera:".to_string(),
            timeout: Duration::from_millis(500),
            attempts: 2,
            root_cert: None,
        }
    }
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("store", &self.store)
            .field("digest_secret", &"<redacted>")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .field("root_cert", &self.root_cert.is_some())
            .finish()
    }
}

/// An idempotency store on one Redis server or a Redis Cluster. Cheap to
/// clone; clones share the connection.
#[derive(Clone)]
pub struct RedisStore {
    conn: Conn,
    config: RedisConfig,
    /// `FCALL` the library (Redis 7+), else `EVALSHA`.
    functions: bool,
}

/// Ownership of an in-flight record: its key and the lease token.
pub struct RedisTicket {
    key: String,
    token: [u8; 16],
    /// Until when settling is worth retrying: the lease's end by this
    /// process's clock, a little early (the server's clock decides).
    settle_by: Instant,
}

/// Constant-time on the token, which is a bearer capability.
impl PartialEq for RedisTicket {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.key == other.key && bool::from(self.token.ct_eq(&other.token))
    }
}

impl Eq for RedisTicket {}

impl std::fmt::Debug for RedisTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTicket")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to one Redis server (`redis://host:port/db`), reconnecting by
    /// itself after failures.
    pub async fn connect(url: &str, config: RedisConfig) -> Result<Self, StoreError> {
        check_bounds(&config.store)?;
        let conn = Conn::single(url, &config).await?;
        Self::with_library(conn, config).await
    }

    /// Connects to a Redis Cluster through any of its nodes.
    pub async fn connect_cluster(seeds: &[&str], config: RedisConfig) -> Result<Self, StoreError> {
        check_bounds(&config.store)?;
        let conn = Conn::cluster(seeds, &config).await?;
        Self::with_library(conn, config).await
    }

    async fn with_library(conn: Conn, config: RedisConfig) -> Result<Self, StoreError> {
        let functions = conn.load_library(config.timeout).await?;
        if !functions {
            tracing::warn!(
                "cannot load Redis Functions (Redis < 7, or no FUNCTION permission): \
                 using EVALSHA, reloaded after NOSCRIPT"
            );
        }
        Ok(RedisStore {
            conn,
            config,
            functions,
        })
    }

    /// Whether the scripts run as Redis Functions (`FCALL`) rather than
    /// `EVALSHA`.
    pub fn uses_functions(&self) -> bool {
        self.functions
    }

    /// The configuration.
    pub fn config(&self) -> &RedisConfig {
        &self.config
    }

    /// The Redis key of `(scope, key)`'s record, for operators and tests.
    pub fn record_key(&self, scope: &[u8], key: &[u8]) -> String {
        record::key(&self.config.digest_secret, &self.config.prefix, scope, key)
    }

    /// Runs `script` with `key` and `args`, with a timeout on each try. Also
    /// says whether an earlier try may have run (its answer was lost).
    async fn run(&self, op: &Op, key: &str, args: &[&[u8]]) -> Result<(Value, bool), CallError> {
        let mut last = StoreError::Timeout;
        for attempt in 0..self.config.attempts.max(1) {
            match self
                .conn
                .invoke(op, self.functions, key, args, self.config.timeout)
                .await
            {
                Ok(v) => return Ok((v, attempt > 0)),
                Err(CallError::Failed { error, retry: true }) => last = error,
                Err(e) => return Err(e),
            }
        }
        Err(CallError::Failed {
            error: last,
            retry: false,
        })
    }

    /// Runs a `complete` or `abort` script and maps its answer. A Redis that
    /// cannot answer (restarting, failing over) is tried again with backoff
    /// until `settle_by`: a completed response must not be lost to a short
    /// outage, or retries would see the record abandoned. `releasing`: the
    /// script deletes the record, so after a lost reply a missing record may be
    /// its own doing.
    async fn settle(
        &self,
        op: &Op,
        key: &str,
        args: &[&[u8]],
        releasing: bool,
        settle_by: Instant,
    ) -> Result<(), StoreError> {
        let mut pause = Duration::from_millis(20);
        let mut retried = false;
        let answer = loop {
            match self.run(op, key, args).await {
                Err(CallError::Failed { error, .. }) => {
                    if Instant::now() + pause >= settle_by {
                        return Err(error);
                    }
                    tracing::debug!(%error, "store cannot settle the claim yet; trying again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                    retried = true;
                }
                Ok((v, again)) => break Ok((v, retried || again)),
                Err(e) => break Err(e),
            }
        };
        match answer {
            Ok((v, retried)) => match text(&v)? {
                b"ok" => Ok(()),
                // Gone either way: released, which is all abort asks for.
                b"expired" if retried && releasing => Ok(()),
                b"expired" => Err(StoreError::Ticket(TicketError::LeaseExpired)),
                b"other" => Err(StoreError::Ticket(TicketError::NotOwner)),
                _ => Err(StoreError::Corrupt),
            },
            // A full Redis cannot take the response; the lease runs out.
            Err(CallError::OutOfMemory) => {
                Err(StoreError::Unavailable("redis is out of memory".into()))
            }
            Err(CallError::Failed { error, .. }) => Err(error),
        }
    }
}

/// Refuses a lease, TTL or skew the scripts would refuse: zero, or over
/// [`MAX_MILLIS`].
fn check_bounds(store: &StoreConfig) -> Result<(), StoreError> {
    for (name, d, min) in [
        ("lease", store.lease, 1),
        ("ttl", store.ttl, 1),
        ("max_skew", store.max_skew, 0),
    ] {
        let ms = millis(d);
        if ms < min || ms > MAX_MILLIS {
            return Err(StoreError::Unavailable(format!(
                "invalid configuration: {name} must be {min} to {MAX_MILLIS} ms, got {ms} ms"
            )));
        }
    }
    Ok(())
}

impl IdempotencyStore for RedisStore {
    type Ticket = RedisTicket;

    fn config(&self) -> &StoreConfig {
        &self.config.store
    }

    async fn ready(&self) -> Result<(), StoreError> {
        self.conn.ping(self.config.timeout).await
    }

    async fn begin(
        &self,
        req: &Request<'_>,
    ) -> Result<Begin<StoredResponse, RedisTicket>, StoreError> {
        let claimed_at = Instant::now();
        let key = self.record_key(req.scope, req.key);
        let mut token = [0u8; 16];
        getrandom::fill(&mut token)
            .map_err(|e| StoreError::Unavailable(format!("no OS randomness: {e}")))?;
        let store = &self.config.store;
        let stamp = req.stamp.to_string();
        let keep = req.keep_until.map(|k| k.to_string()).unwrap_or_default();
        let lease = millis(store.lease).to_string();
        let skew = millis(store.max_skew).to_string();
        let ttl = millis(store.ttl).to_string();
        let args: [&[u8]; 7] = [
            &req.fingerprint.0,
            &token,
            stamp.as_bytes(),
            keep.as_bytes(),
            lease.as_bytes(),
            skew.as_bytes(),
            ttl.as_bytes(),
        ];
        let reply = match self.run(&scripts::CLAIM, &key, &args).await {
            Ok((reply, _)) => reply,
            // maxmemory with `noeviction`: Functions refuse a writing function
            // before it runs, so read without writing; a key that needs a new
            // record answers `full`. (`EVALSHA` fails only at the write.)
            Err(CallError::OutOfMemory) if self.functions => {
                match self.run(&scripts::PEEK, &key, &args).await {
                    Ok((reply, _)) => reply,
                    Err(CallError::OutOfMemory) => return Ok(Begin::Full),
                    Err(CallError::Failed { error, .. }) => return Err(error),
                }
            }
            Err(CallError::OutOfMemory) => return Ok(Begin::Full),
            Err(CallError::Failed { error, .. }) => return Err(error),
        };
        let Value::Array(parts) = reply else {
            return Err(StoreError::Corrupt);
        };
        let mut parts = parts.into_iter();
        let tag = parts.next().ok_or(StoreError::Corrupt)?;
        Ok(match text(&tag)? {
            b"fresh" => Begin::Fresh(RedisTicket {
                key,
                token,
                settle_by: claimed_at + store.lease.mul_f32(0.9),
            }),
            b"inflight" => Begin::InFlight,
            b"abandoned" => Begin::Abandoned,
            b"mismatch" => Begin::Mismatch,
            b"stale" => Begin::Stale,
            b"full" => Begin::Full,
            b"replay" => {
                let mut field = || match parts.next() {
                    Some(Value::BulkString(b)) => Ok(b),
                    _ => Err(StoreError::Corrupt),
                };
                let (status, headers, body) = (field()?, field()?, field()?);
                Begin::Replay(record::decode(&status, &headers, body)?)
            }
            _ => return Err(StoreError::Corrupt),
        })
    }

    /// A response over `max_response_bytes` is refused with `TooLarge` before
    /// any call; the record stays in flight until its lease ends.
    async fn complete(
        &self,
        ticket: RedisTicket,
        response: StoredResponse,
    ) -> Result<(), StoreError> {
        if response.stored_size() > self.config.store.max_response_bytes {
            return Err(StoreError::TooLarge);
        }
        let ttl = millis(self.config.store.ttl).to_string();
        let status = response.status.to_string();
        let headers = record::encode_headers(&response.headers)?;
        let args: [&[u8]; 5] = [
            &ticket.token,
            ttl.as_bytes(),
            status.as_bytes(),
            &headers,
            &response.body,
        ];
        self.settle(
            &scripts::COMPLETE,
            &ticket.key,
            &args,
            false,
            ticket.settle_by,
        )
        .await
    }

    async fn abort(&self, ticket: RedisTicket) -> Result<(), StoreError> {
        self.settle(
            &scripts::ABORT,
            &ticket.key,
            &[&ticket.token],
            true,
            ticket.settle_by,
        )
        .await
    }
}

/// The bytes of a string reply.
fn text(v: &Value) -> Result<&[u8], StoreError> {
    match v {
        Value::BulkString(b) => Ok(b),
        Value::SimpleString(s) => Ok(s.as_bytes()),
        _ => Err(StoreError::Corrupt),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(all(test, feature = "testkit"))]
mod tests {
    use super::*;
    use crate::testkit::RedisServer;

    async fn claim(store: &RedisStore, key: &str, token: &[u8; 16], fp: u8) -> Value {
        let now = crate::store::Clock::now_ms(&crate::store::SystemClock).to_string();
        let args: [&[u8]; 7] = [
            &[fp; 16],
            token,
            now.as_bytes(),
            b"",
            b"10000",
            b"1000",
            b"10000",
        ];
        store.run(&scripts::CLAIM, key, &args).await.unwrap().0
    }

    fn tag(v: &Value) -> &[u8] {
        let Value::Array(parts) = v else {
            panic!("{v:?}")
        };
        text(&parts[0]).unwrap()
    }

    /// A claim retried after a lost reply finds its own token and answers
    /// `fresh` again; a complete retried likewise answers `ok`; any other
    /// token still sees the claim as in flight.
    #[tokio::test]
    async fn scripts_are_idempotent_under_retry() {
        let server = RedisServer::start().unwrap();
        let store = RedisStore::connect(&server.url(), RedisConfig::new(b"s".to_vec()))
            .await
            .unwrap();
        let key = store.record_key(b"alice", b"k");
        assert_eq!(tag(&claim(&store, &key, &[1; 16], 7).await), b"fresh");
        assert_eq!(tag(&claim(&store, &key, &[1; 16], 7).await), b"fresh");
        assert_eq!(tag(&claim(&store, &key, &[2; 16], 7).await), b"inflight");
        let args: [&[u8]; 5] = [&[1; 16], b"10000", b"200", b"", b"body"];
        for _ in 0..2 {
            let (v, _) = store.run(&scripts::COMPLETE, &key, &args).await.unwrap();
            assert_eq!(text(&v).unwrap(), b"ok");
        }
        assert_eq!(tag(&claim(&store, &key, &[3; 16], 7).await), b"replay");
        // A done record cannot be aborted, even by its owner's token.
        let (v, _) = store.run(&scripts::ABORT, &key, &[&[1; 16]]).await.unwrap();
        assert_eq!(text(&v).unwrap(), b"other");
    }

    /// Out-of-bounds numbers are refused before any write: a complete with a
    /// TTL `PEXPIRE` would reject leaves the record running with its lease
    /// expiry (never done with the lease's TTL), and a claim refuses a zero
    /// lease. A `keep_until` centuries away is capped, not half-written.
    #[tokio::test]
    async fn scripts_check_bounds_before_writing() {
        let server = RedisServer::start().unwrap();
        let store = RedisStore::connect(&server.url(), RedisConfig::new(b"s".to_vec()))
            .await
            .unwrap();
        let key = store.record_key(b"alice", b"k");
        assert_eq!(tag(&claim(&store, &key, &[1; 16], 7).await), b"fresh");
        let huge = (u64::MAX / 2).to_string();
        for ttl in ["0", "-5", "x", huge.as_str(), "1e300"] {
            let args: [&[u8]; 5] = [&[1; 16], ttl.as_bytes(), b"200", b"", b"body"];
            let res = store.run(&scripts::COMPLETE, &key, &args).await;
            assert!(res.is_err(), "ttl {ttl}: {res:?}");
            assert_eq!(server.cli(&["HGET", &key, "st"]).unwrap(), "r", "ttl {ttl}");
            let pttl: u64 = server.cli(&["PTTL", &key]).unwrap().parse().unwrap();
            assert!(pttl <= 20_000, "ttl {ttl}: pttl {pttl}");
        }
        let now = crate::store::Clock::now_ms(&crate::store::SystemClock).to_string();
        let other = store.record_key(b"alice", b"other");
        let args: [&[u8]; 7] = [
            &[7; 16],
            &[2; 16],
            now.as_bytes(),
            b"",
            b"0",
            b"1000",
            b"10000",
        ];
        assert!(store.run(&scripts::CLAIM, &other, &args).await.is_err());
        assert_eq!(server.cli(&["EXISTS", &other]).unwrap(), "0");
        let args: [&[u8]; 7] = [
            &[7; 16],
            &[2; 16],
            now.as_bytes(),
            b"1e300",
            b"1000",
            b"1000",
            b"10000",
        ];
        let (v, _) = store.run(&scripts::CLAIM, &other, &args).await.unwrap();
        assert_eq!(tag(&v), b"fresh");
        let pttl: u64 = server.cli(&["PTTL", &other]).unwrap().parse().unwrap();
        assert!(pttl > MAX_MILLIS && pttl <= 2 * MAX_MILLIS, "{pttl}");
    }

    /// Settings the scripts would refuse are refused when the store is made.
    #[tokio::test]
    async fn out_of_bounds_settings_are_refused_up_front() {
        let server = RedisServer::start().unwrap();
        let too_long = Duration::from_millis(MAX_MILLIS + 1);
        for change in [
            |c: &mut StoreConfig, d| c.ttl = d,
            |c: &mut StoreConfig, d| c.lease = d,
            |c: &mut StoreConfig, d| c.max_skew = d,
        ] {
            let mut config = RedisConfig::new(b"s".to_vec());
            change(&mut config.store, too_long);
            let res = RedisStore::connect(&server.url(), config).await;
            assert!(
                matches!(&res, Err(StoreError::Unavailable(m)) if m.contains("invalid configuration")),
                "{:?}",
                res.err()
            );
        }
        let mut config = RedisConfig::new(b"s".to_vec());
        config.store.ttl = Duration::ZERO;
        assert!(RedisStore::connect(&server.url(), config).await.is_err());
    }
}
