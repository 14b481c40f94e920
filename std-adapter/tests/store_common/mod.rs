//! Helpers shared by the store tests.
#![allow(dead_code)]

use std::{sync::Arc, time::Duration};

use futures_util::future::join_all;
use tessera_std::{
    core::conformance::CASES,
    store::{
        redis::{RedisConfig, RedisStore},
        Begin, Clock, Fingerprint, IdempotencyStore, Request, SystemClock,
    },
    testkit::conformance,
};

/// One tick of real time: lease 500 ms, TTL 2 s, skew 250 ms.
pub const TICK: Duration = Duration::from_millis(50);

pub fn now_ms() -> u64 {
    SystemClock.now_ms()
}

pub fn request<'a>(scope: &'a [u8], key: &'a [u8], stamp: u64) -> Request<'a> {
    Request {
        scope,
        key,
        fingerprint: Fingerprint([1; 16]),
        stamp,
        keep_until: None,
    }
}

/// A config whose digest secret isolates this store's records from others'.
pub fn config(secret: &str) -> RedisConfig {
    let mut c = RedisConfig::new(secret.as_bytes().to_vec());
    c.store = conformance::store_config(TICK);
    c
}

/// Every conformance case at once, each on its own store (own digest secret,
/// so own records) made by `connect`.
pub async fn conformance_suite<F, Fut>(connect: F)
where
    F: Fn(RedisConfig) -> Fut,
    Fut: std::future::Future<Output = RedisStore>,
{
    let mut stores = Vec::new();
    for case in CASES {
        stores.push(connect(config(case.name)).await);
    }
    let runs = CASES
        .iter()
        .zip(&stores)
        .map(|(case, store)| conformance::run_case(case, store, &SystemClock, TICK));
    let failures: Vec<_> = join_all(runs)
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// 64 tasks, alternating between two independent clients, claim one key; the
/// owner completes after a pause. Returns every task's answer.
pub async fn race(a: RedisStore, b: RedisStore, key: &'static [u8]) -> Vec<&'static str> {
    let stamp = now_ms();
    let clients = [Arc::new(a), Arc::new(b)];
    let tasks = (0..64).map(|i| {
        let store = clients[i % 2].clone();
        tokio::spawn(async move {
            match store.begin(&request(b"alice", key, stamp)).await.unwrap() {
                Begin::Fresh(t) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    store.complete(t, conformance::response(1)).await.unwrap();
                    "fresh"
                }
                Begin::Replay(r) => {
                    assert_eq!(conformance::byte(&r), Some(1));
                    "replay"
                }
                other => other.name(),
            }
        })
    });
    join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// Exactly one `Fresh`, everyone else `InFlight` or `Replay`.
pub fn assert_exactly_once(answers: &[&str]) {
    assert_eq!(answers.len(), 64);
    assert_eq!(
        answers.iter().filter(|a| **a == "fresh").count(),
        1,
        "{answers:?}"
    );
    assert!(
        answers
            .iter()
            .all(|a| ["fresh", "in_flight", "replay"].contains(a)),
        "{answers:?}"
    );
}

/// What [`workload`] saw.
#[derive(Debug, Default)]
pub struct Workload {
    /// How often each key's handler ran.
    pub runs: Vec<usize>,
    /// Keys left abandoned (a complete that could not land within its lease).
    pub abandoned: usize,
    /// Retriable errors (`Unavailable`, `Timeout`: a 503 to a client).
    pub outages: usize,
}

/// `workers` callers per store, each going through `keys` keys in its own
/// order, 5 ms apart: every key is claimed, run, completed, and then replayed
/// to every caller. A caller retries a key on `InFlight` and on retriable
/// errors, for at most 20 s. Any other answer fails the test.
pub async fn workload(stores: &[RedisStore], workers: usize, keys: usize) -> Workload {
    use std::sync::Mutex;
    let runs = Arc::new(Mutex::new(vec![0usize; keys]));
    // Abandoned keys, and the count of retriable errors.
    let tally = Arc::new(Mutex::new((std::collections::BTreeSet::new(), 0usize)));
    let mut tasks = Vec::new();
    for (n, store) in stores.iter().enumerate() {
        for w in 0..workers {
            let (store, runs, tally) = (store.clone(), Arc::clone(&runs), Arc::clone(&tally));
            let offset = (n * workers + w) * 7;
            tasks.push(tokio::spawn(async move {
                let end = std::time::Instant::now() + Duration::from_secs(20);
                for i in 0..keys {
                    let k = (i + offset) % keys;
                    let key = format!("load-{k}");
                    let v = u8::try_from(k % 200).unwrap();
                    loop {
                        assert!(std::time::Instant::now() < end, "key {k} never settled");
                        match store
                            .begin(&request(b"load", key.as_bytes(), now_ms()))
                            .await
                        {
                            Ok(Begin::Fresh(t)) => {
                                runs.lock().unwrap()[k] += 1;
                                if store.complete(t, conformance::response(v)).await.is_err() {
                                    tally.lock().unwrap().1 += 1;
                                }
                            }
                            Ok(Begin::Replay(r)) => {
                                assert_eq!(conformance::byte(&r), Some(v), "key {k}");
                                break;
                            }
                            Ok(Begin::Abandoned) => {
                                tally.lock().unwrap().0.insert(k);
                                break;
                            }
                            Ok(Begin::InFlight) => {}
                            Ok(other) => panic!("key {k}: {}", other.name()),
                            Err(e) => {
                                assert!(
                                    matches!(
                                        e,
                                        tessera_std::store::StoreError::Unavailable(_)
                                            | tessera_std::store::StoreError::Timeout
                                    ),
                                    "key {k}: {e}"
                                );
                                tally.lock().unwrap().1 += 1;
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }));
        }
    }
    for t in join_all(tasks).await {
        t.unwrap();
    }
    let runs = runs.lock().unwrap().clone();
    let (abandoned, outages) = &*tally.lock().unwrap();
    Workload {
        runs,
        abandoned: abandoned.len(),
        outages: *outages,
    }
}
