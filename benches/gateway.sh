#!/usr/bin/env bash
# Throughput of `tessera gateway` against nginx as a plain reverse proxy, in
# one run, interleaved. Everything on 127.0.0.1: the example upstream, nginx
# (2 workers, upstream keepalive), the gateway in memory and on a
# redis-server it starts, and wrk with a Lua script giving each request its
# own Idempotency-Key.
#
#   benches/gateway.sh            # 5 rounds of 10 s per case (BENCHMARKS.md)
#   benches/gateway.sh --quick    # 1 round of 2 s per case (CI: it runs, no figures)
#
# Each round measures, back to back: nginx plain POSTs, fresh POSTs through
# the in-memory gateway, fresh POSTs through the Redis gateway, and replays
# (one completed key sent again and again). Ratios are taken within a round;
# the summary prints their median and spread over the rounds.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5 secs=10 conns=64 threads=2
if [ "${1:-}" = "--quick" ]; then rounds=1 secs=2 conns=16; fi

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

cargo build -q --release -p tessera-std --bin tessera --example echo_upstream
bin=target/release

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # port what
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$2: nothing listens on $1" >&2
  [ -s "$work/$2.log" ] && tail -5 "$work/$2.log" >&2
  return 1
}

up=$(free_port); ngx=$(free_port); mem=$(free_port); red=$(free_port); rport=$(free_port)
madmin=$(free_port); radmin=$(free_port)
"$bin/examples/echo_upstream" "127.0.0.1:$up" 2>"$work/upstream.log" & pids+=($!); upid=$!
# Redis as the at-most-once guarantees ask (README, "What survives what"): an
# append-only file (fsync every second) and no eviction. `appendfsync always`
# is not measured here.
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly yes \
  --appendfsync everysec --maxmemory-policy noeviction \
  --dir "$work" >"$work/redis.log" & pids+=($!); rpid=$!
# The Redis gateway checks Redis when it starts: Redis first.
wait_port "$up" upstream
wait_port "$rport" redis

cat >"$work/nginx.conf" <<EOF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work;
  proxy_temp_path $work;
  upstream app { server 127.0.0.1:$up; keepalive 64; }
  server {
    listen 127.0.0.1:$ngx;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
"$nginx_bin" -c "$work/nginx.conf" -g 'daemon off;' 2>"$work/nginx.log" & pids+=($!); npid=$!

"$bin/tessera" keygen --out "$work/key"
head -c 32 /dev/urandom >"$work/record-secret"
# Every feature on, as in production: metrics on an admin listener, request
# ids, X-Forwarded-For set, Authorization stripped (the upstream reads
# Tessera-Subject), a header deadline and a connection limit, a per-subject
# quota and (in memory) a byte budget, both sized above what one run sends
# (one subject, about a million keys), responses up to 64 KiB stored. In
# memory, --restart-floor now; with Redis, a --record-secret-file.
gw() { # port admin-port name flags...
  "$bin/tessera" gateway --listen "127.0.0.1:$1" --upstream "http://127.0.0.1:$up" \
    --key-file "$work/key" --admin-listen "127.0.0.1:$2" --max-keys-per-sub 2000000 \
    --max-response-bytes 65536 --upstream-timeout 30 --header-timeout 10 \
    --max-connections 1024 --strip-authorization "${@:4}" 2>"$work/$3.log" & pids+=($!)
}
gw "$mem" "$madmin" gateway-memory --capacity 2000000 --max-store-bytes $((2 << 30)) \
  --restart-floor now
mpid=$!
gw "$red" "$radmin" gateway-redis --redis "redis://127.0.0.1:$rport/" \
  --record-secret-file "$work/record-secret"
gpid=$!
wait_port "$ngx" nginx
wait_port "$mem" gateway-memory
wait_port "$red" gateway-redis

# One token for every request: a realistic client reuses its token. Its
# `iat` must be after the memory gateway's --restart-floor (whole seconds).
sleep 1.1
token=$("$bin/tessera" mint --key-file "$work/key" --sub bench --ttl 3600)

cat >"$work/fresh.lua" <<EOF
local counter = 0
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("tid", threads) end
init = function(args) prefix = args[1] end
request = function()
  counter = counter + 1
  return wrk.format("POST", "/orders", {
    ["Authorization"] = "Bearer $token",
    ["Idempotency-Key"] = prefix .. "-" .. tid .. "-" .. counter,
    ["Content-Type"] = "application/json",
  }, '{"qty":1}')
end
EOF
cat >"$work/replay.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"qty":1}'
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Idempotency-Key"] = "replayed-key"
wrk.headers["Content-Type"] = "application/json"
EOF
# The replayed key: run once, then check that a retry is a replay.
for _ in 1 2; do
  curl -s -o /dev/null -D "$work/replay.head" -X POST "http://127.0.0.1:$mem/orders" \
    -H "Authorization: Bearer $token" -H 'Idempotency-Key: replayed-key' \
    -H 'Content-Type: application/json' -d '{"qty":1}'
done
grep -qi '^idempotent-replayed: true' "$work/replay.head" || {
  echo "the replayed key is not replayed:" >&2; cat "$work/replay.head" >&2; exit 1
}

# CPU time (user + system, in clock ticks) of processes and their threads.
ticks() { # pid...
  local t=0 p f
  for p in "$@"; do read -r -a f <"/proc/$p/stat"; t=$((t + f[13] + f[14])); done
  echo "$t"
}
hz=$(getconf CLK_TCK)
# The proxy under test: nginx is its master and workers.
proxy_pids() { # name
  case $1 in
    nginx) echo "$npid" $(cat /proc/"$npid"/task/*/children) ;;
    gateway-redis) echo "$gpid" ;;
    *) echo "$mpid" ;;
  esac
}

# `wrk` prints latency percentiles with --latency; take req/s, p50 and p99.
# CPU per request of the proxy, the upstream and Redis tells where the time
# goes on a machine whose cores they all share.
measure() { # name port script round
  local out proxy=($(proxy_pids "$1")) before=() after=()
  before=($(ticks "${proxy[@]}") $(ticks "$upid") $(ticks "$rpid"))
  out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$work/$3" \
    "http://127.0.0.1:$2/orders" -- "$1-r$4")
  after=($(ticks "${proxy[@]}") $(ticks "$upid") $(ticks "$rpid"))
  local rps p50 p99 errors n cpu=()
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  for i in 0 1 2; do
    cpu+=($(( (after[i] - before[i]) * 1000000 / hz / n )))
  done
  printf '%-16s round %d: %10s req/s  p50 %8s  p99 %8s  non-2xx %s  CPU us/req: proxy %s, upstream %s, redis %s\n' \
    "$1" "$4" "$rps" "$p50" "$p99" "${errors:-0}" "${cpu[@]}"
  echo "$1 $4 $rps ${errors:-0} ${cpu[*]}" >>"$work/results"
}

echo "load before: $(uptime)"
for r in $(seq "$rounds"); do
  measure nginx "$ngx" fresh.lua "$r"
  measure gateway-memory "$mem" fresh.lua "$r"
  measure gateway-redis "$red" fresh.lua "$r"
  measure replay-memory "$mem" replay.lua "$r"
done

echo "load after: $(uptime)"
# Where a request's time goes, from the gateways' own histograms: mean
# store call and mean upstream time (to the response head).
for g in "memory $madmin" "redis $radmin"; do
  set -- $g
  curl -s "http://127.0.0.1:$2/metrics" | awk -v g="$1" '
    /^tessera_(store|upstream)_seconds_(sum|count) / { v[$1] = $2 }
    END {
      printf "gateway-%s: store calls %d, mean %.1f us; upstream calls %d, mean %.1f us\n", g,
        v["tessera_store_seconds_count"], 1e6 * v["tessera_store_seconds_sum"] / (v["tessera_store_seconds_count"] + 1e-9),
        v["tessera_upstream_seconds_count"], 1e6 * v["tessera_upstream_seconds_sum"] / (v["tessera_upstream_seconds_count"] + 1e-9)
    }'
  curl -s "http://127.0.0.1:$2/metrics" | grep '^tessera_requests_total' | sed "s/^/  /"
done

python3 - "$work/results" <<'EOF'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for name, r, rps, errors, *_ in rows:
    by.setdefault(int(r), {})[name] = float(rps)
def ratio(case):
    vals = [v[case] / v["nginx"] for v in by.values()]
    return statistics.median(vals), min(vals), max(vals)
print()
for case, target in [("gateway-memory", 1.0), ("gateway-redis", 0.6), ("replay-memory", 1.5)]:
    med, lo, hi = ratio(case)
    verdict = "met" if med >= target else "missed"
    print(f"{case:16s} / nginx: median {med:.2f}x (spread {lo:.2f}-{hi:.2f} over {len(by)} rounds), target >= {target}x: {verdict}")
print()
for case in ["nginx", "gateway-memory", "gateway-redis", "replay-memory"]:
    cpu = [[int(x) for x in row[4:7]] for row in rows if row[0] == case]
    med = [statistics.median(c[i] for c in cpu) for i in range(3)]
    print(f"{case:16s} CPU us per request, median: proxy {med[0]:.0f}, upstream {med[1]:.0f}, redis {med[2]:.0f}")
bad = [(name, r, e) for name, r, _, e, *_ in rows if e != "0"]
if bad:
    sys.exit(f"non-2xx answers (a refusal is not throughput): {bad}")
EOF
