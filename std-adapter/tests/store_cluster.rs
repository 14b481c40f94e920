//! The Redis store on a real three-master Redis Cluster started by the test.

mod store_common;

use std::collections::HashSet;

use store_common::*;
use tessera_std::{
    store::{
        redis::{RedisConfig, RedisStore},
        Begin, IdempotencyStore,
    },
    testkit::{conformance, RedisCluster},
};

async fn connect(cluster: &RedisCluster, config: RedisConfig) -> RedisStore {
    let urls = cluster.urls();
    let seeds: Vec<&str> = urls.iter().map(String::as_str).collect();
    RedisStore::connect_cluster(&seeds, config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_passes_on_a_cluster() {
    let cluster = RedisCluster::start(3).unwrap();
    conformance_suite(|c| connect(&cluster, c)).await;
}

/// The quota on a Cluster: one scope's records and its set share a slot,
/// so the claim script counts atomically; other scopes land elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_holds_on_a_cluster() {
    let cluster = RedisCluster::start(3).unwrap();
    conformance_suite_with(Some(100), |c| connect(&cluster, c)).await;
    quota_flood(&connect(&cluster, quota_config("flood", 8)).await, 8).await;
    quota_abort(&connect(&cluster, quota_config("abort", 4)).await, 4).await;
    quota_expiry(&connect(&cluster, quota_config("expiry", 5)).await, 5).await;
    let a = connect(&cluster, quota_config("race", 10)).await;
    let b = connect(&cluster, quota_config("race", 10)).await;
    quota_race(a, b, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_claims_on_two_cluster_clients_get_one_fresh() {
    let cluster = RedisCluster::start(3).unwrap();
    for key in [&b"k1"[..], b"k2", b"k3", b"k4", b"k5"] {
        let a = connect(&cluster, config("race")).await;
        let b = connect(&cluster, config("race")).await;
        assert_exactly_once(&race(a, b, key).await);
    }
}

/// Records of many scopes spread over every master (a scope's records share
/// its slot), and the functions library reloads on whichever node lost it.
#[tokio::test]
async fn records_spread_over_all_masters_and_functions_reload_everywhere() {
    let mut cluster = RedisCluster::start(3).unwrap();
    let store = connect(&cluster, config("spread")).await;
    let stamp = now_ms();
    let keys: Vec<(String, String)> = (0..32)
        .map(|i| (format!("user-{}", i % 16), format!("key-{i}")))
        .collect();
    for (scope, key) in &keys {
        let req = request(scope.as_bytes(), key.as_bytes(), stamp);
        let Begin::Fresh(t) = store.begin(&req).await.unwrap() else {
            panic!("not fresh")
        };
        store.complete(t, conformance::response(5)).await.unwrap();
    }
    let mut holders = HashSet::new();
    for node in cluster.nodes().iter() {
        let count: usize = node.cli(&["DBSIZE"]).unwrap().parse().unwrap();
        if count > 0 {
            holders.insert(node.port());
        }
        for flush in [["SCRIPT", "FLUSH"], ["FUNCTION", "FLUSH"]] {
            assert_eq!(node.cli(&flush).unwrap(), "OK");
        }
        assert_eq!(node.cli(&["FUNCTION", "LIST"]).unwrap(), "");
    }
    assert_eq!(holders.len(), 3, "32 records all on {holders:?}");
    for (scope, key) in &keys {
        let req = request(scope.as_bytes(), key.as_bytes(), stamp);
        let Begin::Replay(r) = store.begin(&req).await.unwrap() else {
            panic!("not replayed")
        };
        assert_eq!(conformance::byte(&r), Some(5));
        // A replay is one `SET … NX GET`; completing runs the functions.
        let req = request(scope.as_bytes(), key.as_bytes(), stamp);
        let req = tessera_std::store::Request {
            key: &[key.as_bytes(), b"-again"].concat(),
            ..req
        };
        let Begin::Fresh(t) = store.begin(&req).await.unwrap() else {
            panic!("not fresh")
        };
        store.complete(t, conformance::response(6)).await.unwrap();
    }
    for node in cluster.nodes().iter() {
        let libs = node.cli(&["FUNCTION", "LIST"]).unwrap();
        assert!(libs.contains("tessera_"), "{}: {libs}", node.port());
    }
}

/// A master dies: keys in its slots get errors, never `Fresh`.
#[tokio::test]
async fn keys_on_a_dead_master_fail_closed() {
    let mut cluster = RedisCluster::start(3).unwrap();
    // Calls to the dead node time out, so the lease must outlast them all.
    let mut cfg = config("dead-master");
    cfg.store.lease = std::time::Duration::from_secs(60);
    let store = connect(&cluster, cfg).await;
    let stamp = now_ms();
    let keys: Vec<String> = (0..16).map(|i| format!("key-{i}")).collect();
    for key in &keys {
        let req = request(b"alice", key.as_bytes(), stamp);
        assert_eq!(store.begin(&req).await.unwrap().name(), "fresh");
    }
    let victim = &mut cluster.nodes()[0];
    let on_victim: usize = victim.cli(&["DBSIZE"]).unwrap().parse().unwrap();
    assert!(on_victim > 0);
    victim.kill().unwrap();
    let mut errors = 0;
    for key in &keys {
        let req = request(b"alice", key.as_bytes(), stamp);
        match store.begin(&req).await {
            Ok(b) => assert_eq!(b.name(), "in_flight", "{key}"),
            Err(_) => errors += 1,
        }
    }
    assert!(
        errors >= on_victim,
        "{errors} errors, {on_victim} records were on the dead master"
    );
}

/// 1000 slots move between masters (`redis-cli --cluster reshard`, keys
/// migrated)
/// under a workload on two clients: every key runs exactly once and every
/// caller ends with its replay, wherever the record now lives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_survives_a_slot_migration() {
    let mut cluster = RedisCluster::start(3).unwrap();
    let mut cfg = config("reshard");
    cfg.store.lease = std::time::Duration::from_secs(10);
    cfg.store.ttl = std::time::Duration::from_secs(60);
    let stores = vec![
        connect(&cluster, cfg.clone()).await,
        connect(&cluster, cfg).await,
    ];
    let load = tokio::spawn(async move { workload(&stores, 3, 300).await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let before = cluster.nodes()[0].cli(&["DBSIZE"]).unwrap();
    assert!(
        !load.is_finished(),
        "the workload ended before the migration began"
    );
    let mut cluster = tokio::task::spawn_blocking(move || {
        cluster.reshard(0, 1, 1000).unwrap();
        cluster
    })
    .await
    .unwrap();
    let after = cluster.nodes()[0].cli(&["DBSIZE"]).unwrap();
    let report = load.await.unwrap();
    // `reshard` moves node 0's lowest slots (0..1000): some of the
    // workload's records must be among them, now on node 1.
    let namer = connect(&cluster, config("reshard")).await;
    let mut moved = 0;
    for k in 0..300 {
        let name = namer.record_key(&workload_scope(k), format!("load-{k}").as_bytes());
        let slot: u16 = cluster.nodes()[1]
            .cli(&["CLUSTER", "KEYSLOT", &name])
            .unwrap()
            .parse()
            .unwrap();
        if slot < 1000 {
            moved += 1;
            assert_eq!(cluster.nodes()[1].cli(&["EXISTS", &name]).unwrap(), "1");
        }
    }
    eprintln!(
        "{} retriable errors; node 0 held {before} records before the move, {after} after; \
         {moved} records in moved slots",
        report.outages
    );
    assert!(
        moved > 0,
        "the migration moved none of the workload's records"
    );
    assert!(report.runs.iter().all(|&r| r == 1), "{:?}", report.runs);
    assert_eq!(report.abandoned, 0);
}

/// A replica is promoted (`CLUSTER FAILOVER`) under a workload on two
/// clients: every key runs exactly once, every caller ends with its replay,
/// and the new master runs the functions it got by replication.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_survives_a_replica_promotion() {
    let cluster = RedisCluster::start_with_replicas(3, 1).unwrap();
    let replica = (0..6)
        .find(|&i| cluster.is_replica(i).unwrap())
        .expect("a replica");
    let mut cfg = config("failover");
    cfg.store.lease = std::time::Duration::from_secs(10);
    cfg.store.ttl = std::time::Duration::from_secs(60);
    let stores = vec![
        connect(&cluster, cfg.clone()).await,
        connect(&cluster, cfg).await,
    ];
    let load = tokio::spawn(async move { workload(&stores, 3, 300).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    tokio::task::block_in_place(|| cluster.failover(replica)).unwrap();
    assert!(
        !load.is_finished(),
        "the workload ended before the failover"
    );
    let report = load.await.unwrap();
    eprintln!("{} retriable errors", report.outages);
    assert!(report.runs.iter().all(|&r| r == 1), "{:?}", report.runs);
    assert_eq!(report.abandoned, 0);
    assert!(!cluster.is_replica(replica).unwrap());
}
