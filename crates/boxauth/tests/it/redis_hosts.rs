//! The fleet across simulated hosts: network namespaces the test creates (as root; without it
//! these tests fail, never skip), each host with its own worker processes, Redis in a namespace
//! of its own, the emulator in the test process. A host cut off mid-refresh, a host killed while
//! it holds the lock, and a fleet spread over four hosts.

#![cfg(feature = "redis")]

use crate::fleet;

use std::time::{Duration, SystemTime};

use boxauth::TokenStorage;
use boxauth_emulator::{EmulatorConfig, EmulatorHandle, Grant};
use boxauth_test_support::emulator as emu;
use boxauth_test_support::netns::Network;
use boxauth_test_support::redis_fleet::Node;
use fleet::{Fleet, fingerprint, summary, worker_binary};
use tokio::process::Child;

/// The network, its Redis, and the emulator on the test process's address.
async fn hosts(count: usize) -> (Network, Node, EmulatorHandle) {
    let network = Network::create(count);
    let redis = Node::server_in(&network.redis_namespace(), &network.redis_address());
    let config = EmulatorConfig {
        addr: format!("{}:0", network.test_address()).parse().unwrap(),
        ..EmulatorConfig::default()
    };
    let emulator = emu::start_with(config).await;
    (network, redis, emulator)
}

fn on_host(fleet: &Fleet<'_>, network: &Network, host: usize, env: &[(&str, &str)]) -> Child {
    fleet
        .worker_via(network.on_host(host, &worker_binary()), env)
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_cut_off_mid_refresh_keeps_serving_and_hands_its_token_over_when_it_rejoins() {
    let (network, redis, emulator) = hosts(3).await;
    let fleet = Fleet::new(&emulator, redis.url());
    // A token still valid for 20 s, inside every worker's 30 s margin: due for a refresh.
    let pair = emu::oauth_pair(&emulator).await;
    let mut due = emu::expired_on_the_system_clock(pair);
    due.expires_at = SystemTime::now() + Duration::from_secs(20);
    fleet.storage().store(&due).await.unwrap();
    let due_token = due.access_token.secret().to_owned();

    // Host 0 starts the refresh: it takes the lock, spends the refresh token at Box, and pauses
    // there for 3 s; meanwhile the test cuts it off.
    let mut refresher = on_host(
        &fleet,
        &network,
        0,
        &[
            ("TASKS", "5"),
            ("RUN_SECS", "16"),
            ("MARGIN_SECS", "30"),
            ("BOXAUTH_FAILPOINT", "token_manager::after_fetch"),
            ("BOXAUTH_FAILPOINT_PAUSE_MS", "3000"),
        ],
    );
    let mut stderr = fleet::Stderr::of(&mut refresher);
    stderr
        .wait_for("failpoint token_manager::after_fetch reached")
        .await;
    network.partition(0);
    assert_eq!(emulator.stats().requests(Grant::RefreshToken), 1);
    // Hosts 1 and 2 want the same refresh, and wait for host 0's lock, serving the valid token.
    let others: Vec<Child> = (1..3)
        .flat_map(|host| [host, host])
        .map(|host| {
            on_host(
                &fleet,
                &network,
                host,
                &[("TASKS", "10"), ("RUN_SECS", "12"), ("MARGIN_SECS", "30")],
            )
        })
        .collect();
    // Host 0 stores into the void (its write unanswered), then the partition heals.
    stderr.wait_for(fleet::UNCONFIRMED_WRITE).await;
    stderr.drain();
    assert_eq!(
        fleet.stored_token().await,
        due_token,
        "nothing reached Redis while host 0 was cut off"
    );
    network.heal(0);

    let prints = fleet::summaries(others).await;
    let refresher = summary(refresher).await;
    let token = fleet.stored_token().await;
    assert_ne!(
        token, due_token,
        "host 0's token reached Redis after the heal"
    );
    assert_eq!(
        emulator.stats().requests(Grant::RefreshToken),
        1,
        "nobody else refreshed"
    );
    assert_eq!(emulator.stats().refresh_token_reuses, 0);
    assert_eq!(refresher["failures"], 0, "{refresher}");
    assert_eq!(refresher["token_sha256"], fingerprint(&token));
    for print in &prints {
        assert_eq!(print["failures"], 0, "{print}");
        assert_eq!(
            print["token_sha256"],
            fingerprint(&token),
            "hosts 1 and 2 took host 0's token from Redis"
        );
    }
    assert_eq!(emu::users_me(&emulator, &token, None).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_killed_while_it_holds_the_lock_is_freed_by_the_locks_ttl() {
    let (network, redis, emulator) = hosts(2).await;
    let fleet = Fleet::new(&emulator, redis.url());
    fleet.expired_pair().await;
    let mut holder = on_host(
        &fleet,
        &network,
        0,
        &[
            ("TASKS", "1"),
            ("LOCK_TTL_MS", "1500"),
            ("BOXAUTH_FAILPOINT", "token_manager::before_fetch"),
        ],
    );
    fleet::wait_for_line(&mut holder, "failpoint token_manager::before_fetch reached").await;
    // The host dies: its process is killed and its link goes with it.
    holder.start_kill().unwrap();
    holder.wait().await.unwrap();
    network.partition(0);
    let others: Vec<Child> = (0..3)
        .map(|_| {
            on_host(
                &fleet,
                &network,
                1,
                &[("TASKS", "10"), ("LOCK_TTL_MS", "1500")],
            )
        })
        .collect();
    let prints = fleet::summaries(others).await;
    let token = fleet.stored_token().await;
    assert!(
        prints
            .iter()
            .all(|p| p["failures"] == 0 && p["token_sha256"] == fingerprint(&token)),
        "{prints:?}"
    );
    assert_eq!(emulator.stats().requests(Grant::RefreshToken), 1);
    assert_eq!(emulator.stats().refresh_token_reuses, 0);
    assert_eq!(emu::users_me(&emulator, &token, None).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_processes_on_four_hosts_refresh_once_per_expiry() {
    let (network, redis, emulator) = hosts(4).await;
    let fleet = Fleet::new(&emulator, redis.url());
    fleet.expired_pair().await;
    for round in 0..5 {
        let before = emulator.stats().requests(Grant::RefreshToken);
        let children: Vec<Child> = (0..16)
            .map(|i| on_host(&fleet, &network, i % 4, &[("TASKS", "50")]))
            .collect();
        let prints = fleet::summaries(children).await;
        assert_eq!(
            emulator.stats().requests(Grant::RefreshToken) - before,
            1,
            "round {round}: one refresh for the four hosts"
        );
        let token = fleet.stored_token().await;
        for print in &prints {
            assert_eq!(print["token_sha256"], fingerprint(&token), "round {round}");
            assert_eq!(print["distinct_tokens"], 1, "round {round}");
            assert_eq!(print["failures"], 0, "round {round}: {print}");
        }
        fleet.expire().await;
    }
    assert_eq!(emulator.stats().refresh_token_reuses, 0);
}
