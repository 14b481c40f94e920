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
    conformance_suite_with(None, connect).await;
}

/// [`conformance_suite`], with a per-scope quota of `quota` (large enough
/// for every case) when set: every claim then runs the script.
pub async fn conformance_suite_with<F, Fut>(quota: Option<u32>, connect: F)
where
    F: Fn(RedisConfig) -> Fut,
    Fut: std::future::Future<Output = RedisStore>,
{
    let mut stores = Vec::new();
    for case in CASES {
        let config = match quota {
            Some(max) => quota_config(case.name, max),
            None => config(case.name),
        };
        stores.push(connect(config).await);
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

/// Key `k`'s scope in [`workload`]: one per key, so a scope's slot (all its
/// records share one) does not gather the whole workload on one node.
pub fn workload_scope(k: usize) -> Vec<u8> {
    format!("load-scope-{k}").into_bytes()
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
                            .begin(&request(&workload_scope(k), key.as_bytes(), now_ms()))
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

/// [`config`] with a quota of `max` live records per scope.
pub fn quota_config(secret: &str, max: u32) -> RedisConfig {
    let mut c = config(secret);
    c.store.max_keys_per_scope = std::num::NonZeroU32::new(max);
    c
}

/// Claims `key` of `scope` now; the answer's name and the ticket if fresh.
async fn claim(
    store: &RedisStore,
    scope: &[u8],
    key: &str,
) -> (&'static str, Option<tessera_std::store::redis::RedisTicket>) {
    match store
        .begin(&request(scope, key.as_bytes(), now_ms()))
        .await
        .unwrap()
    {
        Begin::Fresh(t) => ("fresh", Some(t)),
        other => (other.name(), None),
    }
}

/// One scope floods a store with a quota of `max` (lease 500 ms, TTL 2 s):
/// `max` new keys run (completed, in flight, one abandoned), the next is
/// `Quota` without a record, while another scope claims, completes and
/// replays and the flood's own keys still answer as before. `retry_after`
/// names the earliest end; once the records have expired the scope claims
/// again.
pub async fn quota_flood(store: &RedisStore, max: u32) {
    let max = usize::try_from(max).unwrap();
    let mut running = Vec::new();
    for i in 0..max {
        let (name, ticket) = claim(store, b"flood", &format!("f{i}")).await;
        assert_eq!(name, "fresh", "key {i} of {max}");
        let ticket = ticket.unwrap();
        if i % 2 == 0 {
            store
                .complete(ticket, conformance::response(1))
                .await
                .unwrap();
        } else {
            running.push(ticket);
        }
    }
    for extra in 0..3 {
        let key = format!("over{extra}");
        assert_eq!(claim(store, b"flood", &key).await.0, "quota");
        // Still `quota`, not `in_flight`: no record was written.
        assert_eq!(claim(store, b"flood", &key).await.0, "quota");
    }
    let wait = store
        .retry_after(&request(b"flood", b"over0", now_ms()))
        .await
        .unwrap()
        .expect("a scope at its quota has a retry time");
    assert!(wait <= Duration::from_millis(2_500), "{wait:?}");
    assert_eq!(
        store
            .retry_after(&request(b"calm", b"x", now_ms()))
            .await
            .unwrap(),
        None
    );
    // Existing keys of the flooding scope answer as without a quota.
    assert_eq!(claim(store, b"flood", "f0").await.0, "replay");
    assert_eq!(claim(store, b"flood", "f1").await.0, "in_flight");
    // Another scope is unaffected: its own `max` new keys run, completed
    // ones replay.
    for i in 0..max {
        let key = format!("c{i}");
        let (name, ticket) = claim(store, b"calm", &key).await;
        assert_eq!(name, "fresh", "calm key {i}");
        store
            .complete(ticket.unwrap(), conformance::response(2))
            .await
            .unwrap();
        let again = request(b"calm", key.as_bytes(), now_ms());
        let again = store.begin(&again).await.unwrap();
        assert_eq!(conformance::byte(&replay(again)), Some(2));
    }
    // Complete all but one running claim: that one ends up abandoned, and
    // still counts until its record ends (lease + TTL).
    let abandoned = running.pop().unwrap();
    for t in running {
        store.complete(t, conformance::response(1)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(claim(store, b"flood", "over0").await.0, "quota");
    drop(abandoned);
    // Every record ends within lease + TTL = 2.5 s of its claim.
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let (name, _) = claim(store, b"flood", "after").await;
    assert_eq!(name, "fresh");
}

/// Records that ended stop counting while the scope's newer ones live: one
/// record completed early, `max - 1` later; once the first ends (TTL 2 s) a
/// new key runs, and the next is `Quota` again.
pub async fn quota_expiry(store: &RedisStore, max: u32) {
    let (name, t) = claim(store, b"stagger", "first").await;
    assert_eq!(name, "fresh");
    store
        .complete(t.unwrap(), conformance::response(1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    for i in 1..max {
        let (name, t) = claim(store, b"stagger", &format!("s{i}")).await;
        assert_eq!(name, "fresh");
        store
            .complete(t.unwrap(), conformance::response(1))
            .await
            .unwrap();
    }
    assert_eq!(claim(store, b"stagger", "late").await.0, "quota");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(claim(store, b"stagger", "late").await.0, "fresh");
    assert_eq!(claim(store, b"stagger", "later").await.0, "quota");
}

/// An abort frees its slot at once; a complete does not.
pub async fn quota_abort(store: &RedisStore, max: u32) {
    let mut tickets = Vec::new();
    for i in 0..max {
        let (name, t) = claim(store, b"aborts", &format!("a{i}")).await;
        assert_eq!(name, "fresh");
        tickets.push(t.unwrap());
    }
    assert_eq!(claim(store, b"aborts", "next").await.0, "quota");
    store
        .complete(tickets.pop().unwrap(), conformance::response(3))
        .await
        .unwrap();
    assert_eq!(claim(store, b"aborts", "next").await.0, "quota");
    store.abort(tickets.pop().unwrap()).await.unwrap();
    let (name, t) = claim(store, b"aborts", "next").await;
    assert_eq!(name, "fresh");
    assert_eq!(claim(store, b"aborts", "next2").await.0, "quota");
    store.abort(t.unwrap()).await.unwrap();
}

/// 96 tasks on two clients claim distinct keys of one scope at once:
/// exactly `max` run, every other answer is `Quota`.
pub async fn quota_race(a: RedisStore, b: RedisStore, max: u32) {
    let clients = [Arc::new(a), Arc::new(b)];
    let tasks = (0..96).map(|i| {
        let store = clients[i % 2].clone();
        tokio::spawn(async move { claim(&store, b"racer", &format!("r{i}")).await.0 })
    });
    let answers: Vec<_> = join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let fresh = answers.iter().filter(|a| **a == "fresh").count();
    assert_eq!(fresh, usize::try_from(max).unwrap(), "{answers:?}");
    assert!(
        answers.iter().all(|a| ["fresh", "quota"].contains(a)),
        "{answers:?}"
    );
}

fn replay(
    b: Begin<tessera_std::store::StoredResponse, tessera_std::store::redis::RedisTicket>,
) -> tessera_std::store::StoredResponse {
    match b {
        Begin::Replay(r) => r,
        other => panic!("expected replay, got {}", other.name()),
    }
}
