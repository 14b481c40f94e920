//! The gateway's Redis flags: where records live, how they are named, and how
//! to reach Redis without its password showing up anywhere.

use std::path::PathBuf;

use clap::Args;

use super::Failure;
use crate::store::{
    redis::{RedisConfig, RedisStore},
    StoreConfig,
};

/// Shortest `--record-secret-file`, in bytes.
const MIN_RECORD_SECRET: usize = 32;

/// Where the gateway keeps idempotency records, when not in memory.
#[derive(Args, Debug)]
pub(crate) struct RedisArgs {
    /// Keep records in one Redis server, shared by every gateway using it:
    /// `redis://[user:password@]host:port/db`, or `rediss://` for TLS. Prefer
    /// the environment variable: a flag shows in `ps`.
    #[arg(
        long,
        value_name = "URL",
        env = "TESSERA_REDIS_URL",
        hide_env_values = true,
        conflicts_with = "redis_cluster"
    )]
    redis: Option<String>,
    /// Keep records in a Redis Cluster, reached through these seed nodes
    /// (comma-separated URLs, same forms as --redis).
    #[arg(
        long,
        value_name = "URL[,URL...]",
        env = "TESSERA_REDIS_CLUSTER",
        hide_env_values = true,
        value_delimiter = ','
    )]
    redis_cluster: Vec<String>,
    /// Name Redis records with the bytes of this file (at least 32), the same
    /// on every gateway. Without it names derive from the signing keys, so a
    /// gateway started with another key set (a rotation) no longer sees
    /// earlier records and retries run again.
    #[arg(long, value_name = "PATH")]
    record_secret_file: Option<PathBuf>,
    /// Prepended to every Redis key, so services sharing a Redis keep
    /// separate records.
    #[arg(long, value_name = "PREFIX", default_value = "tessera:")]
    redis_prefix: String,
    /// PEM root certificates to trust for rediss:// instead of the system's.
    #[arg(long, value_name = "PATH")]
    redis_ca_file: Option<PathBuf>,
}

impl RedisArgs {
    /// The Redis store and its kind (`redis`, `redis-cluster`), or `None` for
    /// the in-memory store. `key_digest` names records without
    /// `--record-secret-file`; without either (public keys only) Redis is refused.
    pub(crate) async fn connect(
        &self,
        store: StoreConfig,
        key_digest: Option<Vec<u8>>,
    ) -> Result<Option<(RedisStore, &'static str)>, Failure> {
        if self.redis.is_none() && self.redis_cluster.is_empty() {
            for (flag, set) in [
                ("--record-secret-file", self.record_secret_file.is_some()),
                ("--redis-ca-file", self.redis_ca_file.is_some()),
            ] {
                if set {
                    return Err(Failure(format!("{flag} needs --redis or --redis-cluster")));
                }
            }
            return Ok(None);
        }
        let digest_secret = match &self.record_secret_file {
            None => key_digest.ok_or_else(|| {
                Failure(
                    "--alg v4.public with Redis needs --record-secret-file: a public key \
                     cannot name records secretly"
                        .into(),
                )
            })?,
            Some(path) => {
                let secret = std::fs::read(path).map_err(|e| {
                    Failure(format!("cannot read record secret {}: {e}", path.display()))
                })?;
                if secret.len() < MIN_RECORD_SECRET {
                    return Err(Failure(format!(
                        "record secret {}: at least {MIN_RECORD_SECRET} bytes, got {}",
                        path.display(),
                        secret.len()
                    )));
                }
                secret
            }
        };
        let root_cert = match &self.redis_ca_file {
            None => None,
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                Failure(format!(
                    "cannot read --redis-ca-file {}: {e}",
                    path.display()
                ))
            })?),
        };
        let config = RedisConfig {
            store,
            prefix: self.redis_prefix.clone(),
            root_cert,
            ..RedisConfig::new(digest_secret)
        };
        match &self.redis {
            Some(url) => RedisStore::connect(url, config)
                .await
                .map(|s| Some((s, "redis")))
                .map_err(|e| Failure(format!("--redis {}: {e}", redact(url)))),
            None => {
                let seeds: Vec<&str> = self.redis_cluster.iter().map(String::as_str).collect();
                let shown: Vec<String> = seeds.iter().map(|u| redact(u)).collect();
                RedisStore::connect_cluster(&seeds, config)
                    .await
                    .map(|s| Some((s, "redis-cluster")))
                    .map_err(|e| Failure(format!("--redis-cluster {}: {e}", shown.join(","))))
            }
        }
    }
}

/// `url` with any password replaced by `***`, for messages and logs.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted() {
        for (url, shown) in [
            (
                "redis://app:s3cret@host:6379/0",
                "redis://app:***@host:6379/0",
            ),
            ("rediss://:s3cret@host", "rediss://:***@host"),
            ("redis://:p@ss@host/", "redis://:***@host/"),
            ("redis://host:6379/", "redis://host:6379/"),
            ("redis://user@host/", "redis://user@host/"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redact(url), shown, "{url}");
        }
    }
}
