//! `rediss://`: RedisStorage over TLS to a real redis-server whose certificate a test CA signed.
//! The certificate is checked: an unknown CA and a name the certificate does not carry are refused.

#![cfg(feature = "redis")]

use std::time::Duration;

use boxauth::{Authentication, ConfigErrorKind, RedisStorage, StorageErrorKind, TokenStorage};
use boxauth_emulator::Grant;
use boxauth_test_support::emulator as emu;
use boxauth_test_support::redis::{RedisServer, tls_fixture};

fn secret(token: &boxauth::StoredToken) -> &str {
    token.access_token.secret()
}

fn test_ca() -> Vec<u8> {
    std::fs::read(tls_fixture("ca.pem")).unwrap()
}

#[tokio::test]
async fn tokens_are_kept_and_shared_over_tls() {
    let redis = RedisServer::start_tls();
    let emulator = emu::start().await;
    for host in ["127.0.0.1", "localhost"] {
        let namespace = format!("boxauth:test:tls:{host}");
        let storage = RedisStorage::new(&redis.tls_url(host), &namespace)
            .unwrap()
            .with_root_certificates(&test_ca())
            .unwrap();
        let first = emu::ccg_stored(&emulator, storage.clone(), Duration::from_secs(60));
        let token = first.retrieve_token().await.unwrap();
        assert_eq!(
            redis
                .command(&format!("EXISTS {{{namespace}}}:token"))
                .as_deref(),
            Some(":1"),
            "{host}: the token went to Redis through its TLS port"
        );
        // Another process (a new auth, the same Redis) takes it from there.
        let before = emulator.stats().requests(Grant::ClientCredentials);
        let second = emu::ccg_stored(&emulator, storage.clone(), Duration::from_secs(60));
        let again = second.retrieve_token().await.unwrap();
        assert_eq!(secret(&again), secret(&token));
        assert_eq!(
            emulator.stats().requests(Grant::ClientCredentials),
            before,
            "{host}: no second token was asked for"
        );
        // The lock works over TLS too, waking a waiter by pub/sub.
        let held = storage.lock().await.unwrap();
        let waiter = tokio::spawn({
            let storage = storage.clone();
            async move { storage.lock().await.unwrap().release().await.unwrap() }
        });
        held.release().await.unwrap();
        tokio::time::timeout(Duration::from_secs(30), waiter)
            .await
            .expect("the waiter was woken")
            .unwrap();
    }
}

/// The refusal, with its causes (rustls says why in the `source()` chain).
async fn refusal(storage: RedisStorage) -> String {
    let error = storage.load().await.unwrap_err();
    assert_eq!(
        error.storage_error_kind(),
        Some(StorageErrorKind::UntrustedCertificate),
        "{error:?}"
    );
    error.report()
}

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_is_refused() {
    let redis = RedisServer::start_tls();
    // The system's trust store does not hold the test CA.
    let storage = RedisStorage::new(&redis.tls_url("127.0.0.1"), "boxauth:test:tls").unwrap();
    let message = refusal(storage).await;
    assert!(
        message.contains("UnknownIssuer") && message.contains("with_root_certificates"),
        "{message}"
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let redis = RedisServer::start_tls();
    // The same server, reached by an address its certificate does not name.
    let storage = RedisStorage::new(&redis.tls_url("127.0.0.2"), "boxauth:test:tls")
        .unwrap()
        .with_root_certificates(&test_ca())
        .unwrap();
    let message = refusal(storage).await;
    assert!(
        message.contains("not valid for name \"127.0.0.2\""),
        "the cause says why: {message}"
    );
}

#[test]
fn a_ca_is_only_taken_for_tls_and_only_if_it_is_a_certificate() {
    let plain = RedisStorage::new("redis://:hunter2@127.0.0.1:1/0", "ns")
        .unwrap()
        .with_root_certificates(&test_ca())
        .unwrap_err();
    assert_eq!(plain.config_error_kind(), Some(ConfigErrorKind::Invalid));
    let plain = plain.to_string();
    assert!(
        plain.contains("rediss://") && !plain.contains("hunter2"),
        "{plain}"
    );
    let tls = || RedisStorage::new("rediss://127.0.0.1:1/0", "ns").unwrap();
    for (given, says) in [
        (&b"not a certificate"[..], "holds no certificate"),
        (
            &std::fs::read(tls_fixture("server.key")).unwrap()[..],
            "holds no certificate",
        ),
        (
            &b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"[..],
            "not valid PEM",
        ),
    ] {
        let error = tls().with_root_certificates(given).unwrap_err();
        assert_eq!(error.config_error_kind(), Some(ConfigErrorKind::Invalid));
        let message = error.to_string();
        assert!(message.contains(says), "{message}");
        assert!(!message.contains("PRIVATE KEY"), "{message}");
    }
}
