//! Simulated hosts: network namespaces the test creates itself (Debian's iproute2, as root),
//! joined by a bridge in a namespace of their own, where the test's Redis runs. The test process
//! reaches the bridge through one more veth pair, so the emulator it runs ("Box") serves the
//! hosts too. All addresses are in 198.18.0.0/15 (reserved for tests of network devices); no
//! traffic leaves the machine.
//!
//! ```text
//!  host 0 ─┐
//!  host 1 ─┼─ br0 (198.18.N.1: Redis) ── 198.18.N.254 (the test process: the emulator)
//!  host 2 ─┘
//! ```
//!
//! A host is partitioned by taking its link down on the bridge's side, and healed by bringing it
//! up. Without root (or without `ip`) creation fails and says so: these tests never skip.
//!
//! A test process killed before its [`Network`] drops leaves its namespaces (and the processes in
//! them) behind, with its subnet's address on the machine: the next run would route to the dead
//! network. So [`Network::create`] first deletes the namespaces of processes that no longer run
//! (their names carry the creator's PID), and takes a subnet no address on the machine is in.

use std::process::Command;
use std::sync::atomic::{AtomicU8, Ordering};

/// The namespaces and links of one simulated network. Dropping it deletes them all.
pub struct Network {
    prefix: String,
    subnet: u8,
    hosts: usize,
}

static NEXT_SUBNET: AtomicU8 = AtomicU8::new(0);

/// The PID in a namespace name this module gave (`bx<pid>n…`), if it is one.
fn creator(namespace: &str) -> Option<u32> {
    let (pid, _) = namespace.strip_prefix("bx")?.split_once('n')?;
    u32::from_str_radix(pid, 16).ok()
}

/// Deletes the namespaces whose creator no longer runs, and stops what still runs in them (a
/// Redis the killed test started), so their addresses leave the machine.
fn remove_stale_namespaces() {
    let Ok(output) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Some(namespace) = line.split_whitespace().next() else {
            continue;
        };
        let Some(pid) = creator(namespace) else {
            continue;
        };
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if let Ok(pids) = Command::new("ip")
            .args(["netns", "pids", namespace])
            .output()
        {
            for pid in String::from_utf8_lossy(&pids.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", namespace])
            .status();
    }
}

/// A subnet of 198.18.0.0/16 no address on the machine is in (another test process's network,
/// or one a killed process left), starting from one that depends on the PID so two processes
/// creating networks at once rarely try the same one.
fn free_subnet() -> u8 {
    let output = Command::new("ip")
        .args(["-br", "addr"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run `ip` ({e}): install Debian's iproute2"));
    let addresses = String::from_utf8_lossy(&output.stdout).into_owned();
    let start = std::process::id() % 250;
    for _ in 0..250 {
        let next = u32::from(NEXT_SUBNET.fetch_add(1, Ordering::Relaxed));
        let subnet = u8::try_from((start + next) % 250).unwrap();
        if !addresses.contains(&format!(" 198.18.{subnet}.")) {
            return subnet;
        }
    }
    panic!("no free subnet in 198.18.0.0/16: delete the leftover `bx…` links (`ip -br addr`)");
}

fn ip(args: &[&str]) {
    let output = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `ip` ({e}): install Debian's iproute2"));
    assert!(
        output.status.success(),
        "`ip {}` failed: {}. The simulated-host tests create network namespaces, which needs \
         root (CI runs as root); they do not skip without it.",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
}

impl Network {
    /// A network of `hosts` hosts (at most 200) and the Redis namespace.
    pub fn create(hosts: usize) -> Self {
        assert!(hosts <= 200);
        remove_stale_namespaces();
        let subnet = free_subnet();
        // Interface names are at most 15 bytes: "bx", the PID (≤ 6 hex digits), "n", the subnet
        // (≤ 2), and a suffix of at most 4 ("p199").
        let prefix = format!("bx{:x}n{subnet:x}", std::process::id());
        let network = Self {
            prefix,
            subnet,
            hosts,
        };
        let hub = network.redis_namespace();
        ip(&["netns", "add", &hub]);
        ip(&["-n", &hub, "link", "set", "lo", "up"]);
        ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &hub, "addr", "add", &network.cidr(1), "dev", "br0"]);
        ip(&["-n", &hub, "link", "set", "br0", "up"]);
        // The test process's own leg.
        let (outside, inside) = (
            format!("{}t", network.prefix),
            format!("{}u", network.prefix),
        );
        ip(&[
            "link", "add", &outside, "type", "veth", "peer", "name", &inside, "netns", &hub,
        ]);
        ip(&["-n", &hub, "link", "set", &inside, "master", "br0", "up"]);
        ip(&["addr", "add", &network.cidr(254), "dev", &outside]);
        ip(&["link", "set", &outside, "up"]);
        for host in 0..hosts {
            let namespace = network.host(host);
            let (port, leg) = network.legs(host);
            ip(&["netns", "add", &namespace]);
            ip(&["-n", &namespace, "link", "set", "lo", "up"]);
            ip(&[
                "-n", &hub, "link", "add", &port, "type", "veth", "peer", "name", &leg, "netns",
                &namespace,
            ]);
            ip(&["-n", &hub, "link", "set", &port, "master", "br0", "up"]);
            let address = network.cidr(10 + u8::try_from(host).unwrap());
            ip(&["-n", &namespace, "addr", "add", &address, "dev", &leg]);
            ip(&["-n", &namespace, "link", "set", &leg, "up"]);
        }
        network
    }

    fn cidr(&self, last: u8) -> String {
        format!("{}/24", self.address(last))
    }

    /// `198.18.N.last` in this network.
    pub fn address(&self, last: u8) -> String {
        format!("198.18.{}.{last}", self.subnet)
    }

    /// The address Redis binds in [`redis_namespace`](Self::redis_namespace).
    pub fn redis_address(&self) -> String {
        self.address(1)
    }

    /// The test process's address on the network (bind the emulator here).
    pub fn test_address(&self) -> String {
        self.address(254)
    }

    /// The namespace holding the bridge and Redis.
    pub fn redis_namespace(&self) -> String {
        format!("{}r", self.prefix)
    }

    /// Host `index`'s namespace.
    pub fn host(&self, index: usize) -> String {
        format!("{}h{index}", self.prefix)
    }

    /// The bridge-side link of a host, and the host's own.
    fn legs(&self, host: usize) -> (String, String) {
        (
            format!("{}p{host}", self.prefix),
            format!("{}l{host}", self.prefix),
        )
    }

    /// Cuts host `index` off the network: Redis, the emulator and the other hosts.
    pub fn partition(&self, index: usize) {
        let (port, _) = self.legs(index);
        ip(&["-n", &self.redis_namespace(), "link", "set", &port, "down"]);
    }

    /// Joins host `index` to the network again.
    pub fn heal(&self, index: usize) {
        let (port, _) = self.legs(index);
        ip(&["-n", &self.redis_namespace(), "link", "set", &port, "up"]);
    }

    /// `ip netns exec <host> <program>`, as a tokio command.
    pub fn on_host(&self, index: usize, program: &std::path::Path) -> tokio::process::Command {
        let mut command = tokio::process::Command::new("ip");
        command
            .args(["netns", "exec", &self.host(index)])
            .arg(program);
        command
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        // Deleting a namespace deletes the veth ends in it, and with them their peers.
        for host in 0..self.hosts {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.host(host)])
                .status();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.redis_namespace()])
            .status();
        let _ = Command::new("ip")
            .args(["link", "del", &format!("{}t", self.prefix)])
            .status();
    }
}
