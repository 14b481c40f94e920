//! Empty probe under the footprint harness: runtime, logger and harness only.
#![no_std]
#![no_main]

use cortex_m_rt::entry;

#[entry]
fn main() -> ! {
    tessera_board::footprint::measure(|| core::hint::black_box(true))
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    tessera_board::exit::exit(false)
}
