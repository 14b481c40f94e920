//! The Lua scripts. Each touches one key (one record), so it runs atomically
//! on one node and on one slot of a cluster. Every script is safe to run again
//! after a timeout: a retry with the same lease token finds its own earlier
//! effect and answers as the first run would have.
//!
//! Record: one hash with `st` (`r` running, `d` done), `fp` (fingerprint),
//! `tok` (the owner's lease token), `keep` (`keep_until` in Unix ms, or empty),
//! `lu` (when the lease ends, server ms), and once done `s` (status), `h`
//! (encoded headers), `b` (body). Expiry is the key's own `PEXPIRE`: from the
//! claim, the lease plus the TTL (how long the record answers `abandoned` if
//! its owner never settles it); once done, the TTL. All times come from the
//! server's `TIME`, never from a client clock.

use std::sync::LazyLock;

use redis::Script;

/// `KEYS[1]` record; `ARGV`: fingerprint, token, stamp ms, keep_until ms or
/// empty, lease ms, max skew ms, TTL ms. Answers `{'stale'}`, `{'mismatch'}`,
/// `{'inflight'}`, `{'abandoned'}`, `{'fresh'}` or `{'replay', status,
/// headers, body}`.
pub(super) static CLAIM: LazyLock<Script> = LazyLock::new(|| Script::new(CLAIM_LUA));

/// The claim script's source, public so benchmarks can run the same Lua
/// through `redis-benchmark`.
pub const CLAIM_LUA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(ARGV[3]) > now + tonumber(ARGV[6]) then return {'stale'} end
local rec = redis.call('HMGET', KEYS[1], 'st', 'fp', 'tok', 's', 'h', 'b', 'lu')
if rec[1] then
  if rec[2] ~= ARGV[1] then return {'mismatch'} end
  if rec[1] == 'd' then return {'replay', rec[4], rec[5], rec[6]} end
  if now >= tonumber(rec[7] or '0') then return {'abandoned'} end
  if rec[3] == ARGV[2] then return {'fresh'} end
  return {'inflight'}
end
local lu = now + tonumber(ARGV[5])
local px = tonumber(ARGV[5]) + tonumber(ARGV[7])
if ARGV[4] ~= '' then px = math.max(tonumber(ARGV[4]), lu) - now end
redis.call('HSET', KEYS[1], 'st', 'r', 'fp', ARGV[1], 'tok', ARGV[2], 'keep', ARGV[4], 'lu', lu)
redis.call('PEXPIRE', KEYS[1], px)
return {'fresh'}
";

/// `KEYS[1]` record; `ARGV`: token, TTL ms, status, headers, body. Answers
/// `ok`, `expired` (no record, or the lease ran out: the record is abandoned)
/// or `other` (another owner). A record already done under this token (an
/// earlier run whose reply was lost) answers `ok`.
pub(super) static COMPLETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local rec = redis.call('HMGET', KEYS[1], 'st', 'tok', 'keep', 'lu')
if not rec[1] then return 'expired' end
if rec[2] ~= ARGV[1] then return 'other' end
if rec[1] == 'd' then return 'ok' end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now >= tonumber(rec[4] or '0') then return 'expired' end
local px = tonumber(ARGV[2])
if rec[3] and rec[3] ~= '' then px = tonumber(rec[3]) - now end
if px < 1 then
  redis.call('DEL', KEYS[1])
  return 'ok'
end
redis.call('HSET', KEYS[1], 'st', 'd', 's', ARGV[3], 'h', ARGV[4], 'b', ARGV[5])
redis.call('PEXPIRE', KEYS[1], math.floor(px))
return 'ok'
",
    )
});

/// `KEYS[1]` record; `ARGV`: token. Deletes the record if this token still
/// runs it within its lease. Answers `ok`, `expired` or `other`.
pub(super) static ABORT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local rec = redis.call('HMGET', KEYS[1], 'st', 'tok', 'lu')
if not rec[1] then return 'expired' end
if rec[2] ~= ARGV[1] or rec[1] ~= 'r' then return 'other' end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now >= tonumber(rec[3] or '0') then return 'expired' end
redis.call('DEL', KEYS[1])
return 'ok'
",
    )
});
