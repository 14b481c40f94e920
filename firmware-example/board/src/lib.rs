//! Board glue for QEMU's `lm3s6965evb` (TI Stellaris LM3S6965, Cortex-M3):
//! the few registers the endpoint touches, stack painting, and the key ring.
//!
//! All `unsafe` of the example lives here, behind safe functions; the
//! application logic (`tessera-app`) has none.
#![no_std]

// The defmt logger: semihosting under QEMU, RTT on a real board.
#[cfg(all(feature = "semihosting", feature = "rtt"))]
compile_error!("features `semihosting` and `rtt` each pick the defmt logger: enable one");
#[cfg(feature = "rtt")]
use defmt_rtt as _;
#[cfg(feature = "semihosting")]
use defmt_semihosting as _;

pub mod exit;
pub mod footprint;
/// The fixed key ring and token policy (demo secrets).
pub mod keys;
pub mod relay;
pub mod retained;
pub mod stack;
pub mod systick;
pub mod uart;
