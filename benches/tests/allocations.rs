//! tessera allocates nothing on any measured path; the peers' counts prove the
//! counter counts.

use std::alloc::System;

use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use tessera_benches::allocations;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn tessera_never_allocates_and_jsonwebtoken_does() {
    let rows = allocations::measure(GLOBAL);
    for r in &rows {
        println!(
            "{:<28} {:<18} {:>4} allocations {:>6} bytes",
            r.operation, r.library, r.allocations, r.bytes
        );
    }
    let tessera: Vec<_> = rows.iter().filter(|r| r.library == "tessera").collect();
    assert_eq!(tessera.len(), 10, "every operation measured for tessera");
    for r in tessera {
        assert_eq!(
            (r.allocations, r.bytes),
            (0, 0),
            "tessera allocated in {}",
            r.operation
        );
    }
    let peer = rows
        .iter()
        .find(|r| r.operation == "verify-HS256" && r.library == "jsonwebtoken")
        .unwrap();
    assert!(
        peer.allocations > 0,
        "the counter sees jsonwebtoken's allocations"
    );
}
