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

use std::process::Command;
use std::sync::atomic::{AtomicU8, Ordering};

/// The namespaces and links of one simulated network. Dropping it deletes them all.
pub struct Network {
    prefix: String,
    subnet: u8,
    hosts: usize,
}

static NEXT_SUBNET: AtomicU8 = AtomicU8::new(0);

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
        let subnet = NEXT_SUBNET.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("bx{:x}{subnet:x}", std::process::id());
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
