//! Ending a run with a status: QEMU's exit status through semihosting
//! `SYS_EXIT`, or on a real board (no host to tell) park on success and reset
//! on failure, so a device in the field recovers by rebooting.

/// Stops QEMU with exit status 0 (`ok`) or 1.
#[cfg(feature = "semihosting")]
pub fn exit(ok: bool) -> ! {
    use cortex_m_semihosting::debug;
    debug::exit(if ok { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    // Only reached without a debugger/semihosting host: park the core.
    loop {
        cortex_m::asm::wfi();
    }
}

/// Parks the core (`ok`) or resets the board.
#[cfg(not(feature = "semihosting"))]
pub fn exit(ok: bool) -> ! {
    if !ok {
        cortex_m::peripheral::SCB::sys_reset();
    }
    loop {
        cortex_m::asm::wfi();
    }
}
