//! The plain-Redis baseline that benchmarks compare the Redis store with.

use redis::{aio::ConnectionLike, RedisResult};

/// What a hand-rolled idempotency check costs: one `SET key 1 NX PX ttl_ms`
/// round trip, with no fingerprint, lease, owner check or stored response.
/// Returns whether the key was new. Compare with one `RedisStore::begin` plus
/// one `RedisStore::complete` (two round trips, two Lua scripts).
pub async fn set_nx_baseline<C: ConnectionLike>(
    con: &mut C,
    key: &str,
    ttl_ms: u64,
) -> RedisResult<bool> {
    let reply: Option<String> = redis::cmd("SET")
        .arg(key)
        .arg(1)
        .arg("NX")
        .arg("PX")
        .arg(ttl_ms)
        .query_async(con)
        .await?;
    Ok(reply.is_some())
}
