//! The endpoint's clock mark in RAM that a warm reset keeps: the `.uninit`
//! section, which cortex-m-rt neither zeroes nor initialises at boot. A
//! watchdog, `SYSRESETREQ` or lockup reset leaves SRAM as it was; a power-on
//! or brown-out reset leaves garbage, which the check word rejects (then the
//! endpoint starts without a mark, see `tessera_app::endpoint`).
//!
//! Board-independent (plain Cortex-M RAM): the nRF52840 board uses this file too.

#![allow(unsafe_code)]

use core::mem::MaybeUninit;
use core::ptr::{addr_of_mut, read_volatile, write_volatile};
use core::sync::atomic::{AtomicBool, Ordering};

use tessera_app::clock::Persist;

/// Marks a stored value (and not power-on garbage or a torn write).
const MAGIC: u32 = 0x7E55_E7A1;

/// `[magic, low, high, check]`; `check = !(magic ^ low ^ high)`.
#[link_section = ".uninit.tessera_mark"]
static mut MARK: MaybeUninit<[u32; 4]> = MaybeUninit::uninit();

static TAKEN: AtomicBool = AtomicBool::new(false);

/// The retained mark; [`Retained::take`] hands out one handle only.
pub struct Retained(());

impl Retained {
    /// The handle, or `None` if it was taken already.
    pub fn take() -> Option<Self> {
        (!TAKEN.swap(true, Ordering::AcqRel)).then_some(Retained(()))
    }

    fn word(i: usize) -> *mut u32 {
        // SAFETY (of the callers' accesses): MARK is 4 aligned words that only
        // this handle touches (TAKEN); `i` is below 4 at every call site.
        addr_of_mut!(MARK).cast::<u32>().wrapping_add(i)
    }
}

impl Persist for Retained {
    fn load(&mut self) -> Option<u64> {
        // SAFETY: see `word`. Volatile reads of whatever the RAM holds: after
        // a power-on reset that is arbitrary bits, which the checks reject.
        let [magic, low, high, check] = [0, 1, 2, 3].map(|i| unsafe { read_volatile(Self::word(i)) });
        (magic == MAGIC && check == !(magic ^ low ^ high)).then_some(u64::from(high) << 32 | u64::from(low))
    }

    fn store(&mut self, secs: u64) {
        let (low, high) = (secs as u32, (secs >> 32) as u32);
        // Invalidate first, validate last: a reset in between leaves no mark
        // (as after a power loss), never a wrong one.
        // SAFETY: see `word`.
        unsafe {
            write_volatile(Self::word(0), 0);
            write_volatile(Self::word(1), low);
            write_volatile(Self::word(2), high);
            write_volatile(Self::word(3), !(MAGIC ^ low ^ high));
            write_volatile(Self::word(0), MAGIC);
        }
    }
}
