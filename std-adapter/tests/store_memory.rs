//! The in-memory store: the shared conformance suite on virtual time, plus
//! capacity, size and concurrency checks.

mod store_common;

use std::{sync::Arc, time::Duration};

use tessera_std::{
    store::{
        memory::MemoryStore, Begin, Fingerprint, IdempotencyStore, Request, StoreConfig,
        StoreError, StoredResponse, TicketError,
    },
    testkit::conformance::{self, ManualClock},
};

const TICK: Duration = Duration::from_millis(1);
const EPOCH_MS: u64 = 1_764_000_000_000;

fn request<'a>(scope: &'a [u8], key: &'a [u8], stamp: u64) -> Request<'a> {
    Request {
        scope,
        key,
        fingerprint: Fingerprint([1; 16]),
        stamp,
        keep_until: None,
    }
}

#[tokio::test]
async fn conformance_suite_passes_on_virtual_time() {
    let clock = ManualClock::at(EPOCH_MS);
    let config = conformance::store_config(TICK);
    let ran = conformance::run(
        || async { MemoryStore::with_clock(1, config, clock.clone()).unwrap() },
        &clock,
        TICK,
    )
    .await
    .unwrap();
    assert_eq!(ran, tessera_std::core::conformance::CASES.len());
}

#[test]
fn capacity_rounds_up_to_whole_shards() {
    let config = StoreConfig::default();
    assert_eq!(MemoryStore::new(0, config).unwrap().capacity(), 1024);
    assert_eq!(MemoryStore::new(1024, config).unwrap().capacity(), 1024);
    assert_eq!(MemoryStore::new(1025, config).unwrap().capacity(), 2048);
}

#[tokio::test]
async fn oversized_response_is_refused_and_the_key_stays_claimed() {
    let clock = ManualClock::at(EPOCH_MS);
    let config = StoreConfig {
        max_response_bytes: 100,
        ..StoreConfig::default()
    };
    let store = MemoryStore::with_clock(1, config, clock.clone()).unwrap();
    let req = request(b"alice", b"k", EPOCH_MS);
    let Begin::Fresh(ticket) = store.begin(&req).await.unwrap() else {
        panic!("not fresh")
    };
    let big = tessera_std::store::StoredResponse {
        status: 200,
        headers: vec![],
        body: vec![0; 99],
    };
    assert_eq!(big.stored_size(), 101);
    assert_eq!(store.complete(ticket, big).await, Err(StoreError::TooLarge));
    assert_eq!(store.begin(&req).await.unwrap().name(), "in_flight");
}

#[tokio::test]
async fn a_ticket_from_another_store_is_refused() {
    let clock = ManualClock::at(EPOCH_MS);
    let small = MemoryStore::with_clock(1, StoreConfig::default(), clock.clone()).unwrap();
    let large = MemoryStore::with_clock(64 * 1024, StoreConfig::default(), clock.clone()).unwrap();
    let mut foreign = None;
    for i in 0..64u32 {
        let key = i.to_le_bytes();
        if let Begin::Fresh(t) = large
            .begin(&request(b"alice", &key, EPOCH_MS))
            .await
            .unwrap()
        {
            foreign = Some(t);
        }
    }
    let ticket = foreign.unwrap();
    let res = small.complete(ticket, conformance::response(1)).await;
    assert_eq!(res, Err(StoreError::Ticket(TicketError::NotOwner)));
}

#[tokio::test]
async fn full_shard_answers_full_not_fresh() {
    let clock = ManualClock::at(EPOCH_MS);
    let store = MemoryStore::with_clock(1, StoreConfig::default(), clock.clone()).unwrap();
    let mut answers = Vec::new();
    // In-flight records are never evicted, so 2048 claims on 1024 slots must
    // run out of room without ever handing out a Fresh beyond capacity.
    for i in 0..2048u32 {
        let key = i.to_le_bytes();
        answers.push(
            store
                .begin(&request(b"alice", &key, EPOCH_MS))
                .await
                .unwrap()
                .name(),
        );
    }
    let fresh = answers.iter().filter(|a| **a == "fresh").count();
    let full = answers.iter().filter(|a| **a == "full").count();
    assert_eq!(fresh, store.live());
    assert!(fresh <= 1024);
    assert_eq!(fresh + full, 2048);
    assert!(full >= 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_claims_get_one_fresh() {
    let store = Arc::new(MemoryStore::new(4096, StoreConfig::default()).unwrap());
    let stamp = tessera_std::store::Clock::now_ms(&tessera_std::store::SystemClock);
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let req = request(b"alice", b"same", stamp);
            match store.begin(&req).await.unwrap() {
                Begin::Fresh(t) => {
                    tokio::task::yield_now().await;
                    store.complete(t, conformance::response(9)).await.unwrap();
                    "fresh"
                }
                other => other.name(),
            }
        }));
    }
    let mut names = Vec::new();
    for t in tasks {
        names.push(t.await.unwrap());
    }
    store_common::assert_exactly_once(&names);
}

/// The driver is not vacuous: a store whose lease is too long fails the
/// lease cases, at the step that expects the record abandoned.
#[tokio::test]
async fn conformance_driver_catches_a_wrong_lease() {
    let clock = ManualClock::at(EPOCH_MS);
    let config = StoreConfig {
        lease: Duration::from_millis(100),
        ..conformance::store_config(TICK)
    };
    let failure = conformance::run(
        || async { MemoryStore::with_clock(1, config, clock.clone()).unwrap() },
        &clock,
        TICK,
    )
    .await
    .unwrap_err();
    assert_eq!(
        failure.case,
        "abandoned_lease_is_an_unknown_outcome_until_the_ttl"
    );
    assert_eq!((failure.step, failure.got), (4, "in_flight"));
}

#[tokio::test]
async fn a_restart_floor_refuses_requests_stamped_before_the_restart() {
    let clock = ManualClock::at(EPOCH_MS);
    let store = MemoryStore::with_clock(1, StoreConfig::default(), clock.clone())
        .unwrap()
        .with_restart_floor(EPOCH_MS);
    // A retry of a request that may have run before the restart.
    let before = request(b"alice", b"k", EPOCH_MS - 5_000);
    assert!(matches!(store.begin(&before).await, Ok(Begin::Stale)));
    let at = request(b"alice", b"k", EPOCH_MS);
    assert!(matches!(store.begin(&at).await, Ok(Begin::Stale)));
    let after = request(b"alice", b"k", EPOCH_MS + 1);
    assert!(matches!(store.begin(&after).await, Ok(Begin::Fresh(_))));
}

#[test]
fn a_zero_lease_or_ttl_is_refused() {
    use tessera_std::core::window::WindowConfigError;
    for (config, why) in [
        (
            StoreConfig {
                lease: Duration::from_micros(500),
                ..StoreConfig::default()
            },
            WindowConfigError::ZeroLease,
        ),
        (
            StoreConfig {
                ttl: Duration::ZERO,
                ..StoreConfig::default()
            },
            WindowConfigError::ZeroTtl,
        ),
    ] {
        assert_eq!(
            MemoryStore::new(1, config).err(),
            Some(StoreError::Config(why))
        );
    }
}

fn quota_config(quota: u32) -> StoreConfig {
    StoreConfig {
        lease: Duration::from_secs(10),
        ttl: Duration::from_secs(60),
        max_keys_per_scope: std::num::NonZeroU32::new(quota),
        ..StoreConfig::default()
    }
}

async fn fresh(
    store: &MemoryStore<ManualClock>,
    req: &Request<'_>,
) -> tessera_std::store::memory::MemoryTicket {
    match store.begin(req).await.unwrap() {
        Begin::Fresh(t) => t,
        other => panic!("expected fresh, got {}", other.name()),
    }
}

#[tokio::test]
async fn a_scope_over_its_quota_gets_quota_and_others_are_unaffected() {
    let clock = ManualClock::at(EPOCH_MS);
    let store = MemoryStore::with_clock(1, quota_config(3), clock.clone()).unwrap();
    // Three live records: one completed, one in flight, one abandoned.
    let done = fresh(&store, &request(b"alice", b"k0", EPOCH_MS)).await;
    store
        .complete(done, conformance::response(1))
        .await
        .unwrap();
    let _running = fresh(&store, &request(b"alice", b"k1", EPOCH_MS)).await;
    let _lost = fresh(&store, &request(b"alice", b"k2", EPOCH_MS)).await;
    let over = request(b"alice", b"k3", EPOCH_MS);
    assert_eq!(store.begin(&over).await.unwrap().name(), "quota");
    // Refused keys take nothing: asked again, still over.
    assert_eq!(store.begin(&over).await.unwrap().name(), "quota");
    // Her own completed key still replays; her running one is still in flight.
    let replay = store
        .begin(&request(b"alice", b"k0", EPOCH_MS))
        .await
        .unwrap();
    assert_eq!(replay, Begin::Replay(conformance::response(1)));
    assert_eq!(
        store
            .begin(&request(b"alice", b"k1", EPOCH_MS))
            .await
            .unwrap()
            .name(),
        "in_flight"
    );
    // Bob is not affected.
    for k in [b"k0", b"k1", b"k3"] {
        let t = fresh(&store, &request(b"bob", k, EPOCH_MS)).await;
        store.complete(t, conformance::response(2)).await.unwrap();
    }
    // After the lease the abandoned claims still count (outcome unknown).
    clock.tick(Duration::from_secs(11));
    assert_eq!(store.begin(&over).await.unwrap().name(), "quota");
}

#[tokio::test]
async fn quota_retry_after_is_when_the_scopes_earliest_record_ends() {
    let clock = ManualClock::at(EPOCH_MS);
    let store = MemoryStore::with_clock(1, quota_config(2), clock.clone()).unwrap();
    let a = fresh(&store, &request(b"alice", b"a", EPOCH_MS)).await;
    clock.tick(Duration::from_secs(5));
    store.complete(a, conformance::response(1)).await.unwrap(); // ends at +65 s
    let _b = fresh(&store, &request(b"alice", b"b", EPOCH_MS)).await; // ends at +75 s
    let over = request(b"alice", b"c", EPOCH_MS);
    assert_eq!(store.begin(&over).await.unwrap().name(), "quota");
    // 60 s until `a` ends, plus the ledger's one-second grace.
    assert_eq!(
        store.retry_after(&over).await.unwrap(),
        Some(Duration::from_secs(61))
    );
    // A scope under its quota in a store with room is told nothing.
    assert_eq!(
        store
            .retry_after(&request(b"bob", b"c", EPOCH_MS))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn an_abort_frees_its_quota_at_once() {
    let clock = ManualClock::at(EPOCH_MS);
    let store = MemoryStore::with_clock(1, quota_config(1), clock.clone()).unwrap();
    let t = fresh(&store, &request(b"alice", b"a", EPOCH_MS)).await;
    let next = request(b"alice", b"b", EPOCH_MS);
    assert_eq!(store.begin(&next).await.unwrap().name(), "quota");
    store.abort(t).await.unwrap();
    let _ = fresh(&store, &next).await;
}

#[tokio::test]
async fn an_ended_record_stops_counting_and_a_live_one_never_does() {
    let clock = ManualClock::at(EPOCH_MS);
    let store = MemoryStore::with_clock(1, quota_config(1), clock.clone()).unwrap();
    let t = fresh(&store, &request(b"alice", b"a", EPOCH_MS)).await;
    store.complete(t, conformance::response(1)).await.unwrap();
    let next = request(b"alice", b"b", EPOCH_MS);
    // Up to the record's end and its grace, it counts.
    clock.tick(Duration::from_millis(60_999));
    assert_eq!(store.begin(&next).await.unwrap().name(), "quota");
    clock.tick(Duration::from_millis(1));
    let _ = fresh(&store, &next).await;
    // An abandoned claim counts until lease + TTL (and the grace).
    let later = request(b"alice", b"c", EPOCH_MS);
    clock.tick(Duration::from_millis(70_999));
    assert_eq!(store.begin(&later).await.unwrap().name(), "quota");
    clock.tick(Duration::from_millis(1));
    let _ = fresh(&store, &later).await;
}

#[tokio::test]
async fn the_byte_budget_answers_full_with_when_the_oldest_record_ends() {
    use tessera_std::store::memory::{HEADER_BYTES, RECORD_BYTES, WINDOW_BYTES};
    let clock = ManualClock::at(EPOCH_MS);
    let config = StoreConfig {
        max_response_bytes: 10_000,
        ..quota_config(1000)
    };
    // Room for the window, three claims in flight and 1000 bytes: not four.
    let reserve = RECORD_BYTES + 10_000 + 128 * HEADER_BYTES;
    let store = MemoryStore::bounded_with_clock(
        1,
        WINDOW_BYTES + 3 * reserve + 1000,
        config,
        clock.clone(),
    )
    .unwrap();
    let mut tickets = Vec::new();
    for k in [b"a", b"b", b"c"] {
        tickets.push(fresh(&store, &request(b"alice", k, EPOCH_MS)).await);
        clock.tick(Duration::from_secs(1));
    }
    let d = request(b"bob", b"d", EPOCH_MS);
    assert_eq!(store.begin(&d).await.unwrap().name(), "full");
    // The oldest claim ends at lease + TTL = 70 s after it began, 3 s ago.
    assert_eq!(
        store.retry_after(&d).await.unwrap(),
        Some(Duration::from_secs(68))
    );
    // A completed small response gives back the rest of its reservation.
    let small = StoredResponse {
        status: 201,
        headers: vec![],
        body: vec![7; 100],
    };
    store.complete(tickets.remove(0), small).await.unwrap();
    assert_eq!(store.charged_bytes(), 2 * reserve + RECORD_BYTES + 102);
    let _ = fresh(&store, &d).await;
}
