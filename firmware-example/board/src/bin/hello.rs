#![no_std]
#![no_main]
use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use defmt_semihosting as _;

#[entry]
fn main() -> ! {
    defmt::info!("hello {=u32}", 42);
    debug::exit(debug::EXIT_SUCCESS);
    loop {}
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}
