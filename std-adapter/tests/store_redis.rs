//! The Redis store against a real `redis-server` started by the test: the
//! conformance suite, exactly-once across two clients, script reloading,
//! memory limits, corrupt records and stale leases.

mod store_common;

use std::time::Duration;

use redis::AsyncCommands;
use store_common::*;
use tessera_std::{
    store::{
        redis::{RedisConfig, RedisStore},
        Begin, IdempotencyStore, StoreError, StoredResponse, TicketError,
    },
    testkit::{conformance, RedisServer},
};

async fn connect(server: &RedisServer, config: RedisConfig) -> RedisStore {
    RedisStore::connect(&server.url(), config).await.unwrap()
}

async fn raw(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(server.url()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_passes() {
    let server = RedisServer::start().unwrap();
    conformance_suite(|c| connect(&server, c)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_passes_with_a_quota() {
    let server = RedisServer::start().unwrap();
    conformance_suite_with(Some(100), |c| connect(&server, c)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_stops_one_scope_at_n_while_others_work() {
    let server = RedisServer::start().unwrap();
    quota_flood(&connect(&server, quota_config("flood", 8)).await, 8).await;
}

#[tokio::test]
async fn quota_counts_only_unexpired_records() {
    let server = RedisServer::start().unwrap();
    quota_expiry(&connect(&server, quota_config("expiry", 5)).await, 5).await;
}

#[tokio::test]
async fn quota_slot_is_freed_by_abort_at_once() {
    let server = RedisServer::start().unwrap();
    quota_abort(&connect(&server, quota_config("abort", 4)).await, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_of_one_scope_never_exceed_the_quota() {
    let server = RedisServer::start().unwrap();
    for max in [1, 10, 33] {
        let secret = format!("race-{max}");
        let a = connect(&server, quota_config(&secret, max)).await;
        let b = connect(&server, quota_config(&secret, max)).await;
        quota_race(a, b, max).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_claims_on_two_clients_get_one_fresh() {
    let server = RedisServer::start().unwrap();
    for key in [&b"k1"[..], b"k2", b"k3", b"k4", b"k5"] {
        let a = connect(&server, config("race")).await;
        let b = connect(&server, config("race")).await;
        assert_exactly_once(&race(a, b, key).await);
    }
}

#[tokio::test]
async fn stored_response_round_trips_status_headers_and_body() {
    let server = RedisServer::start().unwrap();
    let store = connect(&server, config("round-trip")).await;
    let req = request(b"alice", b"k", now_ms());
    let Begin::Fresh(t) = store.begin(&req).await.unwrap() else {
        panic!("not fresh")
    };
    let response = StoredResponse {
        status: 201,
        headers: vec![
            ("content-type".into(), b"application/json".to_vec()),
            ("etag".into(), vec![0, 255, b'"']),
        ],
        body: (0..=255).collect(),
    };
    store.complete(t, response.clone()).await.unwrap();
    assert_eq!(store.begin(&req).await.unwrap(), Begin::Replay(response));
}

/// The scripts run as a Functions library; `SCRIPT FLUSH` does not touch it,
/// and after `FUNCTION FLUSH` (or a restart that lost it) the next call loads
/// it again and runs, without an error reaching the caller.
#[tokio::test]
async fn functions_reload_after_script_and_function_flush() {
    let server = RedisServer::start().unwrap();
    let store = connect(&server, config("flush")).await;
    assert!(store.uses_functions(), "redis-server here is 7+");
    let req = request(b"alice", b"k", now_ms());
    let Begin::Fresh(t) = store.begin(&req).await.unwrap() else {
        panic!("not fresh")
    };
    for flush in [["SCRIPT", "FLUSH"], ["FUNCTION", "FLUSH"]] {
        assert_eq!(server.cli(&flush).unwrap(), "OK");
    }
    assert_eq!(server.cli(&["FUNCTION", "LIST"]).unwrap(), "");
    assert_eq!(server.cli(&["CONFIG", "RESETSTAT"]).unwrap(), "OK");
    store.complete(t, conformance::response(4)).await.unwrap();
    assert_eq!(
        conformance::byte(&replay(store.begin(&req).await.unwrap())),
        Some(4)
    );
    let stats = server.cli(&["INFO", "commandstats"]).unwrap();
    // The complete met "Function not found" once, loaded the library, ran
    // again; the replay was one `SET … NX GET`.
    assert!(stats.contains("cmdstat_fcall:calls=2,"), "{stats}");
    // (The complete's own `SET` inside the function counts too.)
    assert!(stats.contains("cmdstat_set:calls=2,"), "{stats}");
    assert!(stats.contains("rejected_calls=0,failed_calls=1"), "{stats}");
    assert!(stats.contains("cmdstat_function|load:calls=1,"), "{stats}");
    assert!(!stats.contains("evalsha"), "{stats}");
}

/// The `EVALSHA` path (Redis < 7), taken here by an ACL user without the
/// `FUNCTION` permission: the conformance suite passes, and after
/// `SCRIPT FLUSH` each script meets `NOSCRIPT` once, is loaded, and runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evalsha_path_without_functions() {
    let server = RedisServer::start().unwrap();
    server
        .cli(&[
            "ACL",
            "SETUSER",
            "old",
            "on",
            ">pw",
            "~*",
            "&*",
            "+@all",
            "-function",
        ])
        .unwrap();
    let url = format!("redis://old:pw@127.0.0.1:{}/", server.port());
    let store = RedisStore::connect(&url, config("evalsha")).await.unwrap();
    assert!(!store.uses_functions());
    conformance_suite(|c| {
        let url = url.clone();
        async move { RedisStore::connect(&url, c).await.unwrap() }
    })
    .await;

    let req = request(b"alice", b"k", now_ms());
    let Begin::Fresh(t) = store.begin(&req).await.unwrap() else {
        panic!("not fresh")
    };
    assert_eq!(server.cli(&["SCRIPT", "FLUSH"]).unwrap(), "OK");
    assert_eq!(server.cli(&["CONFIG", "RESETSTAT"]).unwrap(), "OK");
    store.complete(t, conformance::response(4)).await.unwrap();
    assert_eq!(
        conformance::byte(&replay(store.begin(&req).await.unwrap())),
        Some(4)
    );
    let stats = server.cli(&["INFO", "commandstats"]).unwrap();
    // Each of the two scripts met NOSCRIPT once, was loaded, then ran by EVALSHA.
    assert!(stats.contains("cmdstat_evalsha:calls=4,"), "{stats}");
    assert!(stats.contains("rejected_calls=0,failed_calls=2"), "{stats}");
    assert!(stats.contains("cmdstat_script|load:calls=2,"), "{stats}");
    assert!(!stats.contains("fcall"), "{stats}");
}

#[tokio::test]
async fn full_redis_with_noeviction_answers_full_and_still_replays() {
    let server = RedisServer::start_with(&["--maxmemory-policy", "noeviction"]).unwrap();
    let store = connect(&server, config("oom")).await;
    let stamp = now_ms();
    let done = request(b"alice", b"done", stamp);
    let Begin::Fresh(t) = store.begin(&done).await.unwrap() else {
        panic!("not fresh")
    };
    store.complete(t, conformance::response(2)).await.unwrap();
    let running = request(b"alice", b"running", stamp);
    let Begin::Fresh(running_ticket) = store.begin(&running).await.unwrap() else {
        panic!("not fresh")
    };

    let mut con = raw(&server).await;
    // Hold 4 MB, then cap memory at 1 MB: every write is refused from now on.
    for i in 0..16 {
        let _: () = con
            .set(format!("filler-{i}"), vec![b'x'; 256 << 10])
            .await
            .unwrap();
    }
    assert_eq!(
        server.cli(&["CONFIG", "SET", "maxmemory", "1mb"]).unwrap(),
        "OK"
    );

    assert_eq!(
        store
            .begin(&request(b"alice", b"new", stamp))
            .await
            .unwrap(),
        Begin::Full
    );
    assert_eq!(
        conformance::byte(&replay(store.begin(&done).await.unwrap())),
        Some(2)
    );
    assert_eq!(store.begin(&running).await.unwrap(), Begin::InFlight);
    let res = store
        .complete(running_ticket, conformance::response(3))
        .await;
    assert!(matches!(res, Err(StoreError::Unavailable(_))), "{res:?}");
}

/// Whatever else sits at a record's key (another type, garbage, a record
/// cut short or with broken headers) is `Corrupt`, on the fast path and in
/// the scripts alike: never `Fresh`, never a replay of garbage.
#[tokio::test]
async fn corrupt_records_are_errors_not_fresh() {
    let server = RedisServer::start().unwrap();
    let store = connect(&server, config("corrupt")).await;
    let mut quota_config = config("corrupt");
    quota_config.store.max_keys_per_scope = std::num::NonZeroU32::new(10);
    let scripted = connect(&server, quota_config).await;
    let mut con = raw(&server).await;
    let req = request(b"alice", b"k", now_ms());
    let mut done = vec![b'd'];
    done.extend_from_slice(&[1; 16]);
    done.extend_from_slice(&[2; 16]);
    let valid_head = done.clone();
    done.extend_from_slice(&[0, 200, 0, 0, 0, 9, b'x']);
    let mut running = vec![b'r'];
    running.extend_from_slice(&[1; 16]);
    running.extend_from_slice(&[2; 16]);
    running.extend_from_slice(b"1e3");
    for store in [&store, &scripted] {
        let key = store.record_key(b"alice", b"k");
        let _: () = con.del(&key).await.unwrap();
        let _: () = con.hset(&key, "st", "d").await.unwrap();
        assert_eq!(store.begin(&req).await.err(), Some(StoreError::Corrupt));
        for garbage in [&b"not a record"[..], &valid_head[..20], &done, &running] {
            let _: () = con.del(&key).await.unwrap();
            let _: () = con.set_ex(&key, garbage, 60).await.unwrap();
            assert_eq!(
                store.begin(&req).await.err(),
                Some(StoreError::Corrupt),
                "{garbage:?}"
            );
        }
    }
}

#[tokio::test]
async fn oversized_response_is_refused_before_any_write() {
    let server = RedisServer::start().unwrap();
    let mut cfg = config("too-large");
    cfg.store.max_response_bytes = 1000;
    let store = connect(&server, cfg).await;
    let req = request(b"alice", b"k", now_ms());
    let Begin::Fresh(t) = store.begin(&req).await.unwrap() else {
        panic!("not fresh")
    };
    let big = StoredResponse {
        status: 200,
        headers: vec![("a".into(), vec![0; 500])],
        body: vec![0; 498],
    };
    assert_eq!(big.stored_size(), 1001);
    assert_eq!(store.complete(t, big).await, Err(StoreError::TooLarge));
    assert_eq!(store.begin(&req).await.unwrap(), Begin::InFlight);
}

/// A handler outlives its lease: no other instance takes the key over, the
/// record answers `Abandoned` (outcome unknown) to everyone, and the late
/// owner's `complete` or `abort` is refused and changes nothing.
#[tokio::test]
async fn late_complete_or_abort_after_lease_expiry_is_refused() {
    let server = RedisServer::start().unwrap();
    let mut cfg = config("late");
    cfg.store.lease = Duration::from_millis(200);
    let first = connect(&server, cfg.clone()).await;
    let second = connect(&server, cfg).await;
    let req = request(b"alice", b"k", now_ms());
    let other = request(b"alice", b"k2", now_ms());

    let Begin::Fresh(stale) = first.begin(&req).await.unwrap() else {
        panic!("not fresh")
    };
    let Begin::Fresh(stale_abort) = first.begin(&other).await.unwrap() else {
        panic!("not fresh")
    };
    assert_eq!(second.begin(&req).await.unwrap(), Begin::InFlight);
    tokio::time::sleep(Duration::from_millis(400)).await;
    for r in [&req, &other] {
        assert_eq!(second.begin(r).await.unwrap(), Begin::Abandoned);
    }
    let late = first.complete(stale, conformance::response(6)).await;
    assert_eq!(late, Err(StoreError::Ticket(TicketError::LeaseExpired)));
    let late = first.abort(stale_abort).await;
    assert_eq!(late, Err(StoreError::Ticket(TicketError::LeaseExpired)));
    for r in [&req, &other] {
        assert_eq!(first.begin(r).await.unwrap(), Begin::Abandoned);
        assert_eq!(second.begin(r).await.unwrap(), Begin::Abandoned);
    }
}

fn replay(b: Begin<StoredResponse, tessera_std::store::redis::RedisTicket>) -> StoredResponse {
    match b {
        Begin::Replay(r) => r,
        other => panic!("expected replay, got {}", other.name()),
    }
}
