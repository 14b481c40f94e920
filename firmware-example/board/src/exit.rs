//! Ending a QEMU run with a status (semihosting `SYS_EXIT`).

use cortex_m_semihosting::debug;

/// Stops QEMU with exit status 0 (`ok`) or 1.
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    // Only reached without a debugger/semihosting host: park the core.
    loop {
        cortex_m::asm::wfi();
    }
}
