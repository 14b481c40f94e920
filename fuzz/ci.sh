#!/usr/bin/env bash
# Fuzz smoke for CI: replays the seed corpus and regression inputs under
# `cargo test`, builds every cargo-fuzz target, then fuzzes each for
# FUZZ_SECONDS (default 30). Any crash fails. Ends with "N passed, M failed"
# (targets, plus the replay tests counted as one).
#
#   FUZZ_SECONDS=60 ./fuzz/ci.sh        longer smoke
#   FUZZ_SANITIZER=none ./fuzz/ci.sh    skip ASan (auto-chosen when the
#                                       toolchain ships no ASan runtime)
#   FUZZ_TOOLCHAIN=nightly ./fuzz/ci.sh use `cargo +nightly`
set -uo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR=never
# cargo-fuzz passes -Z flags to rustc; this lets a stable toolchain accept them.
export RUSTC_BOOTSTRAP=1
unset CARGO_TARGET_DIR # cargo-fuzz looks for its binaries in fuzz/target

seconds=${FUZZ_SECONDS:-30}
cargo=(cargo)
[ -n "${FUZZ_TOOLCHAIN:-}" ] && cargo=(cargo "+$FUZZ_TOOLCHAIN")
sanitizer=${FUZZ_SANITIZER:-address}
expected=(verify sign_verify sign_any claims_json window_ops base64url paseto frame redis_record)
start=$SECONDS
passed=0
failed=0

if ! "${cargo[@]}" fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  "${cargo[@]}" install cargo-fuzz --locked || { echo "0 passed, ${#expected[@]} failed"; exit 1; }
fi

echo "== replay: seeds, corpus and regression inputs under cargo test"
if "${cargo[@]}" test -p tessera-fuzz-harness; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  echo "FAIL replay tests"
fi

targets=$("${cargo[@]}" fuzz list)
echo "== targets: $(echo $targets)"
for t in "${expected[@]}"; do
  grep -qx "$t" <<<"$targets" || { echo "FAIL: target $t missing from cargo fuzz list"; failed=$((failed + 1)); }
done

echo "== build (sanitizer: $sanitizer)"
if ! "${cargo[@]}" fuzz build -s "$sanitizer"; then
  if [ "$sanitizer" != none ]; then
    echo "== build with $sanitizer failed (no sanitizer runtime?); retrying with --sanitizer none"
    sanitizer=none
    "${cargo[@]}" fuzz build -s none || { echo "$passed passed, $((failed + ${#expected[@]})) failed"; exit 1; }
  else
    echo "$passed passed, $((failed + ${#expected[@]})) failed"
    exit 1
  fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in $targets; do
  mkdir -p "$work/$t"
  dirs=("$work/$t" "corpus/$t")
  [ -d "regressions/$t" ] && dirs+=("regressions/$t")
  log="$work/$t.log"
  # New inputs go to the scratch dir (first); seeds and regressions are read only.
  if "${cargo[@]}" fuzz run -s "$sanitizer" "$t" "${dirs[@]}" -- \
      -max_total_time="$seconds" -dict=dict/json.dict -print_final_stats=1 >"$log" 2>&1; then
    runs=$(sed -nE 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\1 executions in \2 s/p' "$log" | tail -n 1)
    echo "PASS $t: ${runs:-no summary line}"
    passed=$((passed + 1))
  else
    echo "FAIL $t (crash input under fuzz/artifacts/$t/):"
    grep -E "panicked at|SUMMARY|Test unit written|Base64" -A2 "$log" | head -n 30
    failed=$((failed + 1))
  fi
done

echo "== fuzz smoke took $((SECONDS - start)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
