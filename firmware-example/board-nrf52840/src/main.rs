//! The IoT endpoint on an nRF52840-DK: frames on UARTE0 (P0.08 RX, P0.06 TX,
//! the DK's USB virtual COM port), the relay on P0.13, logs over defmt RTT,
//! the window in a `static` in `.bss`. The logic is `tessera-app`, the same
//! crate the QEMU board runs. A `B` frame resets the chip; `X` parks it.
#![no_std]
#![no_main]

use core::cell::RefCell;

use cortex_m_rt::entry;
use critical_section::Mutex;
use defmt_rtt as _;
use nrf52840_hal::{
    clocks::Clocks,
    gpio::{p0, Level},
    pac,
    uarte::Pins,
};
use panic_probe as _;
use tessera_app::{session::MAX_LINE, Control, Endpoint, Policy, Session, SharedWindow};
use tessera_board_nrf52840::{keys, millis::Millis, retained::Retained, serial::Serial};
use tessera_core::{window::Window, Validation};

/// Keys remembered at once, as on the QEMU board.
const WINDOW_LEN: usize = 32;

/// All zeros (`.bss`: no flash image); started in `main` with the secret.
static WINDOW: SharedWindow<WINDOW_LEN> = Mutex::new(RefCell::new(Window::UNSTARTED));

#[entry]
fn main() -> ! {
    let (Some(mut core), Some(p)) = (cortex_m::Peripherals::take(), pac::Peripherals::take()) else {
        defmt::panic!("peripherals taken twice");
    };
    critical_section::with(|cs| WINDOW.borrow_ref_mut(cs).start(keys::WINDOW_SECRET, keys::WINDOW_CONFIG));
    let ring = match keys::ring() {
        Ok(ring) => ring,
        Err(e) => defmt::panic!("key ring: {}", e),
    };
    let policy = Policy {
        request: Validation::new().issuer(keys::ISSUER).audience(keys::AUDIENCE).max_len(MAX_LINE),
        time: Validation::new().issuer(keys::ISSUER).audience(keys::TIME_AUDIENCE).max_len(MAX_LINE),
    };
    // The RTC counts the LFCLK (internal RC oscillator: ±500 ppm uncalibrated,
    // a few seconds a day between time tokens).
    let _clocks = Clocks::new(p.CLOCK).start_lfclk();
    let Some(mono) = Millis::start(p.RTC0, &mut core.NVIC) else { defmt::panic!("rtc") };
    let port0 = p0::Parts::new(p.P0);
    let relay = port0.p0_13.into_push_pull_output(Level::Low).degrade();
    let pins = Pins {
        rxd: port0.p0_08.into_floating_input().degrade(),
        txd: port0.p0_06.into_push_pull_output(Level::High).degrade(),
        cts: None,
        rts: None,
    };
    let Some(mut serial) = Serial::new(p.UARTE0, pins, &mut core.SCB) else { defmt::panic!("uarte") };
    let Some(retained) = Retained::take() else { defmt::panic!("retained mark taken twice") };
    let mut session = Session::new(Endpoint::new(&ring, policy, &WINDOW, relay, mono).persisting(retained));
    defmt::info!("endpoint ready: {=usize}-entry window ({=usize} B)", WINDOW_LEN, size_of_val(&WINDOW));
    loop {
        match session.poll(&mut serial) {
            Ok(Control::Continue) => {}
            Err(nb::Error::WouldBlock) => serial.idle(),
            Ok(Control::Stop) => break,
            // The window is lost with RAM; the endpoint's restart floor covers it.
            Ok(Control::Reset) => cortex_m::peripheral::SCB::sys_reset(),
            Err(nb::Error::Other(_)) => defmt::warn!("uarte: receive error, byte dropped"),
        }
    }
    defmt::info!("session ended");
    loop {
        cortex_m::asm::wfi();
    }
}
