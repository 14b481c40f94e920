//! One connection type over a single server or a cluster, with a timeout on
//! every call and errors sorted into retryable and final.

use std::time::Duration;

use redis::{
    aio::{ConnectionManager, ConnectionManagerConfig},
    cluster::ClusterClient,
    cluster_async::ClusterConnection,
    ErrorKind, RedisError, Script, ServerErrorKind, Value,
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

impl Conn {
    pub(super) async fn single(url: &str, timeout: Duration) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let manager =
            tokio::time::timeout(timeout, ConnectionManager::new_with_config(client, config))
                .await
                .map_err(|_| StoreError::Timeout)?
                .map_err(unavailable)?;
        Ok(Conn::Single(manager))
    }

    pub(super) async fn cluster(seeds: &[&str], timeout: Duration) -> Result<Self, StoreError> {
        let client = ClusterClient::builder(seeds.iter().copied())
            .connection_timeout(timeout)
            .response_timeout(timeout)
            // Our own retry loop retries whole scripts; the client only
            // follows MOVED/ASK and reconnects within one call.
            .retries(2)
            .build()
            .map_err(unavailable)?;
        let conn = tokio::time::timeout(timeout, client.get_async_connection())
            .await
            .map_err(|_| StoreError::Timeout)?
            .map_err(unavailable)?;
        Ok(Conn::Cluster(conn))
    }

    /// `PING` within `timeout` (on a cluster, to any node): for readiness.
    pub(super) async fn ping(&self, timeout: Duration) -> Result<(), StoreError> {
        let ping = redis::cmd("PING");
        let reply: Result<Result<Value, RedisError>, _> = tokio::time::timeout(timeout, async {
            match self.clone() {
                Conn::Single(mut c) => ping.query_async(&mut c).await,
                Conn::Cluster(mut c) => ping.query_async(&mut c).await,
            }
        })
        .await;
        match reply {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(unavailable(e)),
            Err(_) => Err(StoreError::Timeout),
        }
    }

    /// Runs `script` on `key` with `args`, within `timeout`.
    pub(super) async fn invoke(
        &self,
        script: &Script,
        key: &str,
        args: &[&[u8]],
        timeout: Duration,
    ) -> Result<Value, CallError> {
        let mut call = script.key(key);
        for arg in args {
            call.arg(*arg);
        }
        let reply = tokio::time::timeout(timeout, async {
            match self.clone() {
                Conn::Single(mut c) => call.invoke_async(&mut c).await,
                Conn::Cluster(mut c) => call.invoke_async(&mut c).await,
            }
        })
        .await;
        match reply {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(e)),
            Err(_) => Err(CallError::Failed {
                error: StoreError::Timeout,
                retry: true,
            }),
        }
    }
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
    StoreError::Unavailable(e.to_string())
}
