//! Heap allocations per operation, for each library, counted by a
//! `stats_alloc` global allocator that the calling binary installs.

use std::alloc::System;

use serde::Serialize;
use stats_alloc::{Region, StatsAlloc};
use tessera_core::Algorithm;

use crate::{
    fixture::{bad_signature_token, large_token, token},
    paseto::{Lib, LocalCase, PublicCase},
    sign::Signers,
    verify::Verifiers,
    window::{fill, Idempotency, Lru, MapQueue, Moka, Tessera},
};

/// One operation of one library.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    /// What was done, e.g. `verify-HS256`.
    pub operation: String,
    /// Who did it.
    pub library: &'static str,
    /// Allocations per call (reallocations included).
    pub allocations: usize,
    /// Bytes allocated per call.
    pub bytes: usize,
}

/// Calls each op counted: once to warm up (lazy statics, first-use
/// buffers), then `CALLS` times under the counter.
const CALLS: usize = 16;

fn count(
    global: &'static StatsAlloc<System>,
    operation: &str,
    library: &'static str,
    mut op: impl FnMut(),
) -> Row {
    op();
    let region = Region::new(global);
    for _ in 0..CALLS {
        op();
    }
    let stats = region.change();
    Row {
        operation: operation.to_owned(),
        library,
        allocations: (stats.allocations + stats.reallocations).div_ceil(CALLS),
        bytes: stats.bytes_allocated.div_ceil(CALLS),
    }
}

fn verifies(
    global: &'static StatsAlloc<System>,
    rows: &mut Vec<Row>,
    operation: &str,
    alg: Algorithm,
    token: &str,
) {
    let v = Verifiers::new(alg);
    let mut buf = vec![0u8; 8192];
    let t = token;
    rows.push(count(global, operation, "tessera", || {
        drop(std::hint::black_box(v.tessera(t, &mut buf)))
    }));
    rows.push(count(global, operation, "jsonwebtoken", || {
        drop(std::hint::black_box(v.jsonwebtoken(t)))
    }));
    rows.push(count(global, operation, "jwt-simple", || {
        drop(std::hint::black_box(v.jwt_simple(t)))
    }));
    rows.push(count(global, operation, "jwt-compact", || {
        drop(std::hint::black_box(v.jwt_compact(t)))
    }));
}

fn window_ops(
    global: &'static StatsAlloc<System>,
    rows: &mut Vec<Row>,
    library: &'static str,
    mut map: Box<dyn Idempotency>,
) {
    const N: u64 = 1024;
    fill(map.as_mut(), N);
    let mut next = N;
    rows.push(count(global, "window-fresh-1024", library, || {
        assert!(map.fresh(next, next));
        next += 1;
    }));
    let now = next - 1;
    rows.push(count(global, "window-replay-1024", library, || {
        std::hint::black_box(map.replay(now, now));
    }));
}

/// PASETO v4 `v4.local` decrypt and `v4.public` verify, every library but
/// the floor.
fn pasetos(global: &'static StatsAlloc<System>, rows: &mut Vec<Row>) {
    let (local, public) = (LocalCase::new(), PublicCase::new());
    for lib in Lib::ALL.into_iter().filter(|l| *l != Lib::Floor) {
        let mut check = local.check(lib);
        rows.push(count(
            global,
            "paseto-v4.local-decrypt",
            lib.name(),
            &mut check,
        ));
        let mut check = public.check(lib);
        rows.push(count(
            global,
            "paseto-v4.public-verify",
            lib.name(),
            &mut check,
        ));
    }
}

/// Counts every library's allocations for verify (realistic, large, bad
/// signature), sign, PASETO v4, and the window operations at 1,024 records.
pub fn measure(global: &'static StatsAlloc<System>) -> Vec<Row> {
    let mut rows = Vec::new();
    for alg in Algorithm::ALL {
        verifies(
            global,
            &mut rows,
            &format!("verify-{alg}"),
            alg,
            &token(alg),
        );
    }
    verifies(
        global,
        &mut rows,
        "verify-large-HS256",
        Algorithm::Hs256,
        &large_token(),
    );
    let bad = bad_signature_token(Algorithm::Hs256);
    verifies(
        global,
        &mut rows,
        "reject-bad-signature-HS256",
        Algorithm::Hs256,
        &bad,
    );

    let s = Signers::new();
    let mut out = [0u8; 1024];
    rows.push(count(global, "sign-HS256", "tessera", || {
        std::hint::black_box(s.tessera(&mut out).map(str::len));
    }));
    rows.push(count(global, "sign-HS256", "jsonwebtoken", || {
        drop(std::hint::black_box(s.jsonwebtoken()))
    }));
    rows.push(count(global, "sign-HS256", "jwt-simple", || {
        drop(std::hint::black_box(s.jwt_simple()))
    }));
    rows.push(count(global, "sign-HS256", "jwt-compact", || {
        drop(std::hint::black_box(s.jwt_compact()))
    }));

    pasetos(global, &mut rows);

    window_ops(
        global,
        &mut rows,
        "tessera",
        Box::new(Tessera::<1024>::new()),
    );
    window_ops(
        global,
        &mut rows,
        "hashmap-vecdeque",
        Box::new(MapQueue::new(1024)),
    );
    window_ops(global, &mut rows, "lru", Box::new(Lru::new(1024)));
    window_ops(global, &mut rows, "moka", Box::new(Moka::new(1024)));
    rows
}
