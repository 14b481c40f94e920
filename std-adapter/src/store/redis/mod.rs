//! Redis and Redis Cluster stores: many gateway instances, one shared record
//! per key, so a key runs once across all of them.
//!
//! - `begin` is, for a new key, one `SET key record NX GET PX lease+ttl` of a
//!   packed record (see [`crate::store::record_codec`]) carrying a fresh lease
//!   token: the server's clock sets the expiry, and the lease end is read back
//!   from it. The same command returns an existing record: a completed one with
//!   the same fingerprint is the replay, another fingerprint a mismatch. Only a
//!   running record (in flight or abandoned: the server's clock decides), a
//!   stamp the client cannot clear as not too far ahead (see
//!   `server_clock.rs`), a `keep_until`, a quota, or a Redis without
//!   Functions (< 7, where `SET … NX GET` does not exist) take the claim script
//!   (see `scripts.rs`): look up, compare, and claim, atomically.
//! - With a per-scope quota ([`StoreConfig::max_keys_per_scope`]) every claim
//!   runs the script, which counts the scope's live records in a sorted set in
//!   the same slot and answers `Quota` before writing anything. One scope's
//!   records live on one Cluster node, quota or not (their keys share a hash
//!   tag made from a keyed digest of the scope, so turning the quota on or
//!   off renames nothing); keys are named by the record secret.
//! - `complete` and `abort` are compare-and-set on that token, within the
//!   lease: once it runs out the record answers `Abandoned` (outcome unknown)
//!   until its TTL, and neither a late owner nor a retry can change that.
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
mod server_clock;
mod tokens;

pub use scripts::{claim_script, MAX_MILLIS};

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use conn::{CallError, Conn};
use redis::Value;
use scripts::Op;
use server_clock::ServerClock;
use tokens::Tokens;

use super::{
    record_codec::{self, Lease, Record},
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
    /// `FCALL` the library and claim new keys with `SET … NX GET` (Redis
    /// 7+), else `EVALSHA` only.
    functions: bool,
    tokens: Arc<Tokens>,
    clock: Arc<ServerClock>,
}

/// Ownership of an in-flight record: its key and the lease token.
pub struct RedisTicket {
    key: String,
    /// The scope's set, with a quota.
    scope_key: Option<String>,
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
        let time = conn
            .server_ms(config.timeout)
            .await
            .map_err(CallError::into_error)?;
        let clock = Arc::new(ServerClock::new(time, Instant::now()));
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
            tokens: Arc::new(Tokens::new()?),
            clock,
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
        self.keys(scope, key).record
    }

    /// The Redis key of `scope`'s set of live records (with a quota), for
    /// operators and tests.
    pub fn scope_key(&self, scope: &[u8]) -> Option<String> {
        self.keys(scope, b"").scope
    }

    fn keys(&self, scope: &[u8], key: &[u8]) -> record::Keys {
        let quota = self.config.store.max_keys_per_scope.is_some();
        let c = &self.config;
        record::keys(&c.digest_secret, &c.prefix, quota, scope, key)
    }

    /// Runs `op` on `keys` with `args`; see [`Self::retrying`].
    async fn run(
        &self,
        op: &Op,
        keys: &[&str],
        args: &[&[u8]],
    ) -> Result<(Value, bool), CallError> {
        let (conn, functions, timeout) = (&self.conn, self.functions, self.config.timeout);
        self.retrying(|| conn.invoke(op, functions, keys, args, timeout))
            .await
    }

    /// Runs `call` with a timeout on each try, trying again after a timeout
    /// or broken connection. Also says whether an earlier try may have run
    /// (its answer was lost).
    async fn retrying<F, Fut>(&self, call: F) -> Result<(Value, bool), CallError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Value, CallError>>,
    {
        let mut last = StoreError::Timeout;
        for attempt in 0..self.config.attempts.max(1) {
            match call().await {
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
        keys: &[&str],
        args: &[&[u8]],
        releasing: bool,
        settle_by: Instant,
    ) -> Result<(), StoreError> {
        let mut pause = Duration::from_millis(20);
        let mut retried = false;
        let answer = loop {
            match self.run(op, keys, args).await {
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
            Err(e) => Err(e.into_error()),
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

impl RedisStore {
    /// The fast claim: `SET … NX GET` of a new running record. `None` when
    /// the answer needs the script (a running record with this fingerprint,
    /// or Redis at `maxmemory`).
    async fn claim_new(
        &self,
        req: &Request<'_>,
        key: &str,
        token: [u8; 16],
    ) -> Result<Option<Begin<StoredResponse, ()>>, StoreError> {
        let store = &self.config.store;
        let ttl = millis(store.ttl);
        let running = Record::Running {
            fingerprint: req.fingerprint.0,
            token,
            lease: Lease::FromExpiry { ttl },
        }
        .encode()?;
        let px = millis(store.lease).saturating_add(ttl);
        let (conn, timeout) = (&self.conn, self.config.timeout);
        let reply = match self
            .retrying(|| conn.set_new(key, &running, px, timeout))
            .await
        {
            Ok((reply, _)) => reply,
            Err(CallError::OutOfMemory) => return Ok(None),
            Err(CallError::Failed { error, .. }) => return Err(error),
        };
        let existing = match reply {
            Value::Nil => return Ok(Some(Begin::Fresh(()))),
            Value::BulkString(b) => record_codec::decode(&b)?,
            _ => return Err(StoreError::Corrupt),
        };
        Ok(match existing {
            Record::Done {
                fingerprint,
                response,
                ..
            } if fingerprint == req.fingerprint.0 => Some(Begin::Replay(response)),
            Record::Running { fingerprint, .. } if fingerprint == req.fingerprint.0 => None,
            _ => Some(Begin::Mismatch),
        })
    }

    /// The claim script, or the read-only one at `maxmemory`.
    async fn claim_script(
        &self,
        req: &Request<'_>,
        keys: &[&str],
        token: [u8; 16],
    ) -> Result<Begin<StoredResponse, ()>, StoreError> {
        let store = &self.config.store;
        let stamp = req.stamp.to_string();
        let keep = req.keep_until.map(|k| k.to_string()).unwrap_or_default();
        let lease = millis(store.lease).to_string();
        let skew = millis(store.max_skew).to_string();
        let ttl = millis(store.ttl).to_string();
        let max = store
            .max_keys_per_scope
            .map(|m| m.to_string())
            .unwrap_or_default();
        let args: [&[u8]; 8] = [
            &req.fingerprint.0,
            &token,
            stamp.as_bytes(),
            keep.as_bytes(),
            lease.as_bytes(),
            skew.as_bytes(),
            ttl.as_bytes(),
            max.as_bytes(),
        ];
        let reply = match self.run(&scripts::CLAIM, keys, &args).await {
            Ok((reply, _)) => reply,
            // maxmemory with `noeviction`: Functions refuse a writing function
            // before it runs, so read without writing; a key that needs a new
            // record answers `full`. (`EVALSHA` fails only at the write.)
            Err(CallError::OutOfMemory) if self.functions => {
                match self.run(&scripts::PEEK, keys, &args).await {
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
            b"fresh" => Begin::Fresh(()),
            b"inflight" => Begin::InFlight,
            b"abandoned" => Begin::Abandoned,
            b"mismatch" => Begin::Mismatch,
            b"stale" => Begin::Stale,
            b"full" => Begin::Full,
            b"quota" => Begin::Quota,
            b"replay" => match parts.next() {
                Some(Value::BulkString(b)) => match record_codec::decode(&b)? {
                    Record::Done { response, .. } => Begin::Replay(response),
                    Record::Running { .. } => return Err(StoreError::Corrupt),
                },
                _ => return Err(StoreError::Corrupt),
            },
            _ => return Err(StoreError::Corrupt),
        })
    }

    /// Whether the fast claim may answer `req`: no quota, no `keep_until`,
    /// Redis 7+, and a stamp the server's clock surely does not call stale.
    fn fast_path(&self, req: &Request<'_>, at: Instant) -> bool {
        let store = &self.config.store;
        self.functions
            && store.max_keys_per_scope.is_none()
            && req.keep_until.is_none()
            && req.stamp
                <= self
                    .clock
                    .at_least(at)
                    .saturating_add(millis(store.max_skew))
    }

    /// Reads the server's clock again if due (one caller per period).
    async fn refresh_clock(&self, at: Instant) {
        if self.functions && self.clock.due(at) {
            if let Ok(ms) = self.conn.server_ms(self.config.timeout).await {
                self.clock.set(ms, Instant::now());
            }
        }
    }
}

impl IdempotencyStore for RedisStore {
    type Ticket = RedisTicket;

    fn config(&self) -> &StoreConfig {
        &self.config.store
    }

    async fn ready(&self) -> Result<(), StoreError> {
        self.conn.ping(self.config.timeout).await
    }

    /// With a quota: the time until the scope's earliest live record ends,
    /// if the scope is at its quota. `None` otherwise.
    async fn retry_after(&self, req: &Request<'_>) -> Result<Option<Duration>, StoreError> {
        let (Some(max), Some(scope)) = (
            self.config.store.max_keys_per_scope,
            self.keys(req.scope, req.key).scope,
        ) else {
            return Ok(None);
        };
        let max = max.to_string();
        let reply = match self
            .run(&scripts::EARLIEST, &[&scope], &[max.as_bytes()])
            .await
        {
            Ok((reply, _)) => reply,
            Err(e) => return Err(e.into_error()),
        };
        match reply {
            Value::Int(ms) => Ok(u64::try_from(ms).ok().map(Duration::from_millis)),
            _ => Err(StoreError::Corrupt),
        }
    }

    async fn begin(
        &self,
        req: &Request<'_>,
    ) -> Result<Begin<StoredResponse, RedisTicket>, StoreError> {
        let claimed_at = Instant::now();
        self.refresh_clock(claimed_at).await;
        let record::Keys { record, scope } = self.keys(req.scope, req.key);
        let token = self.tokens.next();
        let fast = if self.fast_path(req, claimed_at) {
            self.claim_new(req, &record, token).await?
        } else {
            None
        };
        let answer = match fast {
            Some(answer) => answer,
            None => {
                let keys: &[&str] = match &scope {
                    Some(set) => &[&record, set],
                    None => &[&record],
                };
                self.claim_script(req, keys, token).await?
            }
        };
        Ok(match answer {
            Begin::Fresh(()) => Begin::Fresh(RedisTicket {
                key: record,
                scope_key: scope,
                token,
                settle_by: claimed_at + self.config.store.lease.mul_f32(0.9),
            }),
            Begin::Replay(r) => Begin::Replay(r),
            Begin::InFlight => Begin::InFlight,
            Begin::Abandoned => Begin::Abandoned,
            Begin::Mismatch => Begin::Mismatch,
            Begin::Full => Begin::Full,
            Begin::Quota => Begin::Quota,
            Begin::Stale => Begin::Stale,
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
        let packed = record_codec::encode_response(&response)?;
        let args: [&[u8]; 3] = [&ticket.token, ttl.as_bytes(), &packed];
        self.settle(
            &scripts::COMPLETE,
            &ticket.keys(),
            &args,
            false,
            ticket.settle_by,
        )
        .await
    }

    async fn abort(&self, ticket: RedisTicket) -> Result<(), StoreError> {
        self.settle(
            &scripts::ABORT,
            &ticket.keys(),
            &[&ticket.token],
            true,
            ticket.settle_by,
        )
        .await
    }
}

impl RedisTicket {
    /// The script keys: the record, and the scope's set with a quota.
    fn keys(&self) -> Vec<&str> {
        std::iter::once(self.key.as_str())
            .chain(self.scope_key.as_deref())
            .collect()
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
        store.run(&scripts::CLAIM, &[key], &args).await.unwrap().0
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
        let packed = record_codec::encode_response(&StoredResponse::default()).unwrap();
        let args: [&[u8]; 3] = [&[1; 16], b"10000", &packed];
        for _ in 0..2 {
            let (v, _) = store.run(&scripts::COMPLETE, &[&key], &args).await.unwrap();
            assert_eq!(text(&v).unwrap(), b"ok");
        }
        assert_eq!(tag(&claim(&store, &key, &[3; 16], 7).await), b"replay");
        // A done record cannot be aborted, even by its owner's token.
        let (v, _) = store
            .run(&scripts::ABORT, &[&key], &[&[1; 16]])
            .await
            .unwrap();
        assert_eq!(text(&v).unwrap(), b"other");
    }

    /// A fast claim retried after a lost reply finds its own running record
    /// and defers to the script, which answers `fresh` to the same token
    /// only; the record's lease end is the server's claim time plus the lease.
    #[tokio::test]
    async fn fast_claim_is_idempotent_under_retry() {
        let server = RedisServer::start().unwrap();
        let store = RedisStore::connect(&server.url(), RedisConfig::new(b"s".to_vec()))
            .await
            .unwrap();
        let now = crate::store::Clock::now_ms(&crate::store::SystemClock);
        let req = Request {
            scope: b"alice",
            key: b"k",
            fingerprint: crate::store::Fingerprint([7; 16]),
            stamp: now,
            keep_until: None,
        };
        let key = store.record_key(b"alice", b"k");
        let fresh = store.claim_new(&req, &key, [1; 16]).await.unwrap();
        assert_eq!(fresh, Some(Begin::Fresh(())));
        assert_eq!(store.claim_new(&req, &key, [1; 16]).await.unwrap(), None);
        let again = store.claim_script(&req, &[&key], [1; 16]).await.unwrap();
        assert_eq!(again, Begin::Fresh(()));
        let other = store.claim_script(&req, &[&key], [2; 16]).await.unwrap();
        assert_eq!(other, Begin::InFlight);
        let pttl: u64 = server.cli(&["PTTL", &key]).unwrap().parse().unwrap();
        let full = millis(store.config.store.lease + store.config.store.ttl);
        assert!(pttl <= full && pttl > full - 5_000, "{pttl}");
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
        let packed = record_codec::encode_response(&StoredResponse::default()).unwrap();
        for ttl in ["0", "-5", "x", huge.as_str(), "1e300"] {
            let args: [&[u8]; 3] = [&[1; 16], ttl.as_bytes(), &packed];
            let res = store.run(&scripts::COMPLETE, &[&key], &args).await;
            assert!(res.is_err(), "ttl {ttl}: {res:?}");
            let rec = server.cli(&["GETRANGE", &key, "0", "0"]).unwrap();
            assert_eq!(rec, "k", "ttl {ttl}");
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
        assert!(store.run(&scripts::CLAIM, &[&other], &args).await.is_err());
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
        let (v, _) = store.run(&scripts::CLAIM, &[&other], &args).await.unwrap();
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
