//! The Lua scripts, loaded as one Redis Functions library (Redis 7+:
//! persisted and replicated with the data) or, on older servers, run with
//! `EVALSHA`. Each touches one record key (and, with a quota, its scope's
//! set, in the same slot), so it runs atomically on one node and on one slot
//! of a cluster. Every script is safe to run again after a timeout: a retry
//! with the same lease token finds its own earlier effect and answers as the
//! first run would have.
//!
//! Records are packed strings ([`crate::store::record_codec`]). Expiry is the
//! key's own `PX`: from the claim, the lease plus the TTL (how long the record
//! answers `abandoned` if its owner never settles it); once done, the TTL. All
//! times come from the server's clock (`TIME`, and `PTTL` for `r` records
//! whose lease end is their expiry minus their TTL), never from a client.
//!
//! With a quota (`KEYS[2]`, the scope's sorted set: member the record key,
//! score its end), the claim prunes ended members, counts the live ones and
//! refuses (`quota`) before writing; complete moves the score to the new
//! end; abort removes the member with the record.
//!
//! No partial writes: every number is checked before the first write, so no
//! argument can make a script fail halfway.

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

/// Defines `MAX`, `now_ms()`, and the readers of a packed running record,
/// for a self-contained script (`EVALSHA`).
fn with_bounds(lua: &str) -> String {
    format!("{}{lua}", prelude())
}

/// `MAX` and the helpers: at the top of the library (defined once, when it
/// loads), or at the top of each `EVALSHA` script.
fn prelude() -> String {
    format!("local MAX = {MAX_MILLIS}\n{PRELUDE}")
}

/// `lease_left(rec, key)`: ms left in a running record's lease (ended at 0 or
/// below) and, if it read it, the server's time; nil if `rec` is not a
/// well-formed running record. An `r` record needs no `TIME`: its lease ends
/// `ttl` before its expiry, so it is left while `PTTL` exceeds `ttl`.
/// `keep_of(rec)`: its `keep_until`, if any. `well_formed(rec)`: long enough
/// to hold the head, with a known tag.
const PRELUDE: &str = r"
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function well_formed(rec)
  local st = string.sub(rec, 1, 1)
  return #rec >= 33 and (st == 'r' or st == 'k' or st == 'd')
end
local function lease_left(rec, key)
  local st, tail = string.sub(rec, 1, 1), string.sub(rec, 34)
  if st == 'r' then
    local ttl, pttl = tonumber(string.match(tail, '^%d+$')), redis.call('PTTL', key)
    if not ttl or pttl < 0 then return nil end
    return pttl - ttl
  end
  if st == 'k' then
    local lu = tonumber(string.match(tail, '^(%d+):%d*$'))
    if not lu then return nil end
    local now = now_ms()
    return lu - now, now
  end
  return nil
end
local function keep_of(rec)
  if string.sub(rec, 1, 1) ~= 'k' then return nil end
  return tonumber(string.match(string.sub(rec, 34), ':(%d+)$'))
end
local function corrupt()
  return redis.error_reply('ERR tessera: corrupt record')
end
";

/// A digest of the scripts, in the library and function names: gateways of
/// different versions sharing a Redis each find their own functions.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for lua in [
        PRELUDE,
        CLAIM_READ,
        CLAIM_WRITE,
        COMPLETE_LUA,
        ABORT_LUA,
        EARLIEST_LUA,
    ] {
        h.update(lua.as_bytes());
    }
    h.finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
});

/// The Functions library (`FUNCTION LOAD REPLACE`): the helpers once (so a
/// call creates no closures), then each script body inside
/// `function(KEYS, ARGV)`, so the same Lua runs either way.
pub(super) static LIBRARY: LazyLock<String> = LazyLock::new(|| {
    let mut lib = format!("#!lua name=tessera_{}\n{}", &*VERSION, prelude());
    for op in [&*CLAIM, &*PEEK, &*COMPLETE, &*ABORT, &*EARLIEST] {
        lib.push_str(&format!(
            "redis.register_function{{function_name='{}', flags={{{}}}, \
             callback=function(KEYS, ARGV)\n{}\nend}}\n",
            op.function, op.flags, op.lua
        ));
    }
    lib
});

/// `KEYS[1]` record, `KEYS[2]` the scope's set (with a quota); `ARGV`:
/// fingerprint (16 bytes), token (16 bytes), stamp ms, keep_until ms or
/// empty, lease ms, max skew ms, TTL ms, and with a quota the most live
/// records of the scope. Answers `{'stale'}`, `{'mismatch'}`, `{'inflight'}`,
/// `{'abandoned'}`, `{'quota'}`, `{'fresh'}` or `{'replay', record}`.
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

/// The claim up to its write: checks, then answers for an existing record or
/// a scope at its quota.
const CLAIM_READ: &str = r"
local stamp, lease, skew, ttl = tonumber(ARGV[3]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local keep, max = tonumber(ARGV[4]), tonumber(ARGV[8] or '')
if not (stamp and lease and skew and ttl) or (ARGV[4] ~= '' and not keep)
  or #ARGV[1] ~= 16 or #ARGV[2] ~= 16 or (KEYS[2] and not (max and max >= 1))
  or lease < 1 or lease > MAX or ttl < 1 or ttl > MAX or skew < 0 or skew > MAX then
  return redis.error_reply('ERR tessera: claim arguments out of bounds')
end
local now = now_ms()
if stamp > now + skew then return {'stale'} end
local rec = redis.call('GET', KEYS[1])
if rec then
  if not well_formed(rec) then return corrupt() end
  if string.sub(rec, 2, 17) ~= ARGV[1] then return {'mismatch'} end
  if string.sub(rec, 1, 1) == 'd' then return {'replay', rec} end
  local left = lease_left(rec, KEYS[1])
  if not left then return corrupt() end
  if left <= 0 then return {'abandoned'} end
  if string.sub(rec, 18, 33) == ARGV[2] then return {'fresh'} end
  return {'inflight'}
end
if KEYS[2] and redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf') >= max then
  return {'quota'}
end
";

/// The claim's write: a new record, running under this token, counted in
/// its scope's set.
const CLAIM_WRITE: &str = r"
local lu = now + lease
local px = lease + ttl
if keep then px = math.min(math.max(math.floor(keep), lu) - now, MAX + MAX) end
redis.call('SET', KEYS[1], 'k' .. ARGV[1] .. ARGV[2] .. lu .. ':' .. ARGV[4], 'PX', px)
if KEYS[2] then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  redis.call('ZADD', KEYS[2], now + px, KEYS[1])
  if redis.call('PTTL', KEYS[2]) < px then redis.call('PEXPIRE', KEYS[2], px) end
end
return {'fresh'}
";

/// The claim as one self-contained Lua script (for `redis-benchmark`).
pub fn claim_script() -> String {
    with_bounds(&CLAIM.lua)
}

/// `KEYS[1]` record, `KEYS[2]` the scope's set (with a quota); `ARGV`:
/// token, TTL ms, the response packed by
/// [`crate::store::record_codec::encode_response`]. Answers `ok`, `expired`
/// (no record, or the lease ran out: the record is abandoned) or `other`
/// (another owner). A record already done under this token (an earlier run
/// whose reply was lost) answers `ok`.
pub(super) static COMPLETE: LazyLock<Op> =
    LazyLock::new(|| Op::new("complete", COMPLETE_LUA.into(), ""));

const COMPLETE_LUA: &str = r"
local ttl = tonumber(ARGV[2])
if not ttl or ttl < 1 or ttl > MAX then
  return redis.error_reply('ERR tessera: complete arguments out of bounds')
end
local rec = redis.call('GET', KEYS[1])
if not rec then return 'expired' end
if not well_formed(rec) then return corrupt() end
if string.sub(rec, 18, 33) ~= ARGV[1] then return 'other' end
if string.sub(rec, 1, 1) == 'd' then return 'ok' end
local left, now = lease_left(rec, KEYS[1])
if not left then return corrupt() end
if left <= 0 then return 'expired' end
local px = ttl
local keep = keep_of(rec)
if keep or KEYS[2] then now = now or now_ms() end
if keep then px = math.min(math.floor(keep) - now, MAX + MAX) end
if px < 1 then
  redis.call('DEL', KEYS[1])
  if KEYS[2] then redis.call('ZREM', KEYS[2], KEYS[1]) end
  return 'ok'
end
redis.call('SET', KEYS[1], 'd' .. string.sub(rec, 2, 33) .. ARGV[3], 'PX', px)
if KEYS[2] then
  redis.call('ZADD', KEYS[2], now + px, KEYS[1])
  if redis.call('PTTL', KEYS[2]) < px then redis.call('PEXPIRE', KEYS[2], px) end
end
return 'ok'
";

/// `KEYS[1]` record, `KEYS[2]` the scope's set (with a quota); `ARGV`:
/// token. Deletes the record (and frees its place in the quota) if this
/// token still runs it within its lease. Answers `ok`, `expired` or `other`.
pub(super) static ABORT: LazyLock<Op> = LazyLock::new(|| Op::new("abort", ABORT_LUA.into(), ""));

const ABORT_LUA: &str = r"
local rec = redis.call('GET', KEYS[1])
if not rec then return 'expired' end
if not well_formed(rec) then return corrupt() end
if string.sub(rec, 18, 33) ~= ARGV[1] or string.sub(rec, 1, 1) == 'd' then return 'other' end
local left = lease_left(rec, KEYS[1])
if not left then return corrupt() end
if left <= 0 then return 'expired' end
redis.call('DEL', KEYS[1])
if KEYS[2] then redis.call('ZREM', KEYS[2], KEYS[1]) end
return 'ok'
";

/// `KEYS[1]` a scope's set; `ARGV`: its quota. If the scope holds at least
/// that many live records, ms until the earliest ends; else -1.
pub(super) static EARLIEST: LazyLock<Op> =
    LazyLock::new(|| Op::new("earliest", EARLIEST_LUA.into(), "'no-writes'"));

const EARLIEST_LUA: &str = r"
local now = now_ms()
local max = tonumber(ARGV[1])
if not max or redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf') < max then return -1 end
local first = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'LIMIT', 0, 1, 'WITHSCORES')
return math.max(tonumber(first[2]) - now, 0)
";
