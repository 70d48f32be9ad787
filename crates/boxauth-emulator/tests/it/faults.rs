//! Fault injection: scripted and rate-based 429s, 5xx, latency and dropped connections, and the
//! library's retries riding through them.

use std::time::{Duration, Instant};

use boxauth::{
    AuthorizationManager, NetworkSession, ProxyConfig, RequestAccessTokenArgs, RetryPolicy,
};
use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID,
    EmulatorHandle, Fault, Grant,
};
use boxauth_test_support::emulator as emu;

fn ccg() -> RequestAccessTokenArgs {
    RequestAccessTokenArgs::client_credentials(
        ID,
        SECRET,
        boxauth::RequestAccessTokenBoxSubjectType::Enterprise,
        DEFAULT_ENTERPRISE_ID,
    )
}

fn retrying(emulator: &EmulatorHandle) -> AuthorizationManager {
    let session = NetworkSession::builder()
        .urls(emulator.urls())
        .proxy(ProxyConfig::None)
        .retry_policy(RetryPolicy::default().base_delay(Duration::from_millis(10)))
        .build()
        .unwrap();
    AuthorizationManager::new(session)
}

#[tokio::test]
async fn a_script_of_429_5xx_and_a_drop_is_ridden_out_by_retries() {
    let emulator = emu::start().await;
    emulator.faults().script([
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        Fault::Status(502),
        Fault::Drop,
        Fault::Status(503),
    ]);
    let started = Instant::now();
    let token = retrying(&emulator)
        .request_access_token(ccg())
        .await
        .unwrap();
    assert!(token.access_token.is_some());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(emulator.faults().injected(), 4);
    assert_eq!(
        emulator.stats().requests(Grant::ClientCredentials),
        1,
        "only the fifth request reached the grant"
    );
}

#[tokio::test]
async fn a_429_carries_retry_after_and_boxs_rate_limit_body() {
    let emulator = emu::start().await;
    emulator.faults().script([Fault::TooManyRequests {
        retry_after_secs: 7,
    }]);
    let error = emu::manager(&emulator)
        .request_access_token(ccg())
        .await
        .unwrap_err();
    let api = error.as_api().unwrap();
    assert_eq!(
        (api.status, api.retry_after.as_deref(), api.error.as_deref()),
        (429, Some("7"), Some("rate_limit_exceeded"))
    );
    // Stamped like every answer of Box's: a request ID to quote, and the server's clock.
    assert!(
        api.request_id.as_deref().is_some_and(|id| id.len() == 16),
        "{api:?}"
    );
    assert!(api.date.is_some(), "{api:?}");
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let emulator = emu::start().await;
    emulator
        .faults()
        .script([Fault::Latency(Duration::from_millis(300))]);
    let started = Instant::now();
    emu::manager(&emulator)
        .request_access_token(ccg())
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_dropped_connection_gives_no_answer() {
    let emulator = emu::start().await;
    emulator.faults().script([Fault::Drop]);
    let error = emu::manager(&emulator)
        .request_access_token(ccg())
        .await
        .unwrap_err();
    assert!(matches!(error, boxauth::Error::Network(_)), "{error:?}");
}

#[tokio::test]
async fn a_rate_of_one_faults_every_request_and_zero_none() {
    let emulator = emu::start().await;
    emulator.faults().set_rate(1.0, vec![Fault::Status(500)]);
    for _ in 0..5 {
        assert_eq!(
            emu::manager(&emulator)
                .request_access_token(ccg())
                .await
                .unwrap_err()
                .status(),
            Some(500)
        );
    }
    emulator.faults().set_rate(0.0, vec![Fault::Status(500)]);
    emu::manager(&emulator)
        .request_access_token(ccg())
        .await
        .unwrap();
    assert_eq!(emulator.faults().injected(), 5);
}
