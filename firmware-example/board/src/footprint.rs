//! The measuring harness shared by the footprint probes and `baseline`, so
//! that their difference is the probe alone, and the window half that every
//! probe (HS256, v4.public, v4.local) runs after its verify.

use core::cell::RefCell;

use critical_section::Mutex;
use tessera_core::window::{Begin, Fingerprint, Request, Window, WindowConfig};

use crate::{exit::exit, stack};

// Checked at compile time: a panic in a constant is a build error.
#[allow(clippy::panic)]
const CONFIG: WindowConfig = match WindowConfig::new(5, 600, 30) {
    Ok(config) => config,
    Err(_) => panic!("invalid window configuration"),
};

/// All zeros (`.bss`), started by the probe: how a device holds its window.
static WINDOW: Mutex<RefCell<Window<u8, 32>>> = Mutex::new(RefCell::new(Window::UNSTARTED));

/// Starts the 32-entry window, then claims and completes one key for `sub`
/// stamped `iat`, kept until `exp`: the window half of a probe. Inlined, as
/// in the single-probe binary it replaced (no call overhead in the figure).
#[inline(always)]
pub fn claim_once(sub: &str, iat: u64, exp: Option<u64>, now: u64) -> bool {
    let request = Request {
        scope: sub.as_bytes(),
        key: b"k1",
        fingerprint: Fingerprint::of(&[b"on"]),
        stamp: iat,
        keep_until: exp,
    };
    critical_section::with(|cs| {
        let mut window = WINDOW.borrow_ref_mut(cs);
        window.start(crate::keys::WINDOW_SECRET, CONFIG);
        match window.begin(&request, now) {
            Begin::Fresh(ticket) => window.complete(ticket, 1, now).is_ok(),
            _ => false,
        }
    })
}

/// Paints the stack, runs `probe`, logs its stack use and exits with its result.
pub fn measure(probe: fn() -> bool) -> ! {
    stack::paint();
    let base = stack::current();
    let ok = probe();
    let low = stack::low_water();
    defmt::info!(
        "footprint: probe ok={=bool}, stack below caller {=usize} B, peak from reset {=usize} B",
        ok,
        base.saturating_sub(low),
        stack::top().saturating_sub(low)
    );
    exit(ok)
}
