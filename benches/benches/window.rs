//! The idempotency window next to `HashMap` + `VecDeque`, `lru` (foldhash and
//! SipHash) and `moka`, at
//! 1,024 and 65,536 live records, in one run.

use std::{hint::black_box, time::Duration};

use criterion::Criterion;
use tessera_benches::window::{fill, live_keys, Idempotency, Lru, MapQueue, Moka, Tessera};

/// Begin + complete with a key never seen, the clock advancing one tick per
/// key so `n` records stay live.
fn fresh(c: &mut Criterion, n: u64, mut maps: Vec<(&str, Box<dyn Idempotency>)>) {
    let mut g = c.benchmark_group(format!("window-fresh-{n}"));
    for (name, map) in &mut maps {
        fill(map.as_mut(), n);
        let mut next = n;
        g.bench_function(*name, |b| {
            b.iter(|| {
                assert!(map.fresh(black_box(next), next));
                next += 1;
            })
        });
    }
    g.finish();
}

/// Begin on a live, completed key: the stored value comes back. Keys are
/// visited in a scattered order so the large window is not read in cache order.
fn replay(c: &mut Criterion, n: u64, mut maps: Vec<(&str, Box<dyn Idempotency>)>) {
    let mut g = c.benchmark_group(format!("window-replay-{n}"));
    for (name, map) in &mut maps {
        fill(map.as_mut(), n);
        let now = n - 1;
        let live = live_keys(map.as_mut(), n);
        assert!(
            live.len() as u64 >= n / 2,
            "{name} kept {} of {n}",
            live.len()
        );
        let mut at = 0;
        g.bench_function(*name, |b| {
            b.iter(|| {
                assert!(map.replay(black_box(live[at]), now).is_some());
                at = (at + 1) % live.len();
            })
        });
    }
    g.finish();
}

fn peers_1024() -> Vec<(&'static str, Box<dyn Idempotency>)> {
    vec![
        ("tessera", Box::new(Tessera::<1024>::new())),
        (
            "tessera-2x-slots",
            Box::new(Tessera::<2048>::with_ttl(1024)),
        ),
        ("hashmap-vecdeque", Box::new(MapQueue::new(1024))),
        ("lru", Box::new(Lru::new(1024))),
        ("lru-siphash", Box::new(Lru::keyed(1024))),
        ("moka", Box::new(Moka::new(1024))),
    ]
}

fn peers_65536() -> Vec<(&'static str, Box<dyn Idempotency>)> {
    vec![
        ("tessera", Box::new(Tessera::<65536>::new())),
        (
            "tessera-2x-slots",
            Box::new(Tessera::<131072>::with_ttl(65536)),
        ),
        ("hashmap-vecdeque", Box::new(MapQueue::new(65536))),
        ("lru", Box::new(Lru::new(65536))),
        ("lru-siphash", Box::new(Lru::keyed(65536))),
        ("moka", Box::new(Moka::new(65536))),
    ]
}

fn main() {
    // A 65,536-slot window is several MiB inline and is built on the stack
    // before it is boxed: run on a thread with room for it.
    let run = || {
        let mut c = Criterion::default()
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .configure_from_args();
        fresh(&mut c, 1024, peers_1024());
        fresh(&mut c, 65536, peers_65536());
        replay(&mut c, 1024, peers_1024());
        replay(&mut c, 65536, peers_65536());
        c.final_summary();
    };
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(run)
        .expect("spawn")
        .join()
        .expect("benches ran");
}
