//! Runs one benchmarked operation in a loop, for `valgrind --tool=callgrind`
//! (instruction counts do not move with the noise of a shared machine):
//!
//! ```text
//! cargo build --release -p tessera-benches --example profile
//! valgrind --tool=callgrind target/release/examples/profile verify-tessera 20000
//! callgrind_annotate --inclusive=yes callgrind.out.<pid>
//! ```

use std::hint::black_box;

use tessera_benches::{
    fixture::{bad_signature_token, kid_token, large_token, token},
    paseto::{Check, Lib, LocalCase, PublicCase},
    sign::Signers,
    verify::{MacInput, Verifiers},
    window::{fill, Idempotency, Lru, Tessera},
};
use tessera_core::Algorithm;

/// Fills `map` with `size` records, then begins + completes `n` new keys.
fn fresh(map: &mut impl Idempotency, size: u64, n: u64) {
    fill(map, size);
    (size..size + n).for_each(|i| assert!(map.fresh(black_box(i), i)));
}

/// Fills `map` with `size` records, then replays the newest one `n` times.
fn replay(map: &mut impl Idempotency, size: u64, n: u64) {
    fill(map, size);
    (0..n).for_each(|_| assert!(map.replay(black_box(size - 1), size - 1).is_some()));
}

/// `paseto-local-<lib>` / `paseto-public-<lib>`, `<lib>` as in
/// [`Lib::name`]: that library's check of the PASETO bench token.
fn paseto(op: &str) -> Option<Check<'static>> {
    let (purpose, lib) = op.strip_prefix("paseto-")?.split_once('-')?;
    let lib = Lib::ALL.into_iter().find(|l| l.name() == lib)?;
    match purpose {
        "local" => Some(Box::leak(Box::new(LocalCase::new())).check(lib)),
        "public" => Some(Box::leak(Box::new(PublicCase::new())).check(lib)),
        _ => None,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_default();
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let v = Verifiers::new(Algorithm::Hs256);
    let good = token(Algorithm::Hs256);
    let bad = bad_signature_token(Algorithm::Hs256);
    let large = large_token();
    let kid = kid_token();
    let mut buf = vec![0u8; 8192];
    let run = move || match op.as_str() {
        "verify-tessera" => {
            (0..n).for_each(|_| assert!(v.tessera(black_box(&good), &mut buf).is_ok()))
        }
        "verify-registered" => {
            (0..n).for_each(|_| assert!(v.tessera_registered(black_box(&good), &mut buf).is_ok()))
        }
        "verify-large" => {
            (0..n).for_each(|_| assert!(v.tessera(black_box(&large), &mut buf).is_ok()))
        }
        "verify-kid" => (0..n).for_each(|_| assert!(v.tessera(black_box(&kid), &mut buf).is_ok())),
        "verify-kid-registered" => {
            (0..n).for_each(|_| assert!(v.tessera_registered(black_box(&kid), &mut buf).is_ok()))
        }
        "reject-tessera" => {
            (0..n).for_each(|_| assert!(v.tessera(black_box(&bad), &mut buf).is_err()))
        }
        "sign-tessera" => {
            let s = Signers::new();
            let mut out = [0u8; 1024];
            (0..n).for_each(|_| assert!(black_box(s.tessera(&mut out)).is_some()))
        }
        "sign-jsonwebtoken" => {
            let s = Signers::new();
            (0..n).for_each(|_| assert!(black_box(s.jsonwebtoken()).is_some()))
        }
        "floor" => {
            let input = MacInput::of(&good);
            (0..n).for_each(|_| assert!(v.floor_precomputed(black_box(&input))))
        }
        "window-fresh-1024" => fresh(&mut Tessera::<1024>::new(), 1024, n),
        "window-fresh-65536" => fresh(&mut Tessera::<65536>::new(), 65536, n),
        "window-fresh-lru-1024" => fresh(&mut Lru::new(1024), 1024, n),
        "window-fresh-lru-65536" => fresh(&mut Lru::new(65536), 65536, n),
        "window-replay-1024" => replay(&mut Tessera::<1024>::new(), 1024, n),
        "window-replay-lru-1024" => replay(&mut Lru::new(1024), 1024, n),
        "window-fresh-lru-siphash-1024" => fresh(&mut Lru::keyed(1024), 1024, n),
        "window-replay-lru-siphash-1024" => replay(&mut Lru::keyed(1024), 1024, n),
        other => match paseto(other) {
            Some(mut check) => (0..n).for_each(|_| check()),
            None => panic!("unknown operation {other:?}"),
        },
    };
    // The 65,536-slot window is built on the stack before it is boxed.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(run)
        .expect("spawn")
        .join()
        .expect("ran");
}
