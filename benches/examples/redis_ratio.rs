//! Redis throughput as interleaved ratios against baselines on the same
//! `redis-server`, round by round (so a neighbour's burst slows both sides of
//! a round alike), with the median and the spread of the rounds:
//!
//! - c = 50: tessera begin + complete pairs/s (one connection per task, and
//!   one shared multiplexed connection) ÷ `redis-benchmark -c 50 SET` req/s;
//! - c = 1: pairs/s ÷ plain `SET` round trips/s of a Rust client (the same
//!   `redis` crate, one task), instead of `redis-benchmark`, whose c = 1 figure
//!   is its own wake-up latency.
//!
//! Ends with the server's `INFO commandstats` lines for `SET` and `FCALL`
//! (calls and µs per call).
//!
//! `cargo run --release -p tessera-benches --example redis_ratio [ROUNDS]`

use std::time::{Duration, Instant};

use tessera_benches::redis_load::{connect, pairs, redis_benchmark};
use tessera_std::testkit::RedisServer;

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let server = RedisServer::start().expect("redis-server starts");
    let (url, port) = (server.url(), server.port());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let own: Vec<_> = rt.block_on(async {
        let mut v = Vec::new();
        for _ in 0..50 {
            v.push(connect(&url).await);
        }
        v
    });
    let mux = vec![own[0].clone(); 50];
    let single = vec![own[1].clone()];
    let client = redis::Client::open(url.as_str()).expect("url");
    let mut raw = rt
        .block_on(client.get_multiplexed_async_connection())
        .expect("connects");

    let rate = |n: u64, d: Duration| n as f64 / d.as_secs_f64();
    let (mut per_task, mut multiplexed, mut c1) = (Vec::new(), Vec::new(), Vec::new());
    // One warm-up round, not counted.
    for round in 0..=rounds {
        let set = redis_benchmark(
            port,
            1,
            &["-c", "50", "-n", "100000", "-r", "1000000", "-t", "set"],
        )
        .expect("redis-benchmark");
        let own_rate = rate(40_000, rt.block_on(pairs(&own, 40_000)));
        let mux_rate = rate(40_000, rt.block_on(pairs(&mux, 40_000)));
        let set_c1 = rt.block_on(async {
            let start = Instant::now();
            for i in 0..10_000u64 {
                let _: () = redis::cmd("SET")
                    .arg(format!("plain:{i}"))
                    .arg("x")
                    .query_async(&mut raw)
                    .await
                    .expect("SET");
            }
            rate(10_000, start.elapsed())
        });
        let pair_c1 = rate(5_000, rt.block_on(pairs(&single, 5_000)));
        println!(
            "round {round}: SET c50 {:.0}/s; pairs per task {own_rate:.0}/s, \
             multiplexed {mux_rate:.0}/s; c1: pairs {pair_c1:.0}/s, Rust SET {set_c1:.0}/s",
            set.rps
        );
        if round > 0 {
            per_task.push(own_rate / set.rps);
            multiplexed.push(mux_rate / set.rps);
            c1.push(pair_c1 / set_c1);
        }
    }
    // Where the server's time goes: microseconds per call of each command
    // (SET: redis-benchmark's and the fast claims; FCALL: complete, and the
    // claims that needed the script).
    let stats = server.cli(&["INFO", "commandstats"]).unwrap_or_default();
    for line in stats.lines() {
        if [
            "cmdstat_set:",
            "cmdstat_fcall:",
            "cmdstat_get:",
            "cmdstat_pttl:",
        ]
        .iter()
        .any(|p| line.starts_with(p))
        {
            println!("{line}");
        }
    }
    for (name, mut v) in [
        ("c50 per-task pairs ÷ redis-benchmark SET", per_task),
        ("c50 multiplexed pairs ÷ redis-benchmark SET", multiplexed),
        ("c1 pairs ÷ Rust SET round trips", c1),
    ] {
        v.sort_by(f64::total_cmp);
        println!(
            "{name}: median {:.3} (min {:.3}, max {:.3}, {} rounds)",
            v[v.len() / 2],
            v[0],
            v[v.len() - 1],
            v.len()
        );
    }
}
