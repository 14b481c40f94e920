#!/usr/bin/env bash
# The main job: `tessera gateway` on the in-memory store, in front of a demo
# upstream, on 127.0.0.1:8080, with health, readiness and metrics on
# 127.0.0.1:9090. Ctrl-C stops both. Mint tokens with demo.key (see README
# "Quickstart").
set -euo pipefail
cd "$(dirname "$0")"
cargo build -q --release -p tessera-std --bin tessera --example echo_upstream
[ -s demo.key ] || target/release/tessera keygen --out demo.key
target/release/examples/echo_upstream 127.0.0.1:9000 &
upstream=$!
trap 'kill $upstream 2>/dev/null' EXIT
target/release/tessera gateway --listen 127.0.0.1:8080 --admin-listen 127.0.0.1:9090 \
  --upstream http://127.0.0.1:9000 --key-file demo.key "$@"
