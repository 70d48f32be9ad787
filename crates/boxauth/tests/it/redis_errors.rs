//! What a Redis failure is, said by its `StorageErrorKind` and produced for real (servers the
//! test starts): a wrong or missing password, a replica named as the server, a command the server
//! refuses, a cluster node named as one server, a cluster slot with no copy left, a Sentinel-named
//! primary with no replica left, a Sentinel that knows no such master, and nothing listening.

#![cfg(feature = "redis")]

use std::time::{Duration, UNIX_EPOCH};

use boxauth::{ConfigErrorKind, RedisStorage, StorageErrorKind, StoredToken, TokenStorage};
use boxauth_test_support::redis_fleet::{Node, RedisCluster, RedisSentinel};

const NAMESPACE: &str = "boxauth:test:errors";

fn token() -> StoredToken {
    StoredToken::new("T1", UNIX_EPOCH + Duration::from_secs(4_000_000_000)).with_refresh_token("R1")
}

fn kind(error: &boxauth::Error) -> Option<StorageErrorKind> {
    error.storage_error_kind()
}

/// A storage that gives up on a failover after 3 s (the default, 20 s, is for production).
fn impatient(url: &str) -> RedisStorage {
    RedisStorage::new(url, NAMESPACE)
        .unwrap()
        .with_failover_wait(Duration::from_secs(3))
}

#[tokio::test]
async fn a_wrong_or_missing_password_is_refused_authentication() {
    let redis = Node::server(&["--requirepass", "right-password"]);
    let wrong = RedisStorage::new(
        &format!("redis://:wrong-password@{}/0", redis.address()),
        NAMESPACE,
    )
    .unwrap();
    let error = wrong.load().await.unwrap_err();
    assert_eq!(
        kind(&error),
        Some(StorageErrorKind::AuthenticationRefused),
        "{error}"
    );
    assert!(!error.report().contains("wrong-password"), "{error}");

    let missing = RedisStorage::new(&redis.url(), NAMESPACE).unwrap();
    let error = missing.store(&token()).await.unwrap_err();
    assert_eq!(
        kind(&error),
        Some(StorageErrorKind::AuthenticationRefused),
        "NOAUTH: {error}"
    );

    let right = RedisStorage::new(
        &format!("redis://:right-password@{}/0", redis.address()),
        NAMESPACE,
    )
    .unwrap();
    right.store(&token()).await.unwrap();
    assert_eq!(
        right.load().await.unwrap().unwrap().access_token.secret(),
        "T1"
    );
}

#[tokio::test]
async fn a_replica_named_as_the_server_refuses_writes_as_a_read_only_replica() {
    let primary = Node::server(&[]);
    let port = primary.port.to_string();
    let replica = Node::server(&["--replicaof", "127.0.0.1", &port]);
    let storage = RedisStorage::new(&replica.url(), NAMESPACE).unwrap();
    let error = storage.store(&token()).await.unwrap_err();
    assert_eq!(
        kind(&error),
        Some(StorageErrorKind::ReadOnlyReplica),
        "{error}"
    );
}

#[tokio::test]
async fn a_command_the_server_refuses_is_refused_not_unreachable() {
    let redis = Node::server(&["--rename-command", "GET", ""]);
    let error = RedisStorage::new(&redis.url(), NAMESPACE)
        .unwrap()
        .load()
        .await
        .unwrap_err();
    assert_eq!(kind(&error), Some(StorageErrorKind::Refused), "{error}");
}

#[tokio::test]
async fn nothing_listening_is_unreachable_at_once_for_every_topology() {
    // A port that was free a moment ago, and stays so: nothing is started on it.
    let port = boxauth_test_support::free_port();
    for url in [
        format!("redis://127.0.0.1:{port}/0"),
        format!("redis-cluster://127.0.0.1:{port}"),
        format!("redis-sentinel://127.0.0.1:{port}/boxauth"),
    ] {
        // Not a failover: nothing answers, so no wait (a minute would fail the test's timeout).
        let storage = RedisStorage::new(&url, NAMESPACE)
            .unwrap()
            .with_failover_wait(Duration::from_secs(60));
        let error = tokio::time::timeout(Duration::from_secs(30), storage.load())
            .await
            .expect("no failover wait when nothing answers")
            .unwrap_err();
        assert_eq!(
            kind(&error),
            Some(StorageErrorKind::Unreachable),
            "{url}: {error}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_slot_with_no_copy_left_is_failing_over_and_a_node_is_no_single_server() {
    let mut cluster = RedisCluster::start();
    let slot = cluster.slot(&format!("{{{NAMESPACE}}}:token"));
    let primary = cluster.primary_of(slot);
    let replica = cluster.replica_of(primary);

    // One node given as one server: it redirects, and the message says to use the cluster URL.
    let other = (0..cluster.nodes.len())
        .find(|i| *i != primary && cluster.nodes[*i].role().as_deref() == Some("master"))
        .unwrap();
    let error = RedisStorage::new(&cluster.nodes[other].url(), NAMESPACE)
        .unwrap()
        .load()
        .await
        .unwrap_err();
    assert_eq!(
        error.config_error_kind(),
        Some(ConfigErrorKind::Invalid),
        "{error}"
    );

    let storage = impatient(&cluster.url());
    storage.store(&token()).await.unwrap();
    cluster.nodes[primary].kill();
    cluster.nodes[replica].kill();
    let error = storage.load().await.unwrap_err();
    assert_eq!(kind(&error), Some(StorageErrorKind::FailingOver), "{error}");
    assert!(
        error.to_string().contains(&format!("slot {slot}")),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_primary_with_no_replica_left_is_failing_over_and_an_unknown_name_is_invalid() {
    let mut sentinel = RedisSentinel::start();
    let url = sentinel.url();
    let unknown = url.replace("/boxauth", "/no-such-master");
    let error = impatient(&unknown).load().await.unwrap_err();
    assert_eq!(
        error.config_error_kind(),
        Some(ConfigErrorKind::Invalid),
        "{error}"
    );

    let storage = impatient(&url);
    storage.store(&token()).await.unwrap();
    for node in &mut sentinel.data {
        node.kill();
    }
    let error = storage.load().await.unwrap_err();
    assert_eq!(kind(&error), Some(StorageErrorKind::FailingOver), "{error}");
}
