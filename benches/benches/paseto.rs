//! PASETO v4: tessera next to `pasetors`, `rusty_paseto` and the cryptographic
//! floors, on the same token (realistic claims, footer, claims checked by
//! all; see `tessera_benches::paseto`).

use criterion::{criterion_group, criterion_main, Criterion};
use tessera_benches::paseto::{Lib, LocalCase, PublicCase};

fn local(c: &mut Criterion) {
    let case = LocalCase::new();
    let mut g = c.benchmark_group("paseto-v4.local-decrypt");
    for lib in Lib::ALL {
        let mut check = case.check(lib);
        let name = match lib {
            Lib::Floor => "floor-blake2b-xchacha20",
            _ => lib.name(),
        };
        g.bench_function(name, |b| b.iter(&mut check));
    }
    g.finish();
}

fn public(c: &mut Criterion) {
    let case = PublicCase::new();
    let mut g = c.benchmark_group("paseto-v4.public-verify");
    for lib in Lib::ALL {
        let mut check = case.check(lib);
        let name = match lib {
            Lib::Floor => "floor-ed25519-verify",
            _ => lib.name(),
        };
        g.bench_function(name, |b| b.iter(&mut check));
    }
    g.finish();
}

criterion_group!(benches, local, public);
criterion_main!(benches);
