//! Board glue for the nRF52840 (nRF52840-DK), over `nrf52840-hal`: the
//! endpoint's serial port (UARTE0), its millisecond counter (RTC0) and the key
//! ring it shares with the QEMU board. The application (`tessera-app`) is the
//! same crate, unchanged; this crate only adapts the HAL to its traits.
#![no_std]

/// The fixed key ring and token policy: the QEMU board's file, so both boards
/// accept the same tokens (demo secrets).
#[path = "../../board/src/keys.rs"]
pub mod keys;
pub mod millis;
/// The clock mark kept across warm resets: the QEMU board's file (plain
/// Cortex-M RAM, nothing chip-specific).
#[path = "../../board/src/retained.rs"]
pub mod retained;
pub mod serial;
