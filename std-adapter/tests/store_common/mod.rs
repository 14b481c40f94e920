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
