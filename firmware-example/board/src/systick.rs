//! SysTick as a millisecond [`Monotonic`] counter, advancing the synced clock
//! between time-sync frames.

use core::sync::atomic::{AtomicU32, Ordering};
use cortex_m::peripheral::{syst::SystClkSource, SYST};
use cortex_m_rt::exception;
use tessera_app::clock::Monotonic;

/// QEMU's lm3s6965evb runs the core at 12 MHz after reset.
pub const CORE_HZ: u32 = 12_000_000;

static TICKS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

/// Milliseconds since [`Millis::start`], widened to 64 bits.
pub struct Millis {
    high: u64,
    last: u32,
}

impl Millis {
    /// Starts SysTick at 1 kHz.
    pub fn start(mut syst: SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(CORE_HZ / 1000 - 1);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        Millis { high: 0, last: 0 }
    }
}

impl Monotonic for Millis {
    fn millis(&mut self) -> u64 {
        let now = TICKS.load(Ordering::Relaxed);
        if now < self.last {
            self.high = self.high.wrapping_add(1 << 32);
        }
        self.last = now;
        self.high | u64::from(now)
    }
}
