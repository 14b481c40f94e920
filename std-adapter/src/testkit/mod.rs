//! Test support: real `redis-server` processes and Redis Clusters on free
//! loopback ports, started by the test and stopped by PID when dropped.
//!
//! Nothing here mocks Redis: every helper runs the `redis-server` and
//! `redis-cli` binaries found on `PATH`, bound to `127.0.0.1`, with persistence
//! off and a private working directory that is removed on drop.
//!
//! ```no_run
//! use tessera_std::testkit::{RedisCluster, RedisServer};
//!
//! let server = RedisServer::start().expect("redis-server");
//! let url = server.url(); // "redis://127.0.0.1:<port>/"
//!
//! let cluster = RedisCluster::start(3).expect("cluster");
//! let seeds = cluster.urls(); // one URL per master
//! # drop((url, seeds));
//! ```
//!
//! Fault injection for store tests: [`RedisServer::kill`], [`RedisServer::restart`],
//! [`RedisServer::pause`] / [`RedisServer::resume`] (SIGSTOP / SIGCONT, so calls
//! hang instead of failing fast), and [`RedisServer::cli`] for admin commands
//! (`SCRIPT FLUSH`, `CONFIG SET maxmemory ...`).

#[cfg(feature = "redis")]
mod baseline;
mod cluster;
mod server;

pub mod conformance;

#[cfg(feature = "redis")]
pub use baseline::set_nx_baseline;
pub use cluster::RedisCluster;
pub use server::RedisServer;

use std::{
    collections::BTreeSet,
    io,
    net::TcpListener,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

/// A loopback port that was free a moment ago (bind to port 0, then release)
/// and was never handed out before in this process, so a test that kills a
/// server cannot see its port taken over by another test's server.
fn free_port() -> io::Result<u16> {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        if HANDED_OUT
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(port)
        {
            return Ok(port);
        }
    }
}

/// Polls `ready` every 25 ms until it holds or `limit` passes.
fn wait_until(limit: Duration, mut ready: impl FnMut() -> io::Result<bool>) -> io::Result<()> {
    let end = Instant::now() + limit;
    loop {
        if ready()? {
            return Ok(());
        }
        if Instant::now() >= end {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "redis did not become ready",
            ));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}
