//! RTC0 as the endpoint's [`Monotonic`] counter. The RTC runs from the
//! 32 768 Hz LFCLK and keeps counting while the core sleeps (SysTick stops in
//! `WFE` on the nRF52), so the clock and pulses advance during idle.
//!
//! Prescaler 4095: 8 ticks per second (125 ms), each an interrupt that wakes
//! the idle loop to end a pulse on time; the 24-bit counter overflows every
//! 24 days, counted by the same interrupt into 64 bits.

use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

use critical_section::Mutex;
use nrf52840_hal::{
    pac::{interrupt, NVIC, RTC0},
    rtc::{Rtc, RtcInterrupt},
};
use tessera_app::clock::Monotonic;

/// fRTC = 32 768 / (PRESCALER + 1) = 8 Hz.
const PRESCALER: u32 = 4095;
const MILLIS_PER_TICK: u64 = 125;
/// Counter values below this right after an overflow event was counted after it.
const HALF: u32 = 1 << 23;

static RTC: Mutex<RefCell<Option<Rtc<RTC0>>>> = Mutex::new(RefCell::new(None));
static OVERFLOWS: AtomicU32 = AtomicU32::new(0);

#[interrupt]
fn RTC0() {
    critical_section::with(|cs| {
        if let Some(rtc) = RTC.borrow_ref(cs).as_ref() {
            rtc.reset_event(RtcInterrupt::Tick);
            if rtc.is_event_triggered(RtcInterrupt::Overflow) {
                rtc.reset_event(RtcInterrupt::Overflow);
                OVERFLOWS.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
}

/// Milliseconds since [`Millis::start`] (125 ms steps). Start the LFCLK first.
pub struct Millis(());

impl Millis {
    /// Starts RTC0 with its tick and overflow interrupts; `None` if the HAL
    /// refuses the prescaler.
    pub fn start(rtc: RTC0, nvic: &mut NVIC) -> Option<Self> {
        let mut rtc = Rtc::new(rtc, PRESCALER).ok()?;
        rtc.enable_event(RtcInterrupt::Tick);
        rtc.enable_event(RtcInterrupt::Overflow);
        rtc.enable_interrupt(RtcInterrupt::Tick, Some(nvic));
        rtc.enable_interrupt(RtcInterrupt::Overflow, Some(nvic));
        rtc.enable_counter();
        critical_section::with(|cs| RTC.borrow_ref_mut(cs).replace(rtc));
        Some(Millis(()))
    }
}

impl Monotonic for Millis {
    fn millis(&mut self) -> u64 {
        critical_section::with(|cs| {
            let rtc = RTC.borrow_ref(cs);
            let Some(rtc) = rtc.as_ref() else { return 0 };
            let count = rtc.get_counter();
            // An overflow not yet counted by the interrupt: it happened before
            // `count` was read if `count` is small.
            let pending = rtc.is_event_triggered(RtcInterrupt::Overflow) && count < HALF;
            let wraps = u64::from(OVERFLOWS.load(Ordering::Relaxed)) + u64::from(pending);
            ((wraps << 24) | u64::from(count)).saturating_mul(MILLIS_PER_TICK)
        })
    }
}
