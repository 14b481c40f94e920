//! Faults on a real `redis-server`: killed mid-request, restarted, paused.
//! The store must fail closed (an error, never `Fresh`) while Redis cannot
//! answer, and work again without a restart once it can.

mod store_common;

use std::time::{Duration, Instant};

use store_common::*;
use tessera_std::{
    store::{
        redis::{RedisConfig, RedisStore, RedisTicket},
        Begin, IdempotencyStore, StoreError, StoredResponse,
    },
    testkit::{conformance, RedisServer},
};

/// Fast failure detection, and a lease long enough to outlive the test.
fn fault_config(name: &str) -> RedisConfig {
    let mut c = RedisConfig::new(name.as_bytes().to_vec());
    c.timeout = Duration::from_millis(300);
    c.store.lease = Duration::from_secs(60);
    c
}

/// Retries `begin` until Redis answers again (at most 15 s).
async fn until_answered(store: &RedisStore, key: &[u8]) -> Begin<StoredResponse, RedisTicket> {
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        match store.begin(&request(b"alice", key, now_ms())).await {
            Ok(b) => return b,
            Err(e) => assert!(Instant::now() < end, "store did not recover: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn is_outage(e: &StoreError) -> bool {
    matches!(e, StoreError::Unavailable(_) | StoreError::Timeout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_request_fails_closed_then_recovers_after_restart() {
    let mut server = RedisServer::start().unwrap();
    let owner = RedisStore::connect(&server.url(), fault_config("kill"))
        .await
        .unwrap();
    let other = RedisStore::connect(&server.url(), fault_config("kill"))
        .await
        .unwrap();
    let req = request(b"alice", b"k", now_ms());
    let Begin::Fresh(ticket) = owner.begin(&req).await.unwrap() else {
        panic!("not fresh")
    };

    server.kill().unwrap();

    // The handler finishes while Redis is gone: its complete fails cleanly.
    let res = owner.complete(ticket, conformance::response(1)).await;
    assert!(res.as_ref().is_err_and(is_outage), "{res:?}");
    // Nobody is told to run the key again while its state is unknown.
    for store in [&owner, &other, &owner, &other] {
        let res = store.begin(&req).await;
        assert!(
            res.as_ref().is_err_and(is_outage),
            "{:?}",
            res.map(|b| b.name())
        );
    }

    // Redis is back (empty: no persistence, see STORES.md): both clients
    // work again without being rebuilt.
    server.restart().unwrap();
    for (store, key) in [(&owner, &b"after-1"[..]), (&other, b"after-2")] {
        let Begin::Fresh(t) = until_answered(store, key).await else {
            panic!("not fresh")
        };
        store.complete(t, conformance::response(2)).await.unwrap();
        let again = store
            .begin(&request(b"alice", key, now_ms()))
            .await
            .unwrap();
        assert_eq!(again.name(), "replay");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unresponsive_redis_times_out_then_recovers() {
    let server = RedisServer::start().unwrap();
    let store = RedisStore::connect(&server.url(), fault_config("pause"))
        .await
        .unwrap();
    let req = request(b"alice", b"k", now_ms());
    let Begin::Fresh(ticket) = store.begin(&req).await.unwrap() else {
        panic!("not fresh")
    };

    server.pause().unwrap();
    let started = Instant::now();
    assert_eq!(
        store
            .begin(&request(b"alice", b"other", now_ms()))
            .await
            .err(),
        Some(StoreError::Timeout)
    );
    assert_eq!(store.begin(&req).await.err(), Some(StoreError::Timeout));
    // Each call gave up after its attempts (2 x 300 ms), not whenever Redis woke.
    assert!(started.elapsed() < Duration::from_secs(10));

    // A complete is not given up while the lease lasts: it lands once Redis
    // answers again, so the response is not lost to a short outage.
    let completing = {
        let store = store.clone();
        tokio::spawn(async move { store.complete(ticket, conformance::response(3)).await })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !completing.is_finished(),
        "complete gave up during the outage"
    );
    server.resume().unwrap();
    assert_eq!(completing.await.unwrap(), Ok(()));
    let b = until_answered(&store, b"k").await;
    assert_eq!(b.name(), "replay");
    let Begin::Fresh(t) = until_answered(&store, b"fresh-after-pause").await else {
        panic!("not fresh")
    };
    store.complete(t, conformance::response(4)).await.unwrap();
}

/// A complete that cannot land before the lease ends gives up, and the
/// record answers `Abandoned`: never a second `Fresh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_that_cannot_land_leaves_the_record_abandoned() {
    let server = RedisServer::start().unwrap();
    let mut config = fault_config("outlived");
    config.store.lease = Duration::from_secs(2);
    let store = RedisStore::connect(&server.url(), config).await.unwrap();
    let req = request(b"alice", b"k", now_ms());
    let Begin::Fresh(ticket) = store.begin(&req).await.unwrap() else {
        panic!("not fresh")
    };
    server.pause().unwrap();
    let started = Instant::now();
    assert!(store
        .complete(ticket, conformance::response(3))
        .await
        .is_err_and(|e| is_outage(&e)));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "gave up by the lease end"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.resume().unwrap();
    assert_eq!(until_answered(&store, b"k").await.name(), "abandoned");
}

#[tokio::test]
async fn unreachable_redis_at_startup_is_a_typed_error() {
    let mut server = RedisServer::start().unwrap();
    let url = server.url();
    server.kill().unwrap();
    let res = RedisStore::connect(&url, fault_config("startup")).await;
    assert!(res.as_ref().err().is_some_and(is_outage), "{:?}", res.err());
}

/// An outage longer than the connection's own reconnect backoff: the store
/// keeps failing closed, and still reconnects once Redis is back.
#[tokio::test]
async fn store_recovers_after_a_long_outage() {
    let mut server = RedisServer::start().unwrap();
    let store = RedisStore::connect(&server.url(), fault_config("long"))
        .await
        .unwrap();
    server.kill().unwrap();
    let down = Instant::now();
    while down.elapsed() < Duration::from_secs(10) {
        let res = store.begin(&request(b"alice", b"k", now_ms())).await;
        assert!(
            res.as_ref().is_err_and(is_outage),
            "{:?}",
            res.map(|b| b.name())
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    server.restart().unwrap();
    assert_eq!(until_answered(&store, b"k").await.name(), "fresh");
}

/// Mid-workload, `SCRIPT FLUSH` and `FUNCTION FLUSH`, then a SIGKILL and a
/// restart on the same AOF (`appendfsync always`): every key runs exactly
/// once, every caller ends with its replay (completes pending during the
/// restart land once Redis is back), and the restarted server has the
/// functions from its AOF without being sent them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_survives_flushes_and_a_restart_on_aof() {
    let mut server =
        RedisServer::start_with(&["--appendonly", "yes", "--appendfsync", "always"]).unwrap();
    let mut config = fault_config("aof");
    config.store.lease = Duration::from_secs(10);
    let mut stores = Vec::new();
    for _ in 0..2 {
        stores.push(
            RedisStore::connect(&server.url(), config.clone())
                .await
                .unwrap(),
        );
    }
    let load = tokio::spawn(async move { workload(&stores, 3, 300).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    for flush in [["SCRIPT", "FLUSH"], ["FUNCTION", "FLUSH"]] {
        assert_eq!(server.cli(&flush).unwrap(), "OK");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!load.is_finished(), "the workload ended before the restart");
    server.restart().unwrap();
    let report = load.await.unwrap();
    eprintln!("{} retriable errors", report.outages);
    assert!(report.runs.iter().all(|&r| r == 1), "{:?}", report.runs);
    assert_eq!(report.abandoned, 0);
    let stats = server.cli(&["INFO", "commandstats"]).unwrap();
    assert!(stats.contains("cmdstat_fcall:"), "{stats}");
    assert!(!stats.contains("function|load"), "{stats}");
}

/// Waits until `node`'s `INFO replication` shows `line` (at most 10 s).
async fn until_replication(node: &RedisServer, line: &str) {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let info = node.cli(&["INFO", "replication"]).unwrap_or_default();
        if info.lines().any(|l| l.trim() == line) {
            return;
        }
        assert!(Instant::now() < end, "{}: no {line} in {info}", node.port());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A primary and its replica, both started here. Under a workload on the
/// primary, `FAILOVER` promotes the replica (the primary pauses writes until
/// the replica has them all, then turns replica itself) and the callers are
/// pointed at the new primary, as a Sentinel-aware deployment would be. No
/// key runs twice, callers see only retriable errors (`Unavailable`,
/// `Timeout`), every record completed before the promotion replays from the
/// new primary, and only claims whose `complete` straddled the switch (at most
/// one per caller) are left abandoned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_survives_promoting_a_replica() {
    use std::sync::{Arc, Mutex};
    let primary = RedisServer::start().unwrap();
    let port = primary.port().to_string();
    let replica = RedisServer::start_with(&["--replicaof", "127.0.0.1", &port]).unwrap();
    until_replication(&replica, "master_link_status:up").await;
    let mut config = fault_config("promote");
    config.store.lease = Duration::from_secs(3);
    let first = RedisStore::connect(&primary.url(), config.clone())
        .await
        .unwrap();
    let before: Vec<String> = (0..50).map(|i| format!("before-{i}")).collect();
    for key in &before {
        let Begin::Fresh(t) = first
            .begin(&request(b"p", key.as_bytes(), now_ms()))
            .await
            .unwrap()
        else {
            panic!("not fresh")
        };
        first.complete(t, conformance::response(9)).await.unwrap();
    }

    let current = Arc::new(Mutex::new(first));
    let (workers, keys) = (6usize, 200usize);
    let runs = Arc::new(Mutex::new(vec![0usize; keys]));
    let tally = Arc::new(Mutex::new((0usize, 0usize))); // (abandoned, outages)
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let (current, runs, tally) = (current.clone(), runs.clone(), tally.clone());
            tokio::spawn(async move {
                let end = Instant::now() + Duration::from_secs(30);
                for i in 0..keys {
                    let k = (i + w * 31) % keys;
                    let key = format!("load-{k}");
                    let v = u8::try_from(k % 200).unwrap();
                    loop {
                        assert!(Instant::now() < end, "key {k} never settled");
                        let store = current.lock().unwrap().clone();
                        match store.begin(&request(b"p", key.as_bytes(), now_ms())).await {
                            Ok(Begin::Fresh(t)) => {
                                runs.lock().unwrap()[k] += 1;
                                if let Err(e) = store.complete(t, conformance::response(v)).await {
                                    assert!(is_outage(&e), "key {k}: {e}");
                                    tally.lock().unwrap().1 += 1;
                                }
                            }
                            Ok(Begin::Replay(r)) => {
                                assert_eq!(conformance::byte(&r), Some(v), "key {k}");
                                break;
                            }
                            Ok(Begin::Abandoned) => {
                                tally.lock().unwrap().0 += 1;
                                break;
                            }
                            Ok(Begin::InFlight) => {}
                            Ok(other) => panic!("key {k}: {}", other.name()),
                            Err(e) => {
                                assert!(is_outage(&e), "key {k}: {e}");
                                tally.lock().unwrap().1 += 1;
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    tokio::time::sleep(Duration::from_millis(3)).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(primary.cli(&["FAILOVER", "TIMEOUT", "5000"]).unwrap(), "OK");
    until_replication(&replica, "role:master").await;
    until_replication(&primary, "role:slave").await;
    let promoted = RedisStore::connect(&replica.url(), config).await.unwrap();
    *current.lock().unwrap() = promoted.clone();
    for t in futures_util::future::join_all(tasks).await {
        t.unwrap();
    }
    let runs = runs.lock().unwrap().clone();
    let (abandoned, outages) = *tally.lock().unwrap();
    eprintln!("{outages} retriable errors, {abandoned} keys abandoned at the switch");
    assert!(runs.iter().all(|&r| r <= 1), "{runs:?}");
    let keys_run = runs.iter().filter(|&&r| r == 1).count();
    assert!(keys_run >= keys - workers, "{keys_run} of {keys} ran");
    // Each caller counts each abandoned key it met; at most one per caller
    // was cut off at the switch.
    assert!(abandoned <= workers * workers, "{abandoned}");
    for key in &before {
        let b = promoted
            .begin(&request(b"p", key.as_bytes(), now_ms()))
            .await;
        match b.unwrap() {
            Begin::Replay(r) => assert_eq!(conformance::byte(&r), Some(9), "{key}"),
            other => panic!("{key}: {}", other.name()),
        }
    }
}
