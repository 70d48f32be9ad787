//! RedisStorage against a real redis-server started by the test: the lock, its owner checks, the
//! pub/sub wake-up, the local fast path, and what happens when Redis goes away and comes back.

#![cfg(feature = "redis")]

use std::time::{Duration, Instant, UNIX_EPOCH};

use boxauth::{Authentication, RedisStorage, StorageErrorKind, StoredToken, TokenStorage};
use boxauth_emulator::Grant;
use boxauth_test_support::emulator as emu;
use boxauth_test_support::redis::RedisServer;
use boxauth_test_support::redis_fleet::Node;

fn token(value: &str) -> StoredToken {
    let mut token = StoredToken::new(value, UNIX_EPOCH + Duration::from_secs(4_000_000_000))
        .with_refresh_token("R");
    token.expires_in = Some(3600);
    token
}

fn secret(stored: Option<StoredToken>) -> String {
    stored.unwrap().access_token.secret().to_owned()
}

#[tokio::test]
async fn the_token_is_kept_as_json_under_the_identitys_namespace() {
    let redis = RedisServer::start();
    let storage = RedisStorage::new(&redis.url(), "boxauth:test:one").unwrap();
    assert!(storage.load().await.unwrap().is_none());
    storage.store(&token("T1")).await.unwrap();
    assert_eq!(secret(storage.load().await.unwrap()), "T1");
    let raw = redis.reply("GET {boxauth:test:one}:token");
    assert!(
        raw.contains("\"access_token\":\"T1\"") && raw.contains("\"expires_at\":4000000000"),
        "{raw}"
    );
    let other = RedisStorage::new(&redis.url(), "boxauth:test:two").unwrap();
    assert!(
        other.load().await.unwrap().is_none(),
        "namespaces do not mix"
    );
    storage.clear().await.unwrap();
    assert!(storage.load().await.unwrap().is_none());
    assert_eq!(
        redis.command("EXISTS {boxauth:test:one}:lock").as_deref(),
        Some(":0"),
        "the lock was released"
    );
}

#[tokio::test]
async fn the_lock_is_exclusive_and_only_its_owner_releases_it() {
    let redis = RedisServer::start();
    let storage = RedisStorage::new(&redis.url(), "boxauth:test:lock").unwrap();
    let patient = storage
        .clone()
        .with_lock_timeout(Duration::from_millis(300));
    let mut held = storage.lock().await.unwrap();
    let refused = patient
        .lock()
        .await
        .err()
        .expect("a second holder must wait");
    assert_eq!(
        refused.storage_error_kind(),
        Some(StorageErrorKind::LockTimeout),
        "{refused}"
    );
    held.store(&token("mine")).await.unwrap();
    held.release().await.unwrap();
    let again = patient.lock().await.unwrap();
    again.release().await.unwrap();
    assert_eq!(secret(storage.load().await.unwrap()), "mine");
}

#[tokio::test]
async fn a_holder_that_outlived_its_lock_cannot_overwrite_a_newer_token() {
    let redis = RedisServer::start();
    let short = RedisStorage::new(&redis.url(), "boxauth:test:pause")
        .unwrap()
        .with_lock_ttl(Duration::from_millis(200));
    let mut paused = short.lock().await.unwrap();
    // A GC pause, a stopped VM…: the holder does nothing until Redis has expired its lock (on
    // Redis's clock, which the test cannot move, so it waits for Redis to say so).
    let started = Instant::now();
    while redis.command("PTTL {boxauth:test:pause}:lock").as_deref() != Some(":-2") {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "Redis never expired the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut newer = short.lock().await.unwrap();
    newer.store(&token("newer")).await.unwrap();
    let refused = paused.store(&token("stale")).await.unwrap_err();
    assert_eq!(
        refused.storage_error_kind(),
        Some(StorageErrorKind::LockLost),
        "{refused}"
    );
    newer.release().await.unwrap();
    paused.release().await.unwrap(); // not the owner any more: nothing happens
    assert_eq!(secret(short.load().await.unwrap()), "newer");
}

#[tokio::test]
async fn a_waiter_is_woken_by_the_release_without_polling() {
    let redis = RedisServer::start();
    // A lock that would only expire after a minute: a waiter relying on the expiry would hang.
    let storage = RedisStorage::new(&redis.url(), "boxauth:test:wake")
        .unwrap()
        .with_lock_ttl(Duration::from_secs(60));
    let held = storage.lock().await.unwrap();
    let waiter = {
        let storage = storage.clone();
        tokio::spawn(async move {
            let lock = storage.lock().await.unwrap();
            lock.release().await.unwrap();
            Instant::now()
        })
    };
    let started = Instant::now();
    while redis.subscribers("{boxauth:test:wake}:changed") < 1 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the waiter never subscribed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // What is measured is a rate, so time passes here: the commands Redis gets in 700 ms while
    // the waiter waits (its retry and PTTL right after subscribing at most).
    let before = redis.commands_processed();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let during = redis.commands_processed() - before;
    assert!(
        during <= 3,
        "the waiter polled Redis while it waited: {during} commands in 700 ms"
    );
    let released = Instant::now();
    held.release().await.unwrap();
    let woken = tokio::time::timeout(Duration::from_secs(30), waiter)
        .await
        .expect("woken by the release")
        .unwrap();
    assert!(woken >= released);
}

#[tokio::test]
async fn a_valid_token_is_served_from_memory_with_no_redis_round_trip() {
    let redis = RedisServer::start();
    let emulator = emu::start().await;
    let auth = emu::ccg_stored(
        &emulator,
        RedisStorage::new(&redis.url(), "boxauth:test:fast").unwrap(),
        Duration::from_secs(60),
    );
    auth.retrieve_token().await.unwrap();
    let before = redis.commands_processed();
    for _ in 0..1000 {
        auth.retrieve_token().await.unwrap();
    }
    assert_eq!(
        redis.commands_processed() - before,
        1,
        "only the INFO query itself"
    );
}

#[tokio::test]
async fn without_redis_a_valid_token_is_still_served_a_refresh_says_why_and_it_recovers() {
    let mut redis = RedisServer::start();
    let emulator = emu::start().await;
    let storage = RedisStorage::new(&redis.url(), "boxauth:test:down").unwrap();
    let auth = emu::ccg_stored(&emulator, storage.clone(), Duration::from_secs(60));
    let first = auth.retrieve_token().await.unwrap();
    redis.stop();

    // Inside the margin, Redis down: the valid token at once; the background refresh fails.
    emulator.clock().advance(Duration::from_secs(3600 - 30));
    let still = auth.retrieve_token().await.unwrap();
    assert_eq!(still.access_token.secret(), first.access_token.secret());
    let error = auth.refresh_token().await.unwrap_err();
    assert_eq!(
        error.storage_error_kind(),
        Some(StorageErrorKind::Unreachable)
    );
    let message = error.to_string();
    assert!(
        message.contains("Redis at redis://127.0.0.1"),
        "the error names the store: {message}"
    );
    assert!(
        std::error::Error::source(&error).is_some(),
        "the Redis client's error is the cause"
    );
    let cold = emu::ccg_stored(
        &emulator,
        RedisStorage::new(&redis.url(), "boxauth:test:down").unwrap(),
        Duration::from_secs(60),
    );
    assert!(
        matches!(
            cold.retrieve_token().await.unwrap_err(),
            boxauth::Error::Storage(_)
        ),
        "nothing cached: a clear error"
    );

    redis.restart();
    let before = emulator.stats().requests(Grant::ClientCredentials);
    let mut recovered = None;
    for _ in 0..50 {
        if let Ok(token) = auth.refresh_token().await {
            recovered = Some(token);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered = recovered.expect("the connection came back on its own");
    assert_eq!(
        emulator.stats().requests(Grant::ClientCredentials) - before,
        1
    );
    assert_eq!(
        secret(storage.load().await.unwrap()),
        recovered.access_token.secret()
    );
}

#[tokio::test]
async fn a_restarted_redis_still_has_the_token() {
    let mut redis = RedisServer::start();
    let storage = RedisStorage::new(&redis.url(), "boxauth:test:restart").unwrap();
    storage.store(&token("durable")).await.unwrap();
    redis.restart();
    // The connection open before the restart is dead; the first call after it is answered on a
    // new one, not failed: a fleet whose token expires then must not see an error.
    assert_eq!(secret(storage.load().await.unwrap()), "durable");
    storage.store(&token("after")).await.unwrap();
    // Down for good: said at once, on the one retry.
    redis.stop();
    let error = storage.load().await.unwrap_err();
    assert!(
        matches!(&error, boxauth::Error::Storage(e) if e.kind() == StorageErrorKind::Unreachable),
        "{error}"
    );
}

#[tokio::test]
async fn a_redis_that_refuses_wait_says_what_to_do_and_the_new_token_is_still_served() {
    let redis = Node::server(&["--rename-command", "WAIT", ""]);
    let storage = RedisStorage::new(&redis.url(), "boxauth:test:nowait")
        .unwrap()
        .with_replicas(1, Duration::from_millis(100));
    let error = storage.store(&token("T1")).await.unwrap_err();
    assert!(
        matches!(&error, boxauth::Error::Storage(e) if e.kind() == StorageErrorKind::NotReplicated),
        "{error}"
    );
    assert!(error.to_string().contains("with_replicas(0"), "{error}");
    // The write itself went through, and a refresh's token is served, not thrown away.
    assert_eq!(secret(storage.load().await.unwrap()), "T1");
    let emulator = emu::start().await;
    let auth = emu::ccg_stored(&emulator, storage.clone(), Duration::from_secs(60));
    let fresh = auth.refresh_token().await.unwrap();
    assert_ne!(fresh.access_token.secret(), "T1");
    assert_eq!(
        secret(storage.load().await.unwrap()),
        fresh.access_token.secret()
    );
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 1);
}

#[test]
fn a_bad_url_or_namespace_is_refused_without_showing_the_password() {
    let error = RedisStorage::new("http://user:hunter2@example.com", "ns")
        .unwrap_err()
        .to_string();
    assert!(
        !error.contains("hunter2") && error.contains("redis://"),
        "{error}"
    );
    assert_eq!(
        RedisStorage::new("redis://127.0.0.1:1/0", "has space")
            .unwrap_err()
            .config_error_kind(),
        Some(boxauth::ConfigErrorKind::Invalid)
    );
    // The namespace is the keys' hash tag: a brace in it would split them across cluster slots.
    for braced in ["a{b", "a}b", "{ns}"] {
        let error = RedisStorage::new("redis://127.0.0.1:1/0", braced).unwrap_err();
        assert_eq!(
            error.config_error_kind(),
            Some(boxauth::ConfigErrorKind::Invalid)
        );
        assert!(error.to_string().contains("without braces"), "{error}");
    }
    for (url, says) in [
        ("redis-cluster://:hunter2@10.0.0.1", "has no port"),
        ("redis-sentinel://:hunter2@10.0.0.1:26379", "master's name"),
        ("rediss-cluster://:hunter2@h:7000/2", "only database 0"),
    ] {
        let error = RedisStorage::new(url, "ns").unwrap_err();
        assert_eq!(
            error.config_error_kind(),
            Some(boxauth::ConfigErrorKind::Invalid),
            "{url}"
        );
        let error = error.to_string();
        assert!(
            error.contains(says) && !error.contains("hunter2"),
            "{url}: {error}"
        );
    }
    let debug = format!(
        "{:?}",
        RedisStorage::new("redis://:hunter2@127.0.0.1:1/0", "ns").unwrap()
    );
    assert!(!debug.contains("hunter2"), "{debug}");
    for url in [
        "redis-cluster://:hunter2@127.0.0.1:1,127.0.0.1:2",
        "redis-sentinel://app:hunter2@127.0.0.1:1,127.0.0.1:2/mymaster",
    ] {
        let debug = format!("{:?}", RedisStorage::new(url, "ns").unwrap());
        assert!(
            !debug.contains("hunter2") && debug.contains(":***@127.0.0.1:1,127.0.0.1:2"),
            "{debug}"
        );
    }
}
