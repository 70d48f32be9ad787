//! RedisStorage through real Redis Sentinels (a primary, a replica, three Sentinels, started by
//! the test): the primary found and used, replication-safe writes, and the primary SIGKILLed
//! mid-refresh: the failover is followed and no refresh token is lost.

#![cfg(feature = "redis")]

use crate::fleet;

use std::time::Duration;

use boxauth::{RedisStorage, StoredToken, TokenStorage};
use boxauth_test_support::emulator as emu;
use boxauth_test_support::redis_fleet::RedisSentinel;
use fleet::{Fleet, NAMESPACE};

fn key(suffix: &str) -> String {
    format!("{{{NAMESPACE}}}:{suffix}")
}

/// The Sentinel topology, its first primary to lose.
struct Sentinel {
    topology: RedisSentinel,
    primary: usize,
}

impl Sentinel {
    fn start() -> Self {
        let topology = RedisSentinel::start();
        let primary = topology.primary();
        Self { topology, primary }
    }

    fn replica(&self) -> usize {
        1 - self.primary
    }
}

impl fleet::Failover for Sentinel {
    fn freeze_replica(&mut self) {
        // The replica first catches up with everything written so far (the token the test
        // stored without WAIT among it): what it lacks after the freeze is only what follows.
        self.topology.data[self.primary]
            .wait_until_replicated_to(&self.topology.data[self.replica()]);
        self.topology.data[self.replica()].pause();
        let _: () = self.topology.data[self.primary]
            .query(redis::cmd("SET").arg(key("burst")).arg(fleet::burst()))
            .unwrap();
    }

    fn primary_holds(&self) -> Option<String> {
        self.topology.data[self.primary]
            .query(redis::cmd("GET").arg(key("token")))
            .unwrap()
    }

    fn kill_primary(&mut self) {
        self.topology.data[self.primary].kill();
        self.topology.data[self.replica()].resume();
        let promoted = self.topology.wait_for_failover(self.primary);
        assert_eq!(promoted, self.replica());
    }

    fn sigkill_primary(&mut self) {
        self.topology.data[self.primary].kill();
    }

    fn failed_over(&self) -> bool {
        self.topology.failed_over(self.primary)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_started_as_the_primary_dies_wait_out_the_failover() {
    let mut sentinel = Sentinel::start();
    let emulator = emu::start().await;
    let fleet = Fleet::new(&emulator, sentinel.topology.url());
    fleet::new_processes_wait_out_a_failover(&mut sentinel, &fleet, 8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_primary_named_by_sentinel_is_used_and_its_replica_confirms_each_write() {
    let sentinel = Sentinel::start();
    let storage = RedisStorage::new(&sentinel.topology.url(), NAMESPACE).unwrap();
    let token = StoredToken::new(
        "T1",
        std::time::SystemTime::now() + Duration::from_secs(3600),
    )
    .with_refresh_token("R1");
    storage.store(&token).await.unwrap();
    let on = |index: usize| -> Option<String> {
        sentinel.topology.data[index]
            .query(redis::cmd("GET").arg(key("token")))
            .unwrap()
    };
    assert!(on(sentinel.primary).is_some_and(|v| v.contains("\"access_token\":\"T1\"")));
    assert!(
        on(sentinel.replica()).is_some_and(|v| v.contains("\"access_token\":\"T1\"")),
        "the replica had it when store returned"
    );
    assert_eq!(
        storage.load().await.unwrap().unwrap().access_token.secret(),
        "T1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_primary_sigkilled_mid_refresh_is_followed_to_the_new_one_and_no_token_is_lost() {
    let mut sentinel = Sentinel::start();
    let emulator = emu::start().await;
    let fleet = Fleet::new(&emulator, sentinel.topology.url());
    fleet::a_lost_primary_loses_no_refresh_token(&mut sentinel, &fleet).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_wait_the_same_sentinel_failover_loses_the_refresh_token() {
    let mut sentinel = Sentinel::start();
    let emulator = emu::start().await;
    let fleet = Fleet::new(&emulator, sentinel.topology.url());
    fleet::without_wait_a_lost_primary_costs_the_login(&mut sentinel, &fleet).await;
}
