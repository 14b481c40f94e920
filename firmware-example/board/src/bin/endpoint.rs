//! The IoT endpoint: frames on UART0, the relay on PF0, logs over defmt
//! semihosting, the window in a `static`. Runs until an `X` frame; a `B`
//! frame resets the board (SYSRESETREQ), and the session goes on after boot.
#![no_std]
#![no_main]

use core::cell::RefCell;

use cortex_m_rt::entry;
use critical_section::Mutex;
use tessera_app::{session::MAX_LINE, Control, Endpoint, Policy, Session, SharedWindow};
use tessera_board::{exit::exit, keys, relay::Relay, retained::Retained, stack, systick::Millis, uart::Uart0};
use tessera_core::{window::Window, Validation};

/// Keys remembered at once; a 33rd live key is answered `429 window_full`.
const WINDOW_LEN: usize = 32;
/// All zeros (`.bss`: no flash image); started in `main` with the secret.
static WINDOW: SharedWindow<WINDOW_LEN> = Mutex::new(RefCell::new(Window::UNSTARTED));

#[entry]
fn main() -> ! {
    stack::paint();
    let Some(core) = cortex_m::Peripherals::take() else { exit(false) };
    critical_section::with(|cs| WINDOW.borrow_ref_mut(cs).start(keys::WINDOW_SECRET, keys::WINDOW_CONFIG));
    let ring = match keys::ring() {
        Ok(ring) => ring,
        Err(e) => {
            defmt::error!("key ring: {}", e);
            exit(false)
        }
    };
    let policy = Policy {
        request: Validation::new().issuer(keys::ISSUER).audience(keys::AUDIENCE).max_len(MAX_LINE),
        time: Validation::new().issuer(keys::ISSUER).audience(keys::TIME_AUDIENCE).max_len(MAX_LINE),
    };
    let Some(retained) = Retained::take() else { exit(false) };
    let endpoint = Endpoint::new(&ring, policy, &WINDOW, Relay::new(), Millis::start(core.SYST)).persisting(retained);
    let mut session = Session::new(endpoint);
    let Some(mut uart) = Uart0::new() else { exit(false) };
    defmt::info!(
        "endpoint ready: {=usize}-entry window ({=usize} B), {=usize}-key ring ({=usize} B), session ({=usize} B)",
        WINDOW_LEN,
        size_of_val(&WINDOW),
        keys::KEYS.len(),
        size_of_val(&ring),
        size_of_val(&session)
    );
    loop {
        match session.poll(&mut uart) {
            Ok(Control::Continue) => {}
            Err(nb::Error::WouldBlock) => uart.idle(),
            Ok(Control::Stop) => break,
            // The window is lost with RAM; the endpoint's restart floor covers it.
            Ok(Control::Reset) => cortex_m::peripheral::SCB::sys_reset(),
            Err(nb::Error::Other(_)) => defmt::warn!("uart: receive error, byte dropped"),
        }
    }
    let low = stack::low_water();
    defmt::info!("stack high-water since main: {=usize} B", stack::top().saturating_sub(low));
    exit(true)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    if let Some(at) = info.location() {
        defmt::error!("panic at {=str}:{=u32}", at.file(), at.line());
    }
    exit(false)
}
