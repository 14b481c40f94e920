//! The core's share: verify one HS256 token (minted by `build.rs`) with the
//! endpoint's kid'd two-key ring and claim its key in a 32-entry window,
//! under the same harness as `baseline`.
#![no_std]
#![no_main]

use core::cell::RefCell;

use cortex_m_rt::entry;
use critical_section::Mutex;
use tessera_board::keys;
use tessera_core::{
    window::{Begin, Fingerprint, Request, Window, WindowConfig},
    Key, KeyRing, Validation,
};

include!(concat!(env!("OUT_DIR"), "/footprint.rs"));
// Checked at compile time: a panic in a constant is a build error.
#[allow(clippy::panic)]
const CONFIG: WindowConfig = match WindowConfig::new(5, 600, 30) {
    Ok(config) => config,
    Err(_) => panic!("invalid window configuration"),
};

/// All zeros (`.bss`), started by the probe: how a device holds its window.
static WINDOW: Mutex<RefCell<Window<u8, 32>>> = Mutex::new(RefCell::new(Window::UNSTARTED));

#[entry]
fn main() -> ! {
    tessera_board::footprint::measure(probe)
}

fn probe() -> bool {
    let mut ring = KeyRing::<{ keys::KEYS.len() }>::new();
    for (kid, secret) in keys::KEYS {
        if Key::hs256(secret).and_then(|k| k.with_kid(kid)).and_then(|k| ring.add(k)).is_err() {
            return false;
        }
    }
    let validation = Validation::new().issuer(keys::ISSUER).audience(keys::AUDIENCE);
    let mut buf = [0u8; 384];
    let Ok(verified) = ring.verify(core::hint::black_box(TOKEN), &validation, NOW, &mut buf) else {
        return false;
    };
    let Some(sub) = verified.claims.sub else {
        return false;
    };
    let request = Request {
        scope: sub.raw().as_bytes(),
        key: b"k1",
        fingerprint: Fingerprint::of(&[b"on"]),
        stamp: verified.claims.iat.unwrap_or(NOW),
        keep_until: verified.claims.exp,
    };
    critical_section::with(|cs| {
        let mut window = WINDOW.borrow_ref_mut(cs);
        window.start(keys::WINDOW_SECRET, CONFIG);
        match window.begin(&request, NOW) {
            Begin::Fresh(ticket) => window.complete(ticket, 1, NOW).is_ok(),
            _ => false,
        }
    })
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    tessera_board::exit::exit(false)
}
