#!/bin/sh
exec qemu-system-arm -machine lm3s6965evb -cpu cortex-m3 -display none -monitor none -serial null -semihosting-config enable=on,target=native -kernel "$1" | defmt-print -e "$1"
