//! One connection type over a single server or a cluster, with a timeout on
//! every call and errors sorted into retryable and final.

use std::time::Duration;

use redis::{
    aio::{ConnectionManager, ConnectionManagerConfig},
    cluster::ClusterClient,
    cluster_async::ClusterConnection,
    AsyncConnectionConfig, ErrorKind, RedisError, ServerErrorKind, Value,
};

use super::{
    scripts::{self, Op},
    RedisConfig,
};
use crate::store::StoreError;

/// A multiplexed connection; clones share it.
#[derive(Clone)]
pub(super) enum Conn {
    /// One server; reconnects in the background after failures.
    Single(ConnectionManager),
    /// A cluster; follows slot moves and reconnects to nodes.
    Cluster(ClusterConnection),
}

/// Why a call failed.
#[derive(Debug)]
pub(super) enum CallError {
    /// Redis is at `maxmemory` and may not evict (`noeviction`).
    OutOfMemory,
    /// Any other failure; `retry` if running the script again may succeed.
    Failed { error: StoreError, retry: bool },
}

impl CallError {
    /// The store error a caller sees.
    pub(super) fn into_error(self) -> StoreError {
        match self {
            CallError::OutOfMemory => StoreError::Unavailable("redis is out of memory".into()),
            CallError::Failed { error, .. } => error,
        }
    }
}

impl Conn {
    pub(super) async fn single(url: &str, config: &RedisConfig) -> Result<Self, StoreError> {
        let timeout = config.timeout;
        let client = client(url, config)?;
        // One plain connection and PING first: the manager below retries a
        // failed connect until our timeout, which would turn a refused
        // password into "timed out".
        let probe = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let mut conn = tokio::time::timeout(
            timeout,
            client.get_multiplexed_async_connection_with_config(&probe),
        )
        .await
        .map_err(|_| StoreError::Timeout)?
        .map_err(connect_error)?;
        tokio::time::timeout(timeout, redis::cmd("PING").query_async::<()>(&mut conn))
            .await
            .map_err(|_| StoreError::Timeout)?
            .map_err(connect_error)?;
        drop(conn);
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let manager = tokio::time::timeout(
            timeout,
            ConnectionManager::new_with_config(client, manager_config),
        )
        .await
        .map_err(|_| StoreError::Timeout)?
        .map_err(connect_error)?;
        Ok(Conn::Single(manager))
    }

    pub(super) async fn cluster(seeds: &[&str], config: &RedisConfig) -> Result<Self, StoreError> {
        let timeout = config.timeout;
        let builder = ClusterClient::builder(seeds.iter().copied())
            .connection_timeout(timeout)
            .response_timeout(timeout)
            // Our own retry loop retries whole scripts; the client only
            // follows MOVED/ASK and reconnects within one call.
            .retries(2);
        #[cfg(feature = "redis-tls")]
        let builder = match &config.root_cert {
            Some(pem) => builder.certs(redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem.clone()),
            }),
            None => builder,
        };
        let client = builder.build().map_err(connect_error)?;
        let conn = tokio::time::timeout(timeout, client.get_async_connection())
            .await
            .map_err(|_| StoreError::Timeout)?
            .map_err(connect_error)?;
        let conn = Conn::Cluster(conn);
        // A PING surfaces a refused password now rather than on the first
        // request.
        tokio::time::timeout(timeout, conn.send(&redis::cmd("PING")))
            .await
            .map_err(|_| StoreError::Timeout)?
            .map_err(connect_error)?;
        Ok(conn)
    }

    /// `PING` within `timeout` (on a cluster, to any node): for readiness.
    pub(super) async fn ping(&self, timeout: Duration) -> Result<(), StoreError> {
        match tokio::time::timeout(timeout, self.send(&redis::cmd("PING"))).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(connect_error(e)),
            Err(_) => Err(StoreError::Timeout),
        }
    }

    /// Sends one command (no timeout).
    async fn send(&self, cmd: &redis::Cmd) -> redis::RedisResult<Value> {
        match self.clone() {
            Conn::Single(mut c) => cmd.query_async(&mut c).await,
            Conn::Cluster(mut c) => cmd.query_async(&mut c).await,
        }
    }

    /// Loads the Functions library on every primary, replacing any older
    /// copy. `Ok(false)`: the server has no Functions (Redis < 7) or this
    /// user may not load them.
    pub(super) async fn load_library(&self, timeout: Duration) -> Result<bool, StoreError> {
        let mut cmd = redis::cmd("FUNCTION");
        cmd.arg("LOAD").arg("REPLACE").arg(&*scripts::LIBRARY);
        let reply = tokio::time::timeout(timeout, self.send(&cmd))
            .await
            .map_err(|_| StoreError::Timeout)?;
        match reply {
            Ok(_) => Ok(true),
            // Redis < 7, or an ACL user without `FUNCTION`.
            Err(e)
                if e.code() == Some("NOPERM")
                    || e.detail().is_some_and(|d| d.contains("unknown command")) =>
            {
                Ok(false)
            }
            Err(e) => Err(connect_error(e)),
        }
    }

    /// `SET key value NX GET PX px` within `timeout`: nil if the key was new
    /// (and is now `value`), else the record it holds, unchanged.
    pub(super) async fn set_new(
        &self,
        key: &str,
        value: &[u8],
        px: u64,
        timeout: Duration,
    ) -> Result<Value, CallError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key)
            .arg(value)
            .arg("NX")
            .arg("GET")
            .arg("PX")
            .arg(px);
        timed(timeout, self.send(&cmd)).await
    }

    /// The server's clock (`TIME`) in Unix ms, within `timeout`; on a
    /// cluster, any node's.
    pub(super) async fn server_ms(&self, timeout: Duration) -> Result<u64, CallError> {
        let reply = timed(timeout, self.send(&redis::cmd("TIME"))).await?;
        let number = |v: &Value| match v {
            Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse::<u64>().ok(),
            _ => None,
        };
        match &reply {
            Value::Array(parts) if parts.len() == 2 => {
                let (s, us) = (number(&parts[0]), number(&parts[1]));
                s.zip(us)
                    .and_then(|(s, us)| s.checked_mul(1000)?.checked_add(us / 1000))
                    .ok_or(CallError::Failed {
                        error: StoreError::Corrupt,
                        retry: false,
                    })
            }
            _ => Err(CallError::Failed {
                error: StoreError::Corrupt,
                retry: false,
            }),
        }
    }

    /// Runs `op` on `keys` with `args`, within `timeout`: `FCALL` if
    /// `functions`, reloading the library once if the server lost it (flush,
    /// restart without persistence, a new primary); else `EVALSHA`, which
    /// loads the script on `NOSCRIPT`.
    pub(super) async fn invoke(
        &self,
        op: &Op,
        functions: bool,
        keys: &[&str],
        args: &[&[u8]],
        timeout: Duration,
    ) -> Result<Value, CallError> {
        if !functions {
            let mut call = op.script.prepare_invoke();
            for key in keys {
                call.key(*key);
            }
            for arg in args {
                call.arg(*arg);
            }
            return timed(timeout, async {
                match self.clone() {
                    Conn::Single(mut c) => call.invoke_async(&mut c).await,
                    Conn::Cluster(mut c) => call.invoke_async(&mut c).await,
                }
            })
            .await;
        }
        let mut cmd = redis::cmd("FCALL");
        cmd.arg(&op.function).arg(keys.len()).arg(keys);
        for arg in args {
            cmd.arg(*arg);
        }
        let fcall = || tokio::time::timeout(timeout, self.send(&cmd));
        let reply = match fcall().await {
            Ok(Err(e)) if lost_functions(&e) => {
                tracing::info!("redis lost the tessera functions; loading them again");
                self.load_library(timeout)
                    .await
                    .map_err(|error| CallError::Failed { error, retry: true })?;
                fcall().await
            }
            reply => reply,
        };
        sort(reply)
    }
}

/// `call` within `timeout`, its error sorted.
async fn timed(
    timeout: Duration,
    call: impl std::future::Future<Output = redis::RedisResult<Value>>,
) -> Result<Value, CallError> {
    sort(tokio::time::timeout(timeout, call).await)
}

fn sort(
    reply: Result<redis::RedisResult<Value>, tokio::time::error::Elapsed>,
) -> Result<Value, CallError> {
    match reply {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(classify(e)),
        Err(_) => Err(CallError::Failed {
            error: StoreError::Timeout,
            retry: true,
        }),
    }
}

/// "Function not found": the server has no tessera library (flushed,
/// restarted empty, a new primary).
fn lost_functions(e: &RedisError) -> bool {
    e.detail().is_some_and(|d| d.contains("Function not found"))
}

fn classify(e: RedisError) -> CallError {
    match e.code() {
        Some("OOM") => return CallError::OutOfMemory,
        // Our key holds something that is not our record.
        Some("WRONGTYPE") => {
            return CallError::Failed {
                error: StoreError::Corrupt,
                retry: false,
            }
        }
        _ if e
            .detail()
            .is_some_and(|d| d.contains("tessera: corrupt record")) =>
        {
            return CallError::Failed {
                error: StoreError::Corrupt,
                retry: false,
            }
        }
        _ => {}
    }
    if e.is_timeout() {
        return CallError::Failed {
            error: StoreError::Timeout,
            retry: true,
        };
    }
    let transient = e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || matches!(
            e.kind(),
            ErrorKind::Server(
                ServerErrorKind::ClusterDown
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::BusyLoading
            )
        );
    CallError::Failed {
        error: unavailable(e),
        retry: transient,
    }
}

fn unavailable(e: RedisError) -> StoreError {
    if is_auth(&e) {
        return StoreError::Unavailable(format!("authentication failed: {e}"));
    }
    StoreError::Unavailable(e.to_string())
}

/// A refused password, a missing one, or an ACL user without permission.
fn is_auth(e: &RedisError) -> bool {
    e.kind() == ErrorKind::AuthenticationFailed
        || matches!(e.code(), Some("NOAUTH" | "WRONGPASS" | "NOPERM"))
}

/// An error while connecting: never retried, and never a timeout unless one is.
fn connect_error(e: RedisError) -> StoreError {
    if e.is_timeout() {
        return StoreError::Timeout;
    }
    unavailable(e)
}

/// A client for `url`, trusting `config.root_cert` for `rediss://` if set.
fn client(url: &str, config: &RedisConfig) -> Result<redis::Client, StoreError> {
    #[cfg(feature = "redis-tls")]
    if let Some(pem) = &config.root_cert {
        let certs = redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(pem.clone()),
        };
        return redis::Client::build_with_tls(url, certs).map_err(connect_error);
    }
    #[cfg(not(feature = "redis-tls"))]
    let _ = config;
    redis::Client::open(url).map_err(connect_error)
}
