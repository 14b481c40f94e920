//! `tessera gateway`: flags to a running gateway.

use std::{net::SocketAddr, num::NonZeroU32, sync::Arc, time::Duration};

use clap::Args;

use super::{keys::RingArgs, paseto::PasetoArgs, policy::PolicyArgs, redis::RedisArgs, Failure};
use crate::{
    gateway::{self, Forwarding, Limits, Metered, Metrics, Proxy, Upstream},
    layer::{auth::BearerAuthLayer, idempotency::IdempotencyLayer},
    store::{
        memory::{self, MemoryStore},
        redis::MAX_MILLIS,
        IdempotencyStore, StoreConfig,
    },
};

/// Arguments of `tessera gateway`.
#[derive(Args, Debug)]
pub(crate) struct GatewayArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free one).
    #[arg(long, value_name = "ADDR", env = "TESSERA_LISTEN")]
    listen: SocketAddr,
    /// Where requests go, e.g. http://127.0.0.1:9000.
    #[arg(long, value_name = "URL", env = "TESSERA_UPSTREAM")]
    upstream: String,
    #[command(flatten)]
    keys: RingArgs,
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(flatten)]
    paseto: PasetoArgs,
    #[command(flatten)]
    redis: RedisArgs,
    /// How long a completed response is replayed, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 24 * 3600, env = "TESSERA_TTL")]
    ttl: u64,
    /// Records the in-memory store holds (without --redis or --redis-cluster)
    /// [default: --max-store-bytes / 4096, so 65536]
    #[arg(long, value_name = "N", env = "TESSERA_CAPACITY")]
    capacity: Option<usize>,
    /// Memory the in-memory store may take: its windows, plus per record
    /// 512 bytes and its response (reserved at --max-response-bytes while in
    /// flight, its stored size once complete). Full: 503 with Retry-After.
    #[arg(
        long,
        value_name = "BYTES",
        default_value_t = 256 * 1024 * 1024,
        env = "TESSERA_MAX_STORE_BYTES"
    )]
    max_store_bytes: usize,
    /// Most live keys (in flight or completed, unexpired) one token subject
    /// holds; a new key over it gets 429 with Retry-After. 0: no quota
    /// [default: capacity / 16 in memory, 4096 with Redis]
    #[arg(long, value_name = "N", env = "TESSERA_MAX_KEYS_PER_SUB")]
    max_keys_per_sub: Option<u32>,
    /// Without --redis: refuse (409 `idempotency-key-stale`) every new key
    /// whose stamp (the token's `iat`) is not after this time: `now` (when the
    /// gateway starts) or Unix seconds. Records are lost on restart; with
    /// `now`, a retry of a request that ran before it is refused instead of
    /// run again, and so is any new key of a token issued before it.
    #[arg(long, value_name = "now|SECS", value_parser = restart_floor_ms, conflicts_with_all = ["redis", "redis_cluster"], env = "TESSERA_RESTART_FLOOR")]
    restart_floor: Option<u64>,
    /// Largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024, env = "TESSERA_MAX_BODY_BYTES")]
    max_body_bytes: usize,
    /// How long the upstream has to answer in full, body included. Past it the
    /// client gets 504 and the key keeps that unknown outcome (never re-run).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        env = "TESSERA_UPSTREAM_TIMEOUT"
    )]
    upstream_timeout: u64,
    /// Largest response body kept for replay. A larger one still reaches the
    /// first client; retries get 502 `response-not-stored`.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024, env = "TESSERA_MAX_RESPONSE_BYTES")]
    max_response_bytes: usize,
    /// Also replay this response header (repeatable); Content-Type, Location,
    /// ETag, Last-Modified, Cache-Control and the other representation headers
    /// always are.
    #[arg(
        long = "replay-header",
        value_name = "NAME",
        env = "TESSERA_REPLAY_HEADERS",
        value_delimiter = ','
    )]
    replay_headers: Vec<http::HeaderName>,
    /// Admin listener for /healthz, /readyz and /metrics (off without it).
    #[arg(long, value_name = "ADDR", env = "TESSERA_ADMIN_LISTEN")]
    admin_listen: Option<SocketAddr>,
    /// Close connections that have not sent complete request headers by then.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 10,
        env = "TESSERA_HEADER_TIMEOUT"
    )]
    header_timeout: u64,
    /// Connections served at once; more wait in the listen backlog.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10_000,
        env = "TESSERA_MAX_CONNECTIONS"
    )]
    max_connections: usize,
    /// On SIGTERM or SIGINT: stop accepting, then give requests in flight and
    /// their claims this long to finish before exiting.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        env = "TESSERA_SHUTDOWN_TIMEOUT"
    )]
    shutdown_timeout: u64,
    /// Keep client-sent X-Forwarded-For / Forwarded (only behind a trusted
    /// proxy); by default they are replaced with the client's address.
    #[arg(long, env = "TESSERA_TRUST_FORWARDED")]
    trust_forwarded: bool,
    /// Remove Authorization before forwarding; the upstream reads the verified
    /// subject from Tessera-Subject.
    #[arg(long, env = "TESSERA_STRIP_AUTHORIZATION")]
    strip_authorization: bool,
}

/// `--restart-floor`: `now` or Unix seconds, as milliseconds (the stores' unit).
fn restart_floor_ms(arg: &str) -> Result<u64, String> {
    let secs_ms = |secs: u64| secs.saturating_mul(1000);
    match arg {
        "now" => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .map_err(|e| format!("clock before 1970: {e}")),
        secs => secs
            .parse()
            .map(secs_ms)
            .map_err(|_| "expected `now` or Unix seconds".to_owned()),
    }
}

/// Time after the upstream deadline for storing the outcome (a store that is
/// restarting is retried for this long). The lease is the deadline plus this:
/// a claim still unsettled then is abandoned, never run again.
const SETTLE_MARGIN: Duration = Duration::from_secs(10);

/// Longest `--ttl` and `--upstream-timeout` (about 100 years).
const MAX_SECS: u64 = MAX_MILLIS / 1000 - SETTLE_MARGIN.as_secs();

/// Room for stored headers beyond `--max-response-bytes` of body.
const HEADER_ROOM: usize = 16 * 1024;

/// `--max-store-bytes` per record when `--capacity` is not given.
const BYTES_PER_RECORD: usize = 4096;

/// `--max-keys-per-sub` with Redis when not given.
const REDIS_QUOTA: u32 = 4096;

/// Refuses a budget that cannot hold the windows and one request in flight.
fn check_budget(capacity: usize, max_bytes: usize, config: &StoreConfig) -> Result<(), Failure> {
    let windows = memory::shards_for(capacity).saturating_mul(memory::WINDOW_BYTES);
    let one = memory::RECORD_BYTES
        .saturating_add(config.max_response_bytes)
        .saturating_add(128 * memory::HEADER_BYTES);
    let need = windows.saturating_add(one);
    if max_bytes < need {
        return Err(Failure(format!(
            "--max-store-bytes {max_bytes} cannot hold {capacity} records' windows ({windows} bytes) and one response of --max-response-bytes: at least {need}"
        )));
    }
    Ok(())
}

pub(crate) fn run(args: &GatewayArgs) -> Result<(), Failure> {
    let (keys, key_digest) = args.keys.keys_and_fingerprint()?;
    if !args.keys.is_paseto() && args.paseto.given() {
        return Err(Failure("--footer and --implicit are for --alg v4.*".into()));
    }
    let auth = args
        .paseto
        .apply(args.policy.apply(BearerAuthLayer::with_keys(keys))?);
    let upstream = Upstream::parse(&args.upstream).map_err(|e| Failure(e.to_string()))?;
    // Bounded so lease + TTL stay exact in Redis' Lua and in `PEXPIRE`.
    for (flag, secs) in [
        ("--ttl", args.ttl),
        ("--upstream-timeout", args.upstream_timeout),
    ] {
        if !(1..=MAX_SECS).contains(&secs) {
            return Err(Failure(format!("{flag} must be 1 to {MAX_SECS} seconds")));
        }
    }
    let upstream_timeout = Duration::from_secs(args.upstream_timeout);
    let metrics = Metrics::default();
    let proxy = Proxy::new(upstream, args.max_body_bytes, upstream_timeout)
        .forwarding(Forwarding {
            trust_forwarded: args.trust_forwarded,
            strip_authorization: args.strip_authorization,
        })
        .observe(metrics.upstream());
    let capacity = args
        .capacity
        .unwrap_or(args.max_store_bytes / BYTES_PER_RECORD);
    let quota = |default: u32| NonZeroU32::new(args.max_keys_per_sub.unwrap_or(default));
    let config = StoreConfig {
        ttl: Duration::from_secs(args.ttl),
        lease: upstream_timeout.saturating_add(SETTLE_MARGIN),
        max_response_bytes: args.max_response_bytes.saturating_add(HEADER_ROOM),
        max_keys_per_scope: quota(REDIS_QUOTA),
        ..StoreConfig::default()
    };
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Failure(format!("cannot start the runtime: {e}")))?;
    init_logs();
    runtime.block_on(async {
        match args.redis.connect(config, key_digest).await? {
            None => {
                let config = StoreConfig {
                    max_keys_per_scope: quota(u32::try_from(capacity / 16).unwrap_or(u32::MAX)),
                    ..config
                };
                check_budget(capacity, args.max_store_bytes, &config)?;
                let mut store = MemoryStore::bounded(capacity, args.max_store_bytes, config)
                    .map_err(|e| Failure(format!("in-memory store: {e}")))?;
                if let Some(floor_ms) = args.restart_floor {
                    store = store.with_restart_floor(floor_ms);
                }
                serve(args, auth, proxy, store, metrics, "memory").await
            }
            Some((store, kind)) => serve(args, auth, proxy, store, metrics, kind).await,
        }
    })
}

async fn serve<St: IdempotencyStore>(
    args: &GatewayArgs,
    auth: BearerAuthLayer,
    proxy: Proxy,
    store: St,
    metrics: Metrics,
    kind: &'static str,
) -> Result<(), Failure> {
    let store = Arc::new(Metered::new(store, &metrics));
    let idempotency = args.replay_headers.iter().fold(
        IdempotencyLayer::new(Arc::clone(&store))
            .max_request_bytes(args.max_body_bytes)
            .max_stored_body(args.max_response_bytes),
        |layer, name| layer.replay_header(name.clone()),
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Failure(format!("--listen {}: {e}", args.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure(format!("--listen {}: {e}", args.listen)))?;
    if let Some(admin) = args.admin_listen {
        let admin_listener = tokio::net::TcpListener::bind(admin)
            .await
            .map_err(|e| Failure(format!("--admin-listen {admin}: {e}")))?;
        let admin_addr = admin_listener
            .local_addr()
            .map_err(|e| Failure(format!("--admin-listen {admin}: {e}")))?;
        tracing::info!(addr = %admin_addr, "admin listening");
        let admin_app = gateway::admin_router(Arc::clone(&store), metrics.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(admin_listener, admin_app).await {
                tracing::error!(error = %e, "admin listener failed");
            }
        });
    }
    tracing::info!(%addr, upstream = args.upstream, store = kind, "listening");
    let claims = idempotency.tasks();
    let app = gateway::router(auth, idempotency, proxy, metrics);
    let limits = Limits {
        header_timeout: Duration::from_secs(args.header_timeout),
        max_connections: args.max_connections,
        shutdown_timeout: Duration::from_secs(args.shutdown_timeout),
    };
    let finished = gateway::serve(listener, app, limits, claims, gateway::shutdown_signal())
        .await
        .map_err(|e| Failure(format!("server: {e}")))?;
    if finished {
        tracing::info!("stopped");
    } else {
        tracing::warn!(
            shutdown_timeout = args.shutdown_timeout,
            "stopped with requests still running; their keys answer 409, then 502 outcome unknown"
        );
    }
    Ok(())
}

/// JSON lines on stderr; `RUST_LOG` filters (default `info`).
fn init_logs() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
