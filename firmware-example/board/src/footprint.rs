//! The measuring harness shared by `core-footprint` and `baseline`, so that
//! their difference is the probe alone.

use crate::{exit::exit, stack};

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
