//! The testkit starts real servers and clusters and stops them by PID.

use tessera_std::testkit::{RedisCluster, RedisServer};

#[test]
fn server_starts_restarts_and_stops_by_pid() {
    let mut server = RedisServer::start().unwrap();
    assert_eq!(server.cli(&["SET", "k", "v"]).unwrap(), "OK");
    let pid = server.pid().unwrap();
    server.restart().unwrap();
    assert_ne!(server.pid().unwrap(), pid);
    // Started without persistence: a restart forgets everything.
    assert_eq!(server.cli(&["EXISTS", "k"]).unwrap(), "0");
    let port = server.port();
    drop(server);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still open"
    );
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}

#[test]
fn cluster_of_three_masters_serves_every_slot() {
    let mut cluster = RedisCluster::start(3).unwrap();
    assert_eq!(cluster.urls().len(), 3);
    let node = &cluster.nodes()[0];
    let info = node.cli(&["CLUSTER", "INFO"]).unwrap();
    assert!(info.contains("cluster_state:ok"), "{info}");
    assert!(info.contains("cluster_slots_assigned:16384"), "{info}");
    assert!(info.contains("cluster_known_nodes:3"), "{info}");
}
