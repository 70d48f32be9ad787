//! RedisStorage on a real Redis Cluster (three primaries, three replicas, started by the test):
//! an identity's keys in one slot, a fleet refreshing once per expiry, the primary of that slot
//! SIGKILLed mid-refresh with no refresh token lost, and the slot migrated while processes refresh.

#![cfg(feature = "redis")]

use crate::fleet;

use std::time::{Duration, Instant};

use boxauth::{RedisStorage, StorageErrorKind, StoredToken, TokenStorage};
use boxauth_emulator::{EmulatorConfig, Grant};
use boxauth_test_support::emulator as emu;
use boxauth_test_support::redis_fleet::{RedisCluster, wait_until};
use fleet::{Fleet, NAMESPACE};

fn key(suffix: &str) -> String {
    format!("{{{NAMESPACE}}}:{suffix}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identitys_keys_share_one_slot_and_the_lock_holds_across_the_cluster() {
    let cluster = RedisCluster::start();
    let slots: Vec<u16> = ["token", "lock", "changed"]
        .iter()
        .map(|suffix| cluster.slot(&key(suffix)))
        .collect();
    assert!(slots.iter().all(|s| *s == slots[0]), "{slots:?}");

    let storage = RedisStorage::new(&cluster.url(), NAMESPACE).unwrap();
    let token = StoredToken::new(
        "T1",
        std::time::SystemTime::now() + Duration::from_secs(3600),
    )
    .with_refresh_token("R1");
    // The default on a cluster: one replica must confirm the write, and one does.
    storage.store(&token).await.unwrap();
    let primary = cluster.primary_of(slots[0]);
    let replicated = {
        let replica = &cluster.nodes[cluster.replica_of(primary)];
        let client = redis::Client::open(format!("redis://{}/", replica.address())).unwrap();
        let mut connection = client.get_connection().unwrap();
        let _: () = redis::cmd("READONLY").query(&mut connection).unwrap();
        let value: Option<String> = redis::cmd("GET")
            .arg(key("token"))
            .query(&mut connection)
            .unwrap();
        value
    };
    assert!(
        replicated.is_some_and(|v| v.contains("\"access_token\":\"T1\"")),
        "the replica had the token when store returned"
    );
    assert_eq!(
        storage.load().await.unwrap().unwrap().access_token.secret(),
        "T1"
    );

    // The lock is one key in one slot: exclusive for every client of the cluster.
    let held = storage.lock().await.unwrap();
    let patient = RedisStorage::new(&cluster.url(), NAMESPACE)
        .unwrap()
        .with_lock_timeout(Duration::from_millis(300));
    let refused = patient.lock().await.err().unwrap();
    assert!(
        matches!(&refused, boxauth::Error::Storage(e) if e.kind() == StorageErrorKind::LockTimeout),
        "{refused}"
    );
    // A waiter is woken by the release (pub/sub through a cluster node), long before the TTL.
    let url = cluster.url();
    let waiter = tokio::spawn(async move {
        let started = Instant::now();
        let lock = RedisStorage::new(&url, NAMESPACE)
            .unwrap()
            .lock()
            .await
            .unwrap();
        lock.release().await.unwrap();
        started.elapsed()
    });
    let channel = key("changed");
    fleet::until("the waiter's subscription", Duration::from_secs(30), || {
        cluster.subscribers(&channel) >= 1
    })
    .await;
    held.release().await.unwrap();
    let waited = waiter.await.unwrap();
    assert!(waited < Duration::from_secs(5), "woken after {waited:?}");
    storage.clear().await.unwrap();
    assert!(storage.load().await.unwrap().is_none());

    // A frozen node (SIGSTOP: it takes connections and never answers) first in the seed list:
    // a waiter skips it, subscribes elsewhere, and is still woken long before the lock's TTL.
    let frozen = cluster.replica_of(primary);
    cluster.nodes[frozen].pause();
    let others: Vec<String> = (0..cluster.nodes.len())
        .filter(|i| *i != frozen)
        .map(|i| cluster.nodes[i].address())
        .collect();
    let frozen_first = format!(
        "redis-cluster://{},{}",
        cluster.nodes[frozen].address(),
        others.join(",")
    );
    let held = storage.lock().await.unwrap();
    let waiter = tokio::spawn(async move {
        let started = Instant::now();
        let lock = RedisStorage::new(&frozen_first, NAMESPACE)
            .unwrap()
            .lock()
            .await
            .unwrap();
        lock.release().await.unwrap();
        started.elapsed()
    });
    // Subscribed through a node that answers (its client first waits out the frozen seed).
    fleet::until("the waiter's subscription", Duration::from_secs(30), || {
        cluster.subscribers(&channel) >= 1
    })
    .await;
    held.release().await.unwrap();
    let waited = tokio::time::timeout(Duration::from_secs(25), waiter)
        .await
        .expect("the waiter was not held up by the frozen node")
        .unwrap();
    cluster.nodes[frozen].resume();
    assert!(waited < Duration::from_secs(20), "woken after {waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_processes_of_fifty_tasks_refresh_once_twenty_times_over_on_a_cluster() {
    let cluster = RedisCluster::start();
    let emulator = emu::start().await;
    Fleet::new(&emulator, cluster.url())
        .sixteen_by_fifty(20)
        .await;
}

/// The cluster with the primary of the fleet's slot to lose.
struct Cluster {
    cluster: RedisCluster,
    slot: u16,
    primary: usize,
    replica: usize,
}

impl Cluster {
    fn start() -> Self {
        let cluster = RedisCluster::start();
        let slot = cluster.slot(&key("token"));
        let primary = cluster.primary_of(slot);
        let replica = cluster.replica_of(primary);
        Self {
            cluster,
            slot,
            primary,
            replica,
        }
    }
}

impl fleet::Failover for Cluster {
    fn freeze_replica(&mut self) {
        // The replica first catches up with everything written so far (the token the test
        // stored without WAIT among it): what it lacks after the freeze is only what follows.
        self.cluster.nodes[self.primary]
            .wait_until_replicated_to(&self.cluster.nodes[self.replica]);
        self.cluster.nodes[self.replica].pause();
        let _: () = self.cluster.nodes[self.primary]
            .query(redis::cmd("SET").arg(key("burst")).arg(fleet::burst()))
            .unwrap();
    }

    fn primary_holds(&self) -> Option<String> {
        self.cluster.nodes[self.primary]
            .query(redis::cmd("GET").arg(key("token")))
            .unwrap()
    }

    fn kill_primary(&mut self) {
        self.cluster.nodes[self.primary].kill();
        self.cluster.nodes[self.replica].resume();
        let promoted = self.cluster.wait_for_failover(self.slot, self.primary);
        assert_eq!(promoted, self.replica);
    }

    fn sigkill_primary(&mut self) {
        self.cluster.nodes[self.primary].kill();
    }

    fn failed_over(&self) -> bool {
        self.cluster.serving(self.slot) == Some(self.replica)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_started_as_the_primary_dies_wait_out_the_failover() {
    let mut cluster = Cluster::start();
    let emulator = emu::start().await;
    let fleet = Fleet::new(&emulator, cluster.cluster.url());
    fleet::new_processes_wait_out_a_failover(&mut cluster, &fleet, 8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_primary_sigkilled_mid_refresh_loses_no_refresh_token() {
    let mut cluster = Cluster::start();
    let emulator = emu::start().await;
    let fleet = Fleet::new(&emulator, cluster.cluster.url());
    fleet::a_lost_primary_loses_no_refresh_token(&mut cluster, &fleet).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_wait_the_same_failover_loses_the_refresh_token() {
    let mut cluster = Cluster::start();
    let emulator = emu::start().await;
    let fleet = Fleet::new(&emulator, cluster.cluster.url());
    fleet::without_wait_a_lost_primary_costs_the_login(&mut cluster, &fleet).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_identitys_slot_migrated_while_processes_refresh_costs_nothing() {
    let cluster = RedisCluster::start();
    // Tokens live 4 s and are refreshed 3 s early: a refresh about every second, all through.
    let mut config = EmulatorConfig::default();
    config.lifetimes.access_token = Duration::from_secs(4);
    let emulator = emu::start_with(config).await;
    let fleet = Fleet::new(&emulator, cluster.url());
    fleet.expired_pair().await;
    let slot = cluster.slot(&key("token"));
    // Long enough for the migration's steps below, each a refresh apart, on a loaded machine.
    let children = fleet.spawn(
        4,
        &[("TASKS", "10"), ("RUN_SECS", "15"), ("MARGIN_SECS", "3")],
    );
    let refreshes = || emulator.stats().requests(Grant::RefreshToken);
    // Waits until the fleet has refreshed once more (about every second).
    let one_more_refresh = |what: &str| {
        let before = refreshes();
        wait_until(what, Duration::from_secs(30), || refreshes() > before);
    };
    // After each key moved, waits until the fleet met the slot half moved: the source node
    // answered ASK (a key moved) or TRYAGAIN (a script over a moved key and one not yet).
    let met_half_moved = |source: usize, last: &mut u64| {
        let node = &cluster.nodes[source];
        wait_until(
            "a refresh meeting the slot half moved",
            Duration::from_secs(30),
            || node.redirections() > *last,
        );
        *last = node.redirections();
    };
    // There and back, each key moved alone.
    let home = cluster.primary_of(slot);
    let away = (0..cluster.nodes.len())
        .find(|i| *i != home && cluster.nodes[*i].role().as_deref() == Some("master"))
        .unwrap();
    tokio::task::block_in_place(|| {
        one_more_refresh("a refresh before the migration");
        let mut last = cluster.nodes[home].redirections();
        cluster.migrate_slot(slot, home, away, || met_half_moved(home, &mut last));
        assert_eq!(cluster.primary_of(slot), away);
        one_more_refresh("a refresh on the slot's new primary");
        let mut last = cluster.nodes[away].redirections();
        cluster.migrate_slot(slot, away, home, || met_half_moved(away, &mut last));
    });
    assert_eq!(cluster.primary_of(slot), home);
    let prints = fleet::summaries(children).await;
    assert!(prints.iter().all(|p| p["failures"] == 0), "{prints:?}");
    assert!(emulator.stats().requests(Grant::RefreshToken) >= 4);
    assert_eq!(
        emulator.stats().refresh_token_reuses,
        0,
        "no refresh token was spent twice"
    );
    let token = fleet.stored_token().await;
    assert_eq!(emu::users_me(&emulator, &token, None).await.0, 200);
}
