#!/usr/bin/env bash
# CI for firmware-example (issue 6). Idempotent; run as root from any cwd.
#
#   1. installs the Cortex-M toolchain packages and defmt-print if missing;
#   2. checks formatting, lints the app library and runs its host tests
#      (embedded-hal-mock);
#   3. builds the firmware (release, opt-level "z") with Debian's rustc;
#   4. runs the scripted session in QEMU and checks every answer;
#   5. measures flash, RAM and stack (endpoint, core-footprint - baseline);
#   6. builds the endpoint without semihosting (feature `rtt`) and checks it
#      makes no semihosting call;
#   7. builds the same app for the nRF52840 (board-nrf52840: nrf52840-hal,
#      defmt-rtt, panic-probe) and measures it; fails when a figure grows
#      past footprint.txt.
#
# Ends with `N passed, M failed` (the transcript checks); exits non-zero on
# any failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\n== %s\n' "$*"; }

say "toolchain"
packages=(rustc-web cargo-web rust-web-src lld llvm qemu-system-arm)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
command -v defmt-print >/dev/null || cargo install --locked defmt-print
# Cortex-M builds: Debian's cargo/rustc (they ship the `core` sources that
# -Zbuild-std needs); RUSTC_BOOTSTRAP unlocks -Zbuild-std on a stable release.
fw_cargo() { PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1 cargo "$@"; }
/usr/bin/rustc --version
qemu-system-arm --version | head -n1
defmt-print --version

say "format, lints and host tests (tessera-app, embedded-hal-mock)"
host=$(rustc -vV | sed -n 's/^host: //p')
cargo fmt --check
CARGO_TARGET_DIR=target/host cargo clippy -p tessera-app --target "$host" --all-targets -- -D warnings
CARGO_TARGET_DIR=target/host cargo test -p tessera-app --target "$host"

say "firmware build (thumbv7m-none-eabi, release)"
fw_cargo build --release
# The PASETO probes need the core's PASETO features: built apart (only these
# two bins are linked, the others stay as built above).
fw_cargo build --release --features paseto --bin paseto-public-footprint --bin paseto-local-footprint
out=target/thumbv7m-none-eabi/release
session_dir=$(dirname "$(ls -t "$out"/build/tessera-board-*/out/session.frames | head -n1)")

say "scripted session in QEMU (lm3s6965evb)"
transcript=target/session.uart
log=target/session.log
qemu_status=0
TESSERA_FRAMES="$session_dir/session.frames" TESSERA_TRANSCRIPT="$transcript" \
    timeout 120 ./qemu-run.sh "$out/endpoint" > "$log" 2>&1 || qemu_status=$?
cat "$log"

say "transcript checks"
pass=0
fail=0
check() { # check OK LABEL DETAIL
    if [[ $1 == 1 ]]; then
        pass=$((pass + 1))
        printf 'PASS  %s\n' "$2"
    else
        fail=$((fail + 1))
        printf 'FAIL  %s: %s\n' "$2" "$3"
    fi
}
mapfile -t answers < "$transcript"
i=0
while IFS=$'\t' read -r want label; do
    got=${answers[i]-<no answer>}
    ok=0; [[ $got == "$want" ]] && ok=1
    check "$ok" "#$((i + 1)) $label" "got '$got', want '$want'"
    i=$((i + 1))
done < "$session_dir/session.expect"
ok=0; ((${#answers[@]} == i)) && ok=1
check "$ok" "one answer per frame" "${#answers[@]} answers for $i frames"
ok=0; ((qemu_status == 0)) && ok=1
check "$ok" "firmware exited cleanly" "qemu/runner status $qemu_status"
ok=0; grep -q 'stack high-water since main' "$log" && ! grep -q 'ERROR' "$log" && ok=1
check "$ok" "defmt log decoded, no errors" "see $log"

say "footprint (release, opt-level z; flash = .text + .rodata + .data image, RAM = .data + .bss + .uninit)"
section() { llvm-size -A "$1" | awk -v s="$2" '$1 == s { n = $2 } END { print n + 0 }'; }
declare -A flash ram stack
probes=(core-footprint paseto-public-footprint paseto-local-footprint)
for bin in baseline "${probes[@]}" endpoint; do
    elf="$out/$bin"
    flash[$bin]=$(($(section "$elf" .text) + $(section "$elf" .rodata) + $(section "$elf" .data)))
    ram[$bin]=$(($(section "$elf" .data) + $(section "$elf" .bss) + $(section "$elf" .uninit)))
done
for bin in baseline "${probes[@]}"; do
    runlog=target/$bin.log
    timeout 60 ./qemu-run.sh "$out/$bin" > "$runlog" 2>&1 || true
    stack[$bin]=$(sed -n 's/.*stack below caller \([0-9]*\) B.*/\1/p' "$runlog")
    grep -q 'probe ok=true' "$runlog" || { echo "$bin: probe failed"; cat "$runlog"; fail=$((fail + 1)); }
done
stack[endpoint]=$(sed -n 's/.*stack high-water since main: \([0-9]*\) B.*/\1/p' "$log")
printf '%-24s %8s %8s %8s\n' binary flash RAM stack
for bin in endpoint "${probes[@]}" baseline; do
    printf '%-24s %8s %8s %8s\n' "$bin" "${flash[$bin]}" "${ram[$bin]}" "${stack[$bin]:-?}"
done
for bin in paseto-public-footprint paseto-local-footprint; do
    printf '%-24s %8s %8s %8s   (RAM incl. stack: %s B)\n' "share: ${bin%-footprint}" \
        "$((flash[$bin] - flash[baseline]))" "$((ram[$bin] - ram[baseline]))" \
        "$((${stack[$bin]:-0} - ${stack[baseline]:-0}))" \
        "$((ram[$bin] - ram[baseline] + ${stack[$bin]:-0} - ${stack[baseline]:-0}))"
done
# The window `static` must be all zeros (`.bss`): a `.data` one has a flash image.
in_bss() { llvm-nm -C "$1" | awk -v s="$2" '$3 == s { t = $2 } END { exit !(t == "b" || t == "B") }'; }
for sym in endpoint::WINDOW tessera_board::footprint::WINDOW; do
    bin=$([[ $sym == endpoint::* ]] && echo endpoint || echo core-footprint)
    ok=0; in_bss "$out/$bin" "$sym" && ok=1
    check "$ok" "$bin: window static in .bss" "$(llvm-nm -C "$out/$bin" | grep '::WINDOW$')"
done
core_flash=$((flash[core-footprint] - flash[baseline]))
core_ram=$((ram[core-footprint] - ram[baseline]))
core_stack=$((${stack[core-footprint]:-0} - ${stack[baseline]:-0}))
printf '%-24s %8s %8s %8s   (RAM incl. stack: %s B)\n' "core share (HS256)" "$core_flash" "$core_ram" "$core_stack" \
    "$((core_ram + core_stack))"
printf 'targets (core share): flash <= 12288 B: %s; RAM incl. stack <= 3072 B: %s\n' \
    "$( ((core_flash <= 12288)) && echo met || echo "OVER by $((core_flash - 12288)) B")" \
    "$( (((core_ram + core_stack) <= 3072)) && echo met || echo "OVER by $((core_ram + core_stack - 3072)) B")"
echo "core-footprint by crate (bytes; code inlined into core_footprint::probe counts there):"
llvm-nm -S --size-sort -C --radix=d "$out/core-footprint" | awk '
    $2 > 0 && $3 ~ /^[tTrRdDbB]$/ {
        name = $4; for (i = 5; i <= NF; i++) name = name " " $i
        sub(/^</, "", name); split(name, part, "::"); c = part[1]
        if (c == name || c ~ /[^A-Za-z0-9_]/) c = "(other)"
        sum[($3 ~ /[dDbB]/ ? "RAM   " : "flash ") c] += $2
    }
    END { for (c in sum) printf "%7d  %s\n", sum[c], c }' | sort -rn | head -n 12
echo "largest symbols of core-footprint (llvm-nm --size-sort):"
llvm-nm --size-sort -S --radix=d -C "$out/core-footprint" | tail -n 8 | cut -c1-110

# Tracked figures: compare with the committed footprint.txt.
cat > target/footprint.txt <<FIGURES
endpoint.flash ${flash[endpoint]}
endpoint.ram ${ram[endpoint]}
endpoint.stack ${stack[endpoint]:-0}
core.flash $core_flash
core.ram $core_ram
core.stack $core_stack
FIGURES
for bin in paseto-public-footprint paseto-local-footprint; do
    name=${bin%-footprint}
    printf '%s.flash %s\n%s.ram %s\n%s.stack %s\n' "$name" "$((flash[$bin] - flash[baseline]))" \
        "$name" "$((ram[$bin] - ram[baseline]))" "$name" "$((${stack[$bin]:-0} - ${stack[baseline]:-0}))"
done >> target/footprint.txt
say "real-board configuration (no semihosting: defmt over RTT, exit parks or resets)"
# Last: it overwrites the QEMU build's ELFs in the same target dir.
fw_cargo build --release --no-default-features --features rtt --bin endpoint
n=$(llvm-objdump -d "$out/endpoint" | grep -c 'bkpt' || true)
ok=0; ((n == 0)) && ok=1
check "$ok" "rtt build has no semihosting call (bkpt)" "$n bkpt instructions in $out/endpoint"

say "second board: nRF52840 (thumbv7em-none-eabihf, nrf52840-hal), built, not run"
# Its own .cargo/config.toml (target, probe-rs runner) applies from its directory.
(cd board-nrf52840 && fw_cargo build --release)
nrf=target/thumbv7em-none-eabihf/release/endpoint
nrf_flash=$(($(section "$nrf" .text) + $(section "$nrf" .rodata) + $(section "$nrf" .data)))
nrf_ram=$(($(section "$nrf" .data) + $(section "$nrf" .bss) + $(section "$nrf" .uninit)))
printf '%-16s %8s %8s   (same method; .uninit: the 1 KiB defmt-rtt buffer and the retained mark)\n' \
    "nrf52840" "$nrf_flash" "$nrf_ram"
printf 'nrf52840.flash %s\nnrf52840.ram %s\n' "$nrf_flash" "$nrf_ram" >> target/footprint.txt
n=$(llvm-objdump -d "$nrf" | grep -c 'bkpt' || true)
w=$(llvm-objdump -d "$nrf" | grep -cE '\s(wfe|wfi)\b' || true)
ok=0; ((n == 0 && w > 0)) && ok=1
check "$ok" "nrf52840 build: no semihosting call, idles with WFE/WFI" "$n bkpt, $w wfe/wfi in $nrf"
ok=0; in_bss "$nrf" "endpoint::WINDOW" && ok=1
check "$ok" "nrf52840: window static in .bss" "$(llvm-nm -C "$nrf" | grep '::WINDOW$')"

echo "change against the committed footprint.txt (a figure more than 64 B above it fails):"
grown=$(awk 'NR == FNR { old[$1] = $2; next } {
        d = $2 - old[$1]; printf "  %-15s %7d  (%+d)\n", $1, $2, d > "/dev/stderr"
        if (!($1 in old) || d > 64) n++
    } END { print n + 0 }' footprint.txt target/footprint.txt)
ok=0; ((grown == 0)) && ok=1
check "$ok" "footprint within 64 B of footprint.txt" "$grown figure(s) grew (commit the new footprint.txt if intended)"
echo
echo "$pass passed, $fail failed"
((fail == 0))
