//! The Lua scripts, loaded as one Redis Functions library (Redis 7+:
//! persisted and replicated with the data) or, on older servers, run with
//! `EVALSHA`. Each touches one key (one record), so it runs atomically
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
//!
//! No partial writes: every number is checked before the first write, so the
//! `PEXPIRE` after an `HSET` cannot fail and leave a record with the wrong
//! expiry.

use std::sync::LazyLock;

use redis::Script;
use sha2::{Digest, Sha256};

/// Longest lease, TTL, skew or expiry the scripts accept, in ms (about 100
/// years): far below where Lua's doubles lose integer precision or
/// `PEXPIRE` overflows. [`super::RedisStore`] refuses larger settings when
/// made; the scripts check again so no argument can make them half-write.
pub const MAX_MILLIS: u64 = 3_155_760_000_000;

/// One operation: its Lua, as a cached script and as a library function.
pub(super) struct Op {
    /// For `EVALSHA` (servers without Functions).
    pub(super) script: Script,
    /// The function's name in [`LIBRARY`].
    pub(super) function: String,
    /// The body, without the prelude.
    lua: String,
    /// Function flags: `no-writes` lets a read run when Redis is at
    /// `maxmemory` (Functions refuse writable ones up front).
    flags: &'static str,
}

impl Op {
    fn new(name: &str, lua: String, flags: &'static str) -> Self {
        Op {
            script: Script::new(&with_bounds(&lua)),
            function: format!("tessera_{}_{name}", &*VERSION),
            lua,
            flags,
        }
    }
}

/// Defines `MAX` and `now()` for a script body.
fn with_bounds(lua: &str) -> String {
    format!(
        "local MAX = {MAX_MILLIS}\n\
         local function now_ms()\n\
         local t = redis.call('TIME')\n\
         return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n\
         end\n{lua}"
    )
}

/// A digest of the scripts, in the library and function names: gateways of
/// different versions sharing a Redis each find their own functions.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for lua in [CLAIM_READ, CLAIM_WRITE, COMPLETE_LUA, ABORT_LUA] {
        h.update(lua.as_bytes());
    }
    h.finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
});

/// The Functions library (`FUNCTION LOAD REPLACE`): each script body inside
/// `function(KEYS, ARGV)`, so the same Lua runs either way.
pub(super) static LIBRARY: LazyLock<String> = LazyLock::new(|| {
    let mut lib = format!("#!lua name=tessera_{}\n", &*VERSION);
    for op in [&*CLAIM, &*PEEK, &*COMPLETE, &*ABORT] {
        lib.push_str(&format!(
            "redis.register_function{{function_name='{}', flags={{{}}}, \
             callback=function(KEYS, ARGV)\n{}\nend}}\n",
            op.function,
            op.flags,
            with_bounds(&op.lua)
        ));
    }
    lib
});

/// `KEYS[1]` record; `ARGV`: fingerprint, token, stamp ms, keep_until ms or
/// empty, lease ms, max skew ms, TTL ms. Answers `{'stale'}`, `{'mismatch'}`,
/// `{'inflight'}`, `{'abandoned'}`, `{'fresh'}` or `{'replay', status,
/// headers, body}`.
pub(super) static CLAIM: LazyLock<Op> =
    LazyLock::new(|| Op::new("claim", format!("{CLAIM_READ}{CLAIM_WRITE}"), ""));

/// The claim without its write, for a Redis at `maxmemory`: the same answers,
/// except `{'full'}` where the claim would create a record.
pub(super) static PEEK: LazyLock<Op> = LazyLock::new(|| {
    Op::new(
        "peek",
        format!("{CLAIM_READ}return {{'full'}}\n"),
        "'no-writes'",
    )
});

/// The claim up to its write: checks, then answers for an existing record.
const CLAIM_READ: &str = r"
local stamp, lease, skew, ttl = tonumber(ARGV[3]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local keep = tonumber(ARGV[4])
if not (stamp and lease and skew and ttl) or (ARGV[4] ~= '' and not keep)
  or lease < 1 or lease > MAX or ttl < 1 or ttl > MAX or skew < 0 or skew > MAX then
  return redis.error_reply('ERR tessera: claim arguments out of bounds')
end
local now = now_ms()
if stamp > now + skew then return {'stale'} end
local rec = redis.call('HMGET', KEYS[1], 'st', 'fp', 'tok', 's', 'h', 'b', 'lu')
if rec[1] then
  if rec[2] ~= ARGV[1] then return {'mismatch'} end
  if rec[1] == 'd' then return {'replay', rec[4], rec[5], rec[6]} end
  if now >= tonumber(rec[7] or '0') then return {'abandoned'} end
  if rec[3] == ARGV[2] then return {'fresh'} end
  return {'inflight'}
end
";

/// The claim's write: a new record, running under this token.
const CLAIM_WRITE: &str = r"
local lu = now + lease
local px = lease + ttl
if keep then px = math.min(math.max(math.floor(keep), lu) - now, MAX + MAX) end
redis.call('HSET', KEYS[1], 'st', 'r', 'fp', ARGV[1], 'tok', ARGV[2], 'keep', ARGV[4], 'lu', lu)
redis.call('PEXPIRE', KEYS[1], px)
return {'fresh'}
";

/// The claim as one self-contained Lua script (for `redis-benchmark`).
pub fn claim_script() -> String {
    with_bounds(&CLAIM.lua)
}

/// `KEYS[1]` record; `ARGV`: token, TTL ms, status, headers, body. Answers
/// `ok`, `expired` (no record, or the lease ran out: the record is abandoned)
/// or `other` (another owner). A record already done under this token (an
/// earlier run whose reply was lost) answers `ok`.
pub(super) static COMPLETE: LazyLock<Op> =
    LazyLock::new(|| Op::new("complete", COMPLETE_LUA.into(), ""));

const COMPLETE_LUA: &str = r"
local ttl = tonumber(ARGV[2])
if not ttl or ttl < 1 or ttl > MAX then
  return redis.error_reply('ERR tessera: complete arguments out of bounds')
end
local rec = redis.call('HMGET', KEYS[1], 'st', 'tok', 'keep', 'lu')
if not rec[1] then return 'expired' end
if rec[2] ~= ARGV[1] then return 'other' end
if rec[1] == 'd' then return 'ok' end
local now = now_ms()
if now >= tonumber(rec[4] or '0') then return 'expired' end
local px = ttl
local keep = tonumber(rec[3] or '')
if keep then px = math.min(math.floor(keep) - now, MAX + MAX) end
if px < 1 then
  redis.call('DEL', KEYS[1])
  return 'ok'
end
redis.call('HSET', KEYS[1], 'st', 'd', 's', ARGV[3], 'h', ARGV[4], 'b', ARGV[5])
redis.call('PEXPIRE', KEYS[1], px)
return 'ok'
";

/// `KEYS[1]` record; `ARGV`: token. Deletes the record if this token still
/// runs it within its lease. Answers `ok`, `expired` or `other`.
pub(super) static ABORT: LazyLock<Op> = LazyLock::new(|| Op::new("abort", ABORT_LUA.into(), ""));

const ABORT_LUA: &str = r"
local rec = redis.call('HMGET', KEYS[1], 'st', 'tok', 'lu')
if not rec[1] then return 'expired' end
if rec[2] ~= ARGV[1] or rec[1] ~= 'r' then return 'other' end
if now_ms() >= tonumber(rec[3] or '0') then return 'expired' end
redis.call('DEL', KEYS[1])
return 'ok'
";
