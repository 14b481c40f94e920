#!/usr/bin/env bash
# Cargo runner: boots an ELF on QEMU's lm3s6965evb and decodes its defmt
# logs (semihosting stdout) with defmt-print.
#
# For the `endpoint` binary, UART0 reads the scripted session minted by
# build.rs (or $TESSERA_FRAMES); its answers are written to
# $TESSERA_TRANSCRIPT (default `<elf>.uart`) and printed after the run.
# Exit status: the firmware's (semihosting exit), or defmt-print's failure.
set -euo pipefail

elf=$1
serial=(-serial null)
transcript=
if [[ $(basename "$elf") == endpoint ]]; then
    frames=${TESSERA_FRAMES:-$(ls -t "$(dirname "$elf")"/build/tessera-board-*/out/session.frames 2>/dev/null | head -n1)}
    [[ -f $frames ]] || { echo "qemu-run: no session.frames (build the endpoint first)" >&2; exit 2; }
    transcript=${TESSERA_TRANSCRIPT:-$elf.uart}
    # QEMU's `pipe` chardev reads <path>.in and writes <path>.out. Holding
    # both FIFOs open here keeps every open() from blocking, whatever QEMU
    # does; closing them after QEMU exits ends the reader and the writer.
    fifo=$(mktemp -d)
    trap 'rm -rf "$fifo"' EXIT
    trap 'exit 143' INT TERM
    mkfifo "$fifo/uart0.in" "$fifo/uart0.out"
    exec 3<>"$fifo/uart0.in" 4<>"$fifo/uart0.out"
    cat "$fifo/uart0.out" > "$transcript" 3>&- 4>&- &
    cat "$frames" > "$fifo/uart0.in" 3>&- 4>&- &
    serial=(-chardev "pipe,id=uart0,path=$fifo/uart0" -serial chardev:uart0)
fi

status=0
qemu-system-arm -machine lm3s6965evb -cpu cortex-m3 -display none -monitor none \
    -semihosting-config enable=on,target=native "${serial[@]}" -kernel "$elf" 3>&- 4>&- \
    | defmt-print -e "$elf" || status=$?

if [[ -n $transcript ]]; then
    exec 3>&- 4>&-
    wait
    echo "--- UART0 transcript ($transcript) ---"
    cat "$transcript"
fi
exit "$status"
