//! Board glue for QEMU's `lm3s6965evb` (TI Stellaris LM3S6965, Cortex-M3):
//! the few registers the endpoint touches, stack painting, and the key ring.
//!
//! All `unsafe` of the example lives here, behind safe functions; the
//! application logic (`tessera-app`) has none.
#![no_std]

pub mod exit;
pub mod footprint;
/// The fixed key ring and token policy (demo secrets).
pub mod keys;
pub mod relay;
pub mod stack;
pub mod systick;
pub mod uart;
