//! The Redis store: claim + complete pairs per second at 1 and 50 concurrent
//! tasks, with a connection per task and with one shared multiplexed
//! connection, next to `redis-benchmark` (SET, and EVALSHA of the same claim
//! script) against the same `redis-server`, started here, in the same run.

use std::time::Duration;

use criterion::{Criterion, Throughput};
use serde::Serialize;
use tessera_benches::{
    redis_load::{claim_script, connect, cpu_split, pairs, redis_benchmark, Baseline, CpuSplit},
    results,
};
use tessera_std::testkit::RedisServer;

/// The baselines at one concurrency.
#[derive(Serialize)]
struct Row {
    concurrency: usize,
    redis_benchmark_set: f64,
    redis_benchmark_evalsha: f64,
    commands: Vec<String>,
}

#[derive(Serialize)]
struct Saved {
    server: String,
    rows: Vec<Row>,
    cpu: Vec<CpuSplit>,
    pipelined_set: f64,
    pipelined_command: String,
}

fn main() {
    // `cargo bench -- --test` runs everything once, quickly, and saves nothing.
    let test_mode = std::env::args().any(|a| a == "--test");
    let server = RedisServer::start().expect("redis-server starts");
    let (url, port) = (server.url(), server.port());
    let version = server.cli(&["INFO", "server"]).expect("INFO");
    let version = version
        .lines()
        .find(|l| l.starts_with("redis_version:"))
        .unwrap_or("redis_version:?")
        .trim();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10)
        .configure_from_args();
    let sha = server
        .cli(&["SCRIPT", "LOAD", &claim_script()])
        .expect("SCRIPT LOAD");

    // Median of three runs of each baseline; once in test mode.
    let runs = if test_mode { 1 } else { 3 };
    let mut rows = Vec::new();
    let mut cpu = Vec::new();
    let info = || server.cli(&["INFO", "cpu"]).unwrap_or_default();
    for concurrency in [1usize, 50] {
        let own = rt.block_on(stores(&url, concurrency));
        let shared = rt.block_on(connect(&url));
        let mux = vec![shared; concurrency];
        let mut g = c.benchmark_group(format!("redis-c{concurrency}"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("tessera-connection-per-task", |b| {
            b.iter_custom(|n| rt.block_on(pairs(&own, n)))
        });
        g.bench_function("tessera-multiplexed", |b| {
            b.iter_custom(|n| rt.block_on(pairs(&mux, n)))
        });
        g.finish();
        let total = if test_mode { 100 } else { 20_000 };
        cpu.push(cpu_split(&rt, &own, "per-task", total, info));
        cpu.push(cpu_split(&rt, &mux, "multiplexed", total, info));

        let requests = match (test_mode, concurrency) {
            (true, _) => "1000",
            (false, 1) => "20000",
            (false, _) => "100000",
        };
        let c_arg = concurrency.to_string();
        let common = ["-c", &c_arg, "-n", requests, "-r", "1000000"];
        let set = redis_benchmark(port, runs, &[&common[..], &["-t", "set"]].concat())
            .expect("redis-benchmark SET");
        let claim = [
            sha.as_str(),
            "1",
            "bench:__rand_int__",
            "ffffffffffffffff",
            "tttttttttttttttt",
            "0",
            "",
            "30000",
            "60000",
            "60000",
        ];
        // The baseline must run the claim to its write, not fail early: an
        // earlier version passed six arguments of seven and timed an error.
        let once = [&["EVALSHA"][..], &claim[..]].concat();
        let once: Vec<&str> = once
            .iter()
            .map(|a| {
                if *a == "bench:__rand_int__" {
                    "bench:check"
                } else {
                    a
                }
            })
            .collect();
        assert_eq!(server.cli(&once).expect("EVALSHA claim"), "fresh");
        let evalsha = redis_benchmark(
            port,
            runs,
            &[&common[..], &["EVALSHA"], &claim[..]].concat(),
        )
        .expect("EVALSHA");
        println!(
            "redis-benchmark -c {concurrency}: SET {:.0}/s, EVALSHA claim {:.0}/s",
            set.rps, evalsha.rps
        );
        rows.push(Row {
            concurrency,
            redis_benchmark_set: set.rps,
            redis_benchmark_evalsha: evalsha.rps,
            commands: vec![set.command, evalsha.command],
        });
    }
    let requests = if test_mode { "1000" } else { "200000" };
    let piped: Baseline = redis_benchmark(
        port,
        runs,
        &[
            "-c", "50", "-n", requests, "-r", "1000000", "-P", "16", "-t", "set",
        ],
    )
    .expect("pipelined");
    println!("redis-benchmark -c 50 -P 16: SET {:.0}/s", piped.rps);
    c.final_summary();
    if !test_mode {
        let saved = Saved {
            server: version.to_owned(),
            rows,
            cpu,
            pipelined_set: piped.rps,
            pipelined_command: piped.command,
        };
        let path = results::write("redis", &saved).expect("results directory is writable");
        println!("saved {}", path.display());
    }
}

/// One store (so one connection) per task.
async fn stores(url: &str, n: usize) -> Vec<tessera_std::store::redis::RedisStore> {
    let mut stores = Vec::with_capacity(n);
    for _ in 0..n {
        stores.push(connect(url).await);
    }
    stores
}
