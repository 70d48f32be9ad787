//! `[flush]` with a real primary and replica: a refresh whose write no replica confirmed (the
//! replica frozen with SIGSTOP) is served, reported unconfirmed by a flush while the replica
//! stays away, and confirmed by a flush that the replica's return lets through.

#![cfg(feature = "redis")]

use std::time::Duration;

use boxauth::TokenStorage;
use boxauth::{AuthOptions, Authentication, OAuth, OAuthConfig, RedisStorage, StorageErrorKind};
use boxauth_emulator::{DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, Grant};
use boxauth_test_support::emulator as emu;
use boxauth_test_support::redis_fleet::Node;

const NAMESPACE: &str = "boxauth:test:flush";

fn token_on(node: &Node) -> Option<String> {
    let json: Option<String> = node
        .query(redis::cmd("GET").arg(format!("{{{NAMESPACE}}}:token")))
        .unwrap();
    json.map(|json| {
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        value["access_token"].as_str().unwrap().to_owned()
    })
}

/// A primary, its replica, and storage on the primary that waits up to 300 ms for the replica
/// to confirm each write.
fn replicated() -> (Node, Node, RedisStorage) {
    let primary = Node::server(&[]);
    let replica = Node::replica_of(&primary);
    let storage = RedisStorage::new(&primary.url(), NAMESPACE)
        .unwrap()
        .with_replicas(1, Duration::from_millis(300));
    (primary, replica, storage)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unconfirmed_refresh_token_is_reported_then_confirmed_once_the_replica_is_back() {
    let (primary, replica, storage) = replicated();
    let emulator = emu::start().await;
    storage
        .clone()
        .with_replicas(0, Duration::ZERO)
        .store(&emu::expired_on_the_system_clock(
            emu::oauth_pair(&emulator).await,
        ))
        .await
        .unwrap();
    let auth = OAuth::with_options(
        OAuthConfig::new(ID, SECRET),
        AuthOptions::default()
            .session(emu::session(&emulator))
            .storage(storage),
    )
    .unwrap();
    assert!(
        auth.flush(Duration::from_secs(5)).await.is_ok(),
        "nothing to confirm yet"
    );

    replica.pause();
    let token = auth.retrieve_token().await.unwrap();
    let fresh = token.access_token.secret();
    assert_eq!(emulator.stats().requests(Grant::RefreshToken), 1);
    assert_eq!(
        token_on(&primary).as_deref(),
        Some(fresh),
        "the primary took it"
    );

    let unconfirmed = auth.flush(Duration::from_secs(1)).await.unwrap_err();
    let lock: bool = primary
        .query(redis::cmd("EXISTS").arg(format!("{{{NAMESPACE}}}:lock")))
        .unwrap();
    assert!(
        !lock,
        "the flush released the refresh lock before it returned"
    );
    assert!(unconfirmed.holds_refresh_token());
    assert_eq!(
        unconfirmed.error().storage_error_kind(),
        Some(StorageErrorKind::NotReplicated),
        "{unconfirmed}"
    );
    assert_eq!(
        boxauth::Error::from(unconfirmed).storage_error_kind(),
        Some(StorageErrorKind::NotReplicated)
    );

    // A flush under way while the replica comes back: it goes on until the replica confirms.
    let flush = {
        let auth = auth.clone();
        tokio::spawn(async move { auth.flush(Duration::from_secs(30)).await })
    };
    replica.resume();
    flush.await.unwrap().unwrap();
    assert_eq!(token_on(&replica).as_deref(), Some(fresh));
    assert!(auth.flush(Duration::ZERO).await.is_ok(), "nothing left");
    assert_eq!(emulator.stats().requests(Grant::RefreshToken), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_a_refresh_token_is_reported_as_such() {
    let (primary, replica, storage) = replicated();
    let emulator = emu::start().await;
    let auth = emu::ccg_auth(&emulator, AuthOptions::default().storage(storage));
    replica.pause();
    auth.retrieve_token().await.unwrap();
    let unconfirmed = auth.flush(Duration::ZERO).await.unwrap_err();
    assert!(!unconfirmed.holds_refresh_token(), "{unconfirmed}");
    replica.resume();

    // Revoked and forgotten, it is not brought back into storage.
    auth.revoke_token().await.unwrap();
    assert!(auth.flush(Duration::ZERO).await.is_ok(), "nothing left");
    assert!(token_on(&primary).is_none());
}
