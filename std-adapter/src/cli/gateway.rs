//! `tessera gateway`: flags to a running gateway.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use clap::Args;

use super::{keys::RingArgs, paseto::PasetoArgs, policy::PolicyArgs, Failure};
use crate::{
    gateway::{self, Proxy, Upstream},
    layer::{auth::BearerAuthLayer, idempotency::IdempotencyLayer},
    store::{
        memory::MemoryStore,
        redis::{RedisConfig, RedisStore},
        IdempotencyStore, StoreConfig,
    },
};

/// Arguments of `tessera gateway`.
#[derive(Args, Debug)]
pub(crate) struct GatewayArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free one).
    #[arg(long, value_name = "ADDR")]
    listen: SocketAddr,
    /// Where requests go, e.g. http://127.0.0.1:9000.
    #[arg(long, value_name = "URL")]
    upstream: String,
    #[command(flatten)]
    keys: RingArgs,
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(flatten)]
    paseto: PasetoArgs,
    /// Keep idempotency records in Redis, shared by every gateway started with
    /// the same keys (record names are derived from the key material).
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// How long a completed response is replayed, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 24 * 3600)]
    ttl: u64,
    /// Records the in-memory window holds (without --redis).
    #[arg(long, value_name = "N", default_value_t = 65_536)]
    capacity: usize,
    /// Largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
    /// How long the upstream has to answer in full, body included. Past it the
    /// client gets 504 and the key keeps that unknown outcome (never re-run).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    upstream_timeout: u64,
    /// Largest response body kept for replay. A larger one still reaches the
    /// first client; retries get 502 `response-not-stored`.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    max_response_bytes: usize,
    /// Also replay this response header (repeatable); Content-Type, Location,
    /// ETag, Last-Modified, Cache-Control and the other representation headers
    /// always are.
    #[arg(long = "replay-header", value_name = "NAME")]
    replay_headers: Vec<http::HeaderName>,
}

/// Time after the upstream deadline for storing the outcome (a store that is
/// restarting is retried for this long). The lease is the deadline plus this:
/// a claim still unsettled then is abandoned, never run again.
const SETTLE_MARGIN: Duration = Duration::from_secs(10);

/// Room for stored headers beyond `--max-response-bytes` of body.
const HEADER_ROOM: usize = 16 * 1024;

pub(crate) fn run(args: &GatewayArgs) -> Result<(), Failure> {
    let (keys, key_digest) = args.keys.keys_and_fingerprint()?;
    if !args.keys.is_paseto() && args.paseto.given() {
        return Err(Failure("--footer and --implicit are for --alg v4.*".into()));
    }
    let auth = args
        .paseto
        .apply(args.policy.apply(BearerAuthLayer::with_keys(keys))?);
    let upstream = Upstream::parse(&args.upstream).map_err(|e| Failure(e.to_string()))?;
    if args.ttl == 0 {
        return Err(Failure("--ttl must be at least 1 second".into()));
    }
    if args.upstream_timeout == 0 {
        return Err(Failure(
            "--upstream-timeout must be at least 1 second".into(),
        ));
    }
    let upstream_timeout = Duration::from_secs(args.upstream_timeout);
    let proxy = Proxy::new(upstream, args.max_body_bytes, upstream_timeout);
    let config = StoreConfig {
        ttl: Duration::from_secs(args.ttl),
        lease: upstream_timeout.saturating_add(SETTLE_MARGIN),
        max_response_bytes: args.max_response_bytes.saturating_add(HEADER_ROOM),
        ..StoreConfig::default()
    };
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Failure(format!("cannot start the runtime: {e}")))?;
    init_logs();
    runtime.block_on(async {
        match &args.redis {
            None => {
                let store = MemoryStore::new(args.capacity, config)
                    .map_err(|e| Failure(format!("--capacity {}: {e}", args.capacity)))?;
                serve(args, auth, proxy, store, "memory").await
            }
            Some(url) => {
                let redis = RedisConfig {
                    store: config,
                    ..RedisConfig::new(key_digest)
                };
                let store = RedisStore::connect(url, redis)
                    .await
                    .map_err(|e| Failure(format!("--redis {url}: {e}")))?;
                serve(args, auth, proxy, store, "redis").await
            }
        }
    })
}

async fn serve<St: IdempotencyStore>(
    args: &GatewayArgs,
    auth: BearerAuthLayer,
    proxy: Proxy,
    store: St,
    kind: &'static str,
) -> Result<(), Failure> {
    let idempotency = args.replay_headers.iter().fold(
        IdempotencyLayer::new(Arc::new(store))
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
    tracing::info!(%addr, upstream = args.upstream, store = kind, "listening");
    let app = gateway::router(auth, idempotency, proxy);
    gateway::serve(listener, app, gateway::shutdown_signal())
        .await
        .map_err(|e| Failure(format!("server: {e}")))?;
    tracing::info!("stopped");
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
