//! Real Redis topologies started by the tests on free loopback ports: a Redis Cluster of three
//! primaries with a replica each, and a primary with a replica behind three Sentinels. Debian's
//! `redis-server`, `redis-sentinel` and `redis-cli` (scripts/test installs them). Each node is a
//! process the test can SIGKILL, SIGSTOP and SIGCONT, to make failovers happen for real.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::free_port;

/// One `redis-server` (or `redis-sentinel`) process. Dropping it kills it.
pub struct Node {
    /// The port it serves on.
    pub port: u16,
    /// A cluster node's bus port.
    bus: Option<u16>,
    /// The address it binds (127.0.0.1 unless a test puts it in a network namespace).
    pub host: String,
    args: Vec<String>,
    dir: PathBuf,
    child: Option<Child>,
    /// `ip netns exec NAME` prefix, for a node in a network namespace.
    netns: Option<String>,
    /// Stopped with SIGSTOP: it takes connections and answers nothing.
    paused: AtomicBool,
}

impl Node {
    fn new(name: &str, args: Vec<String>) -> Self {
        Self::at("127.0.0.1", None, name, args)
    }

    /// A plain `redis-server` on 127.0.0.1 with these extra arguments, started.
    pub fn server(args: &[&str]) -> Self {
        let mut node = Self::new("redis-node", args.iter().map(|a| (*a).to_owned()).collect());
        node.spawn("redis-server", None);
        node
    }

    /// A plain `redis-server` replicating `primary`, started, once its link to the primary is
    /// up (and the primary's data copied).
    pub fn replica_of(primary: &Node) -> Self {
        let port = primary.port.to_string();
        let node = Self::server(&["--replicaof", &primary.host, &port]);
        wait_until(
            "the replica's link to its primary",
            Duration::from_secs(30),
            || {
                node.query::<String>(::redis::cmd("INFO").arg("replication"))
                    .is_ok_and(|info| info.contains("master_link_status:up"))
            },
        );
        node
    }

    /// A plain `redis-server` bound to `host` inside network namespace `netns`, started.
    pub fn server_in(netns: &str, host: &str) -> Self {
        let mut node = Self::at(host, Some(netns), "redis-netns", Vec::new());
        node.spawn("redis-server", None);
        node
    }

    /// `redis://HOST:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://{}/0", self.address())
    }

    /// A node bound to `host`, run inside network namespace `netns` when given.
    fn at(host: &str, netns: Option<&str>, name: &str, args: Vec<String>) -> Self {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("boxauth-{name}-{port}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            port,
            bus: None,
            host: host.to_owned(),
            args,
            dir,
            child: None,
            netns: netns.map(str::to_owned),
            paused: AtomicBool::new(false),
        }
    }

    /// Starts the process and waits until it answers. A port taken between choosing it and
    /// binding it makes the server exit at once: then it starts again on other ports.
    fn spawn(&mut self, program: &str, config: Option<&str>) {
        for attempt in 0..5 {
            if attempt > 0 {
                self.port = free_port();
                self.bus = self.bus.map(|_| free_port());
                let _ = std::fs::remove_file(self.dir.join("nodes.conf"));
            }
            let mut command = match &self.netns {
                Some(netns) => {
                    let mut command = Command::new("ip");
                    command.args(["netns", "exec", netns, program]);
                    command
                }
                None => Command::new(program),
            };
            if let Some(config) = config {
                let path = self.dir.join("node.conf");
                std::fs::write(&path, config).unwrap();
                command.arg(&path);
            }
            let child = command
                .args(["--port", &self.port.to_string(), "--bind", &self.host])
                .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
                .arg("--dir")
                .arg(&self.dir)
                .args(&self.args)
                .args(
                    self.bus
                        .iter()
                        .flat_map(|bus| ["--cluster-port".to_owned(), bus.to_string()]),
                )
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot start {program} ({e}): install Debian's redis-server and \
                         redis-tools (scripts/test does)"
                    )
                });
            self.child = Some(child);
            let started = Instant::now();
            loop {
                // An error answer (NOAUTH from a server with a password) is an answer too.
                match self.query::<String>(&mut ::redis::cmd("PING")) {
                    Ok(_) => return,
                    Err(error) if error.code().is_some() => return,
                    Err(_) => {}
                }
                let exited = self.child.as_mut().unwrap().try_wait().unwrap().is_some();
                if exited {
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "{program} on port {} did not start",
                    self.port
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("{program} exited at once five times (ports taken?)");
    }

    /// `HOST:PORT`.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Runs one command on this node (a fresh connection, 5 s timeouts).
    pub fn query<T: ::redis::FromRedisValue>(
        &self,
        command: &mut ::redis::Cmd,
    ) -> ::redis::RedisResult<T> {
        let client = ::redis::Client::open(format!("redis://{}/", self.address()))?;
        let mut connection = client.get_connection_with_timeout(Duration::from_secs(5))?;
        connection.set_read_timeout(Some(Duration::from_secs(5)))?;
        command.query(&mut connection)
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("the node runs").id();
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// SIGKILL, and waits for the process to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGSTOP: the node stops answering and replicating, as a frozen VM does.
    pub fn pause(&self) {
        self.signal("-STOP");
        self.paused.store(true, Ordering::SeqCst);
    }

    /// SIGCONT after [`pause`](Self::pause).
    pub fn resume(&self) {
        self.signal("-CONT");
        self.paused.store(false, Ordering::SeqCst);
    }

    /// Whether it runs and answers (neither killed nor paused).
    pub fn answers(&self) -> bool {
        self.child.is_some() && !self.paused.load(Ordering::SeqCst)
    }

    /// How many clients of this node are subscribed to `channel` (`PUBSUB NUMSUB`); 0 for a
    /// node that does not answer.
    pub fn subscribers(&self, channel: &str) -> i64 {
        if !self.answers() {
            return 0;
        }
        self.query::<(String, i64)>(::redis::cmd("PUBSUB").arg("NUMSUB").arg(channel))
            .map_or(0, |(_, count)| count)
    }

    /// A field of `INFO replication` as a number (`master_repl_offset`, `slave_repl_offset`).
    fn replication_number(&self, field: &str) -> Option<i64> {
        let info: String = self.query(::redis::cmd("INFO").arg("replication")).ok()?;
        info.lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|value| value.trim().parse().ok())
    }

    /// Waits until `replica` has processed everything this primary has written so far (its
    /// replication offset reached the primary's).
    pub fn wait_until_replicated_to(&self, replica: &Node) {
        let written = self
            .replication_number("master_repl_offset")
            .expect("the primary reports its replication offset");
        wait_until("the replica catching up", Duration::from_secs(30), || {
            replica
                .replication_number("slave_repl_offset")
                .is_some_and(|done| done >= written)
        });
    }

    /// How many `ASK` and `TRYAGAIN` answers this node has given (`INFO errorstats`): clients
    /// that met a slot half migrated.
    pub fn redirections(&self) -> u64 {
        let info: String = self
            .query(::redis::cmd("INFO").arg("errorstats"))
            .unwrap_or_default();
        info.lines()
            .filter_map(|line| {
                let rest = line
                    .strip_prefix("errorstat_ASK:count=")
                    .or_else(|| line.strip_prefix("errorstat_TRYAGAIN:count="))?;
                rest.trim().parse::<u64>().ok()
            })
            .sum()
    }

    /// The `role` field of `INFO replication` (`master` or `slave`).
    pub fn role(&self) -> Option<String> {
        let info: String = self.query(::redis::cmd("INFO").arg("replication")).ok()?;
        info.lines()
            .find_map(|l| l.strip_prefix("role:"))
            .map(|r| r.trim().to_owned())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A paused process ignores nothing but SIGKILL; continue it for a clean exit anyway.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
        }
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits, polling every 50 ms, until `done`; fails the test saying `what` did not happen within
/// `limit`.
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < limit,
            "{what} did not happen within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A Redis Cluster: three primaries, each with one replica. Failure detection after 1 s
/// (`cluster-node-timeout 1000`), and any replica may be promoted however long it was cut off
/// (`cluster-replica-validity-factor 0`).
pub struct RedisCluster {
    /// The six nodes; which ones are primaries changes with failovers.
    pub nodes: Vec<Node>,
}

impl RedisCluster {
    /// Starts the six nodes and joins them with `redis-cli --cluster create`.
    pub fn start() -> Self {
        let mut nodes: Vec<Node> = (0..6)
            .map(|_| {
                let mut node = Node::new(
                    "redis-cluster",
                    [
                        "--cluster-enabled yes",
                        "--cluster-config-file nodes.conf",
                        "--cluster-node-timeout 1000",
                        "--cluster-replica-validity-factor 0",
                    ]
                    .iter()
                    .flat_map(|a| a.split(' ').map(str::to_owned))
                    .collect(),
                );
                node.bus = Some(free_port());
                node
            })
            .collect();
        for node in &mut nodes {
            node.spawn("redis-server", None);
        }
        let status = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(nodes.iter().map(Node::address))
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli (Debian's redis-tools) runs");
        assert!(status.success(), "redis-cli --cluster create failed");
        let cluster = Self { nodes };
        wait_until("the cluster's forming", Duration::from_secs(30), || {
            cluster.nodes.iter().all(|n| {
                n.query::<String>(::redis::cmd("CLUSTER").arg("INFO"))
                    .is_ok_and(|info| info.contains("cluster_state:ok"))
            }) && cluster
                .nodes
                .iter()
                .filter(|n| n.role().as_deref() == Some("slave"))
                .all(|n| {
                    n.query::<String>(::redis::cmd("INFO").arg("replication"))
                        .is_ok_and(|i| i.contains("master_link_status:up"))
                })
        });
        cluster
    }

    /// How many clients of the nodes that answer are subscribed to `channel` (a cluster
    /// subscription lives on the one node it was made through).
    pub fn subscribers(&self, channel: &str) -> i64 {
        self.nodes.iter().map(|n| n.subscribers(channel)).sum()
    }

    /// `redis-cluster://` with every primary and replica as a seed.
    pub fn url(&self) -> String {
        let seeds: Vec<String> = self.nodes.iter().map(Node::address).collect();
        format!("redis-cluster://{}", seeds.join(","))
    }

    /// A node that answers (to ask the cluster about itself).
    fn any(&self) -> &Node {
        self.nodes
            .iter()
            .find(|n| n.answers() && n.role().is_some())
            .expect("a node is up")
    }

    /// The hash slot of `key`.
    pub fn slot(&self, key: &str) -> u16 {
        self.any()
            .query(::redis::cmd("CLUSTER").arg("KEYSLOT").arg(key))
            .unwrap()
    }

    /// `CLUSTER NODES` lines as (node id, address, flags, master id, slots) as seen by `from`.
    fn topology(from: &Node) -> Vec<(String, String, String, String, String)> {
        let nodes: String = from.query(::redis::cmd("CLUSTER").arg("NODES")).unwrap();
        nodes
            .lines()
            .map(|line| {
                let fields: Vec<&str> = line.split(' ').collect();
                let address = fields[1].split('@').next().unwrap().to_owned();
                (
                    fields[0].to_owned(),
                    address,
                    fields[2].to_owned(),
                    fields[3].to_owned(),
                    fields[8..].join(" "),
                )
            })
            .collect()
    }

    fn index_of(&self, address: &str) -> usize {
        self.nodes
            .iter()
            .position(|n| n.address() == address)
            .unwrap()
    }

    /// The index of the primary serving `slot` now (as a live node sees it).
    pub fn primary_of(&self, slot: u16) -> usize {
        self.serving(slot)
            .unwrap_or_else(|| panic!("no primary serves slot {slot}"))
    }

    /// The index of the primary serving `slot`, if one does (none during a failover).
    pub fn serving(&self, slot: u16) -> Option<usize> {
        for (_, address, flags, _, slots) in Self::topology(self.any()) {
            if !flags.contains("master") || flags.contains("fail") {
                continue;
            }
            let serves = slots
                .split(' ')
                .filter(|r| !r.starts_with('['))
                .any(|range| {
                    let (low, high) = range.split_once('-').unwrap_or((range, range));
                    let (low, high): (u16, u16) = (low.parse().unwrap(), high.parse().unwrap());
                    (low..=high).contains(&slot)
                });
            if serves {
                return Some(self.index_of(&address));
            }
        }
        None
    }

    /// The index of the replica of the node at `primary`.
    pub fn replica_of(&self, primary: usize) -> usize {
        let topology = Self::topology(self.any());
        let id = &topology
            .iter()
            .find(|(_, address, ..)| *address == self.nodes[primary].address())
            .unwrap()
            .0;
        let (_, address, ..) = topology
            .iter()
            .find(|(_, _, flags, master, _)| flags.contains("slave") && master == id)
            .expect("the primary has a replica");
        self.index_of(address)
    }

    /// Waits until a node other than `dead` serves `slot` as primary; its index.
    pub fn wait_for_failover(&self, slot: u16, dead: usize) -> usize {
        let mut promoted = dead;
        wait_until("the failover", Duration::from_secs(60), || {
            promoted = self.serving(slot).unwrap_or(dead);
            promoted != dead
                && self.nodes[promoted].role().as_deref() == Some("master")
                && self.nodes.iter().filter(|n| n.child.is_some()).all(|n| {
                    n.query::<String>(::redis::cmd("CLUSTER").arg("INFO"))
                        .is_ok_and(|info| info.contains("cluster_state:ok"))
                })
        });
        promoted
    }

    /// The node id of the node at `index`.
    pub fn id_of(&self, index: usize) -> String {
        self.nodes[index]
            .query(::redis::cmd("CLUSTER").arg("MYID"))
            .unwrap()
    }

    /// Moves `slot` from primary `from` to primary `to` as `redis-cli --cluster reshard` does:
    /// IMPORTING on the target, MIGRATING on the source, each key MIGRATEd (a client meanwhile
    /// gets ASK for keys already moved), then the slot assigned to the target everywhere.
    /// `between_keys` runs after each key moved.
    pub fn migrate_slot(&self, slot: u16, from: usize, to: usize, mut between_keys: impl FnMut()) {
        let (source, target) = (&self.nodes[from], &self.nodes[to]);
        let (source_id, target_id) = (self.id_of(from), self.id_of(to));
        let set = |node: &Node, state: &str, id: &str| {
            let _: () = node
                .query(
                    ::redis::cmd("CLUSTER")
                        .arg("SETSLOT")
                        .arg(slot)
                        .arg(state)
                        .arg(id),
                )
                .unwrap();
        };
        set(target, "IMPORTING", &source_id);
        set(source, "MIGRATING", &target_id);
        loop {
            let keys: Vec<String> = source
                .query(
                    ::redis::cmd("CLUSTER")
                        .arg("GETKEYSINSLOT")
                        .arg(slot)
                        .arg(1),
                )
                .unwrap();
            let Some(key) = keys.first() else { break };
            let _: ::redis::Value = source
                .query(
                    ::redis::cmd("MIGRATE")
                        .arg(&target.host)
                        .arg(target.port)
                        .arg(key)
                        .arg(0)
                        .arg(5000),
                )
                .unwrap();
            between_keys();
        }
        for node in self.nodes.iter().filter(|n| n.child.is_some()) {
            let _: ::redis::RedisResult<()> = node.query(
                ::redis::cmd("CLUSTER")
                    .arg("SETSLOT")
                    .arg(slot)
                    .arg("NODE")
                    .arg(&target_id),
            );
        }
    }
}

/// A primary with one replica, watched by three Sentinels (quorum 2) under the name
/// `boxauth`; the primary is judged down after 1 s.
pub struct RedisSentinel {
    /// The first primary and its replica, in start order (roles change with failovers).
    pub data: Vec<Node>,
    /// The Sentinels.
    pub sentinels: Vec<Node>,
}

/// The name the Sentinels watch the primary under.
pub const MASTER_NAME: &str = "boxauth";

impl RedisSentinel {
    /// Starts the primary, its replica and the Sentinels, and waits until all see each other.
    pub fn start() -> Self {
        let mut primary = Node::new("redis-sentinel-data", Vec::new());
        primary.spawn("redis-server", None);
        let mut replica = Node::new(
            "redis-sentinel-data",
            vec![
                "--replicaof".into(),
                "127.0.0.1".into(),
                primary.port.to_string(),
            ],
        );
        replica.spawn("redis-server", None);
        let config = format!(
            "sentinel monitor {MASTER_NAME} 127.0.0.1 {} 2\n\
             sentinel down-after-milliseconds {MASTER_NAME} 1000\n\
             sentinel failover-timeout {MASTER_NAME} 5000\n\
             sentinel parallel-syncs {MASTER_NAME} 1\n",
            primary.port
        );
        let sentinels: Vec<Node> = (0..3)
            .map(|_| {
                let mut sentinel = Node::new("redis-sentinel", vec!["--sentinel".into()]);
                sentinel.spawn("redis-server", Some(&config));
                sentinel
            })
            .collect();
        let topology = Self {
            data: vec![primary, replica],
            sentinels,
        };
        wait_until(
            "the Sentinels' seeing everyone",
            Duration::from_secs(30),
            || {
                topology.sentinels.iter().all(|s| {
                    let info: ::redis::RedisResult<Vec<::redis::Value>> =
                        s.query(::redis::cmd("SENTINEL").arg("MASTER").arg(MASTER_NAME));
                    let text = format!("{info:?}");
                    text.contains("num-slaves") && !text.contains("s_down")
                }) && topology.sentinels.iter().all(|s| {
                    s.query::<Vec<::redis::Value>>(
                        ::redis::cmd("SENTINEL").arg("REPLICAS").arg(MASTER_NAME),
                    )
                    .is_ok_and(|r| r.len() == 1)
                        && s.query::<Vec<::redis::Value>>(
                            ::redis::cmd("SENTINEL").arg("SENTINELS").arg(MASTER_NAME),
                        )
                        .is_ok_and(|r| r.len() == 2)
                }) && topology.data[1]
                    .query::<String>(::redis::cmd("INFO").arg("replication"))
                    .is_ok_and(|i| i.contains("master_link_status:up"))
            },
        );
        topology
    }

    /// `redis-sentinel://` with the three Sentinels and the master's name.
    pub fn url(&self) -> String {
        let sentinels: Vec<String> = self.sentinels.iter().map(Node::address).collect();
        format!("redis-sentinel://{}/{MASTER_NAME}", sentinels.join(","))
    }

    /// The port Sentinel `index` names as primary now.
    fn primary_port(&self, index: usize) -> u16 {
        let (_, port): (String, String) = self.sentinels[index]
            .query(
                ::redis::cmd("SENTINEL")
                    .arg("GET-MASTER-ADDR-BY-NAME")
                    .arg(MASTER_NAME),
            )
            .unwrap();
        port.parse().unwrap()
    }

    /// The index in [`data`](Self::data) of the primary the first Sentinel names now.
    pub fn primary(&self) -> usize {
        let port = self.primary_port(0);
        self.data.iter().position(|n| n.port == port).unwrap()
    }

    /// Waits until every Sentinel names another primary than `dead` and it acts as one; its
    /// index.
    pub fn wait_for_failover(&self, dead: usize) -> usize {
        let mut promoted = None;
        wait_until("the Sentinel failover", Duration::from_secs(60), || {
            promoted = self.promoted(dead);
            promoted.is_some()
        });
        promoted.expect("the failover happened")
    }

    /// Whether every Sentinel names another primary than `dead`, and it acts as one.
    pub fn failed_over(&self, dead: usize) -> bool {
        self.promoted(dead).is_some()
    }

    /// The primary every Sentinel names instead of `dead`, once it acts as one (read once, so
    /// what is checked is what is returned).
    fn promoted(&self, dead: usize) -> Option<usize> {
        let promoted = self.primary();
        let named_by_all =
            (0..self.sentinels.len()).all(|s| self.primary_port(s) == self.data[promoted].port);
        (promoted != dead
            && named_by_all
            && self.data[promoted].role().as_deref() == Some("master"))
        .then_some(promoted)
    }
}
