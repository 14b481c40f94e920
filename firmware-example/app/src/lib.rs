//! An authenticated, idempotent IoT endpoint, generic over embedded-hal 1.0.
//!
//! Frames (see [`frame`]) arrive on any `embedded-hal-nb` serial port; each
//! request's token is verified with `tessera-core` against a fixed key ring,
//! its idempotency key is claimed in a [`Window`](tessera_core::window::Window)
//! shared under a critical section, and only a fresh request drives the
//! output pin. Retries get the stored answer; everything else gets a code
//! (see [`reply`]). The board crate supplies the pin, the port, the
//! monotonic counter, the panic handler and the logger.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

/// Logs through defmt when the `defmt` feature is on; compiles to nothing otherwise.
macro_rules! log {
    ($level:ident, $($arg:tt)*) => {{
        #[cfg(feature = "defmt")]
        defmt::$level!($($arg)*);
    }};
}

pub mod clock;
pub mod endpoint;
pub mod frame;
pub mod reply;
pub mod session;

pub use endpoint::{Endpoint, Policy, SharedWindow};
pub use reply::{Answer, Level};
pub use session::{Control, Session};
