//! A Redis Cluster of masters only, built with `redis-cli --cluster create`.

use std::{io, time::Duration};

use super::{free_port, server::cli, wait_until, RedisServer};

/// How long the cluster may take to agree on its slots after `create`.
const CONVERGE_LIMIT: Duration = Duration::from_secs(20);

/// A Redis Cluster on loopback, each node killed by PID on drop.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts `masters` cluster-enabled servers (3 or more; Redis refuses fewer),
    /// assigns all 16384 slots with `redis-cli --cluster create --cluster-yes`,
    /// and waits until every node reports `cluster_state:ok`.
    pub fn start(masters: usize) -> io::Result<Self> {
        Self::start_with_replicas(masters, 0)
    }

    /// Like [`RedisCluster::start`], with `replicas` replicas per master, and
    /// also waits until every replica is in sync with its master.
    pub fn start_with_replicas(masters: usize, replicas: usize) -> io::Result<Self> {
        let total = masters.saturating_mul(replicas.saturating_add(1));
        let mut nodes = Vec::with_capacity(total);
        for _ in 0..total {
            // The bus port is chosen explicitly: the default (port + 10000)
            // may be above 65535 or taken.
            let bus = free_port()?.to_string();
            nodes.push(RedisServer::start_with(&[
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
                "--cluster-port",
                &bus,
            ])?);
        }
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let mut args = vec!["--cluster", "create"];
        args.extend(addrs.iter().map(String::as_str));
        let replicas = replicas.to_string();
        args.extend(["--cluster-replicas", &replicas, "--cluster-yes"]);
        let first = nodes
            .first()
            .ok_or_else(|| io::Error::other("a cluster needs nodes"))?;
        cli(first.port(), &args)?;
        let cluster = RedisCluster { nodes };
        wait_until(CONVERGE_LIMIT, || {
            Ok(cluster.nodes.iter().all(|n| {
                n.cli(&["CLUSTER", "INFO"])
                    .is_ok_and(|info| info.contains("cluster_state:ok"))
                    && n.cli(&["INFO", "replication"]).is_ok_and(|info| {
                        info.contains("role:master") || info.contains("master_link_status:up")
                    })
            }))
        })?;
        Ok(cluster)
    }

    /// `redis://127.0.0.1:<port>/` of every node, usable as cluster seeds.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The nodes, for fault injection on one of them.
    pub fn nodes(&mut self) -> &mut [RedisServer] {
        &mut self.nodes
    }

    /// Moves `slots` hash slots from master `from` to master `to` (indexes
    /// into [`RedisCluster::nodes`]) with `redis-cli --cluster reshard`, keys
    /// included (`MIGRATE`), while the cluster stays in service. Blocks until
    /// done.
    pub fn reshard(&self, from: usize, to: usize, slots: usize) -> io::Result<()> {
        let node = |i: usize| {
            self.nodes
                .get(i)
                .ok_or_else(|| io::Error::other(format!("no node {i}")))
        };
        let id = |i: usize| node(i).and_then(|n| n.cli(&["CLUSTER", "MYID"]));
        let (from_id, to_id) = (id(from)?, id(to)?);
        let entry = format!("127.0.0.1:{}", node(from)?.port());
        let slots = slots.to_string();
        cli(
            node(from)?.port(),
            &[
                "--cluster",
                "reshard",
                &entry,
                "--cluster-from",
                &from_id,
                "--cluster-to",
                &to_id,
                "--cluster-slots",
                &slots,
                "--cluster-yes",
                "--cluster-pipeline",
                "20",
            ],
        )
        .map(drop)
    }

    /// Whether node `i` is a replica now.
    pub fn is_replica(&self, i: usize) -> io::Result<bool> {
        let node = self
            .nodes
            .get(i)
            .ok_or_else(|| io::Error::other(format!("no node {i}")))?;
        Ok(node.cli(&["ROLE"])?.starts_with("slave"))
    }

    /// Promotes replica `i` with `CLUSTER FAILOVER` (coordinated: its master
    /// stops taking writes until the replica has them all), and waits until
    /// it is a master.
    pub fn failover(&self, i: usize) -> io::Result<()> {
        let node = self
            .nodes
            .get(i)
            .ok_or_else(|| io::Error::other(format!("no node {i}")))?;
        node.cli(&["CLUSTER", "FAILOVER"])?;
        wait_until(CONVERGE_LIMIT, || Ok(!self.is_replica(i)?))
    }
}
