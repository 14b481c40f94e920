//! Heap allocations per operation for every library, counted by the global
//! allocator. Prints a table and saves it for `report.py`.

use std::alloc::System;

use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use tessera_benches::{allocations, results};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    let rows = allocations::measure(GLOBAL);
    println!(
        "{:<28} {:<18} {:>12} {:>10}",
        "operation", "library", "allocations", "bytes"
    );
    for r in &rows {
        println!(
            "{:<28} {:<18} {:>12} {:>10}",
            r.operation, r.library, r.allocations, r.bytes
        );
    }
    let path = results::write("allocations", &rows).expect("results directory is writable");
    println!("saved {}", path.display());
}
