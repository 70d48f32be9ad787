//! The refresh protocol on a bad day, on the emulator's clock (Box and boxauth move together; no
//! test sleeps for an expiry): callers holding a valid token never wait for a refresh, a failed
//! refresh backs off, callers without a token share one attempt and its error, and when Box comes
//! back one refresh serves everyone.

use std::sync::Arc;
use std::time::Duration;

use boxauth::{
    AuthOptions, Authentication, CcgAuth, CcgConfig, NetworkSession, ProxyConfig, RetryPolicy,
    StoredToken,
};
use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID,
    EmulatorHandle, Fault, Grant,
};
use boxauth_test_support::emulator as emu;

const CALLERS: usize = 100;
/// Each refresh attempt is 3 requests: the first, and two retries after 400 ms and 800 ms.
const REQUESTS_PER_ATTEMPT: u64 = 3;

/// A CCG auth on the emulator's clock whose session retries 5xx twice, 400 ms apart and more:
/// one refresh attempt against a failing Box lasts over a second.
fn auth(emulator: &EmulatorHandle, margin: Duration) -> CcgAuth {
    auth_with(
        emulator,
        margin,
        RetryPolicy::default()
            .max_attempts(3)
            .base_delay(Duration::from_millis(400))
            .jitter(0.0),
    )
}

fn auth_with(emulator: &EmulatorHandle, margin: Duration, retries: RetryPolicy) -> CcgAuth {
    let session = NetworkSession::builder()
        .urls(emulator.urls())
        .proxy(ProxyConfig::None)
        .retry_policy(retries)
        .build()
        .unwrap();
    CcgAuth::with_options(
        CcgConfig::enterprise(ID, SECRET, DEFAULT_ENTERPRISE_ID),
        emu::options_for(emulator, AuthOptions::default())
            .session(session)
            .refresh_margin(margin)
            .refresh_backoff(Duration::from_secs(30)),
    )
    .unwrap()
}

/// `CALLERS` tasks released at once, each calling `retrieve_token()` once.
async fn stampede(auth: &CcgAuth) -> Vec<boxauth::Result<Arc<StoredToken>>> {
    let barrier = Arc::new(tokio::sync::Barrier::new(CALLERS));
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (auth, barrier) = (auth.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                auth.retrieve_token().await
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(CALLERS);
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes
}

fn all_got(outcomes: &[boxauth::Result<Arc<StoredToken>>], token: &StoredToken) -> bool {
    outcomes.iter().all(|o| {
        o.as_ref()
            .is_ok_and(|t| t.has_access_token(&token.access_token))
    })
}

/// Requests that reached Box's token endpoint and were failed by it.
fn failed_requests(emulator: &EmulatorHandle) -> u64 {
    emulator.faults().injected()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_the_margin_every_caller_gets_the_valid_token_while_one_refresh_backs_off() {
    let emulator = emu::start().await;
    let auth = auth(&emulator, Duration::from_secs(600));
    let first = auth.retrieve_token().await.unwrap();
    // 500 s left: inside the 600 s margin, far from expiry.
    emulator.clock().advance(Duration::from_secs(3600 - 500));
    emulator.faults().set_rate(1.0, vec![Fault::Status(503)]);

    let outcomes = stampede(&auth).await;
    assert!(
        all_got(&outcomes, &first),
        "every caller got the valid token"
    );
    let seen = failed_requests(&emulator);
    assert!(
        seen < REQUESTS_PER_ATTEMPT,
        "all {CALLERS} callers returned while the one refresh was still retrying ({seen} requests so far)"
    );
    // Join that refresh (a forced refresh joins the one in flight) to see how it ended.
    let error = auth.refresh_token().await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(failed_requests(&emulator), REQUESTS_PER_ATTEMPT);

    // Within the back-off (at least 30 s; jittered up to 45 s): no new attempt, the token keeps
    // coming.
    for advance in [10, 10, 9] {
        emulator.clock().advance(Duration::from_secs(advance));
        let outcomes = stampede(&auth).await;
        assert!(all_got(&outcomes, &first));
    }
    tokio::task::yield_now().await;
    assert_eq!(
        failed_requests(&emulator),
        REQUESTS_PER_ATTEMPT,
        "no attempt in the 29 s after a failure"
    );

    // 46 s after the failure: the back-off is over, one more attempt, nobody waits for it.
    emulator.clock().advance(Duration::from_secs(17));
    let outcomes = stampede(&auth).await;
    assert!(all_got(&outcomes, &first));
    assert!(failed_requests(&emulator) < 2 * REQUESTS_PER_ATTEMPT);
    assert_eq!(auth.refresh_token().await.unwrap_err().status(), Some(503));
    assert_eq!(
        failed_requests(&emulator),
        2 * REQUESTS_PER_ATTEMPT,
        "one attempt (its retries included) per back-off interval"
    );

    // Box comes back; after the back-off one refresh replaces the token for everyone.
    emulator.faults().clear();
    emulator.clock().advance(Duration::from_secs(46));
    let issued = emulator.stats().issued(Grant::ClientCredentials);
    let outcomes = stampede(&auth).await;
    assert!(outcomes.iter().all(Result::is_ok));
    let fresh = emu::refreshed(&auth).await;
    assert!(!fresh.has_access_token(&first.access_token));
    assert_eq!(
        emulator.stats().issued(Grant::ClientCredentials) - issued,
        1
    );
    let outcomes = stampede(&auth).await;
    assert!(all_got(&outcomes, &fresh), "everyone gets the new token");
    assert_eq!(
        emulator.stats().issued(Grant::ClientCredentials) - issued,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_callers_share_one_attempt_and_its_error_then_one_refresh_when_box_is_back() {
    let emulator = emu::start().await;
    let auth = auth(&emulator, Duration::from_secs(60));
    let first = auth.retrieve_token().await.unwrap();
    emulator.clock().advance(Duration::from_secs(3601));
    emulator.faults().set_rate(1.0, vec![Fault::Status(503)]);

    let outcomes = stampede(&auth).await;
    assert!(
        outcomes
            .iter()
            .all(|o| o.as_ref().is_err_and(|e| e.status() == Some(503))),
        "every caller got the attempt's error"
    );
    assert_eq!(
        failed_requests(&emulator),
        REQUESTS_PER_ATTEMPT,
        "{CALLERS} callers, one attempt"
    );

    // Right after: the same error at once, no new attempt.
    let outcomes = stampede(&auth).await;
    assert!(
        outcomes
            .iter()
            .all(|o| o.as_ref().is_err_and(|e| e.status() == Some(503)))
    );
    assert_eq!(failed_requests(&emulator), REQUESTS_PER_ATTEMPT);

    // Box comes back; once the short wait without a token is over (1 s, jittered up to 1.5 s),
    // the next callers share one refresh.
    emulator.faults().clear();
    emulator.clock().advance(Duration::from_secs(2));
    let issued = emulator.stats().issued(Grant::ClientCredentials);
    let outcomes = stampede(&auth).await;
    let fresh = outcomes[0].as_ref().unwrap().clone();
    assert!(!fresh.has_access_token(&first.access_token));
    assert!(all_got(&outcomes, &fresh), "everyone gets the new token");
    assert_eq!(
        emulator.stats().issued(Grant::ClientCredentials) - issued,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_repeated_failures_wait_longer_each_time_up_to_the_back_off() {
    let emulator = emu::start().await;
    let auth = auth_with(&emulator, Duration::from_secs(60), RetryPolicy::none());
    emulator.faults().set_rate(1.0, vec![Fault::Status(503)]);
    let mut attempts_started = Vec::new();
    // One caller every 500 ms of emulator time for 60 s: attempts at 0, ~1, ~3, ~7, ~15, ~31 s…
    for step in 0..120 {
        let before = failed_requests(&emulator);
        assert_eq!(auth.retrieve_token().await.unwrap_err().status(), Some(503));
        if failed_requests(&emulator) > before {
            attempts_started.push(step);
        }
        emulator.clock().advance(Duration::from_millis(500));
    }
    assert!(
        (5..=7).contains(&attempts_started.len()),
        "a minute of failures took {} attempts, at steps {attempts_started:?}",
        attempts_started.len()
    );
    let gaps: Vec<_> = attempts_started.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.windows(2).all(|g| g[1] >= g[0]),
        "the waits grow: {gaps:?}"
    );
}

#[tokio::test]
async fn retry_after_from_box_lengthens_the_back_off() {
    let emulator = emu::start().await;
    let auth = auth(&emulator, Duration::from_secs(600));
    let first = auth.retrieve_token().await.unwrap();
    emulator.clock().advance(Duration::from_secs(3600 - 500));
    // Box asks for 120 s, more than the session waits between its retries (max_delay 60 s): the
    // 429 ends the attempt, and the back-off takes the 120 s.
    emulator.faults().set_rate(
        1.0,
        vec![Fault::TooManyRequests {
            retry_after_secs: 120,
        }],
    );
    assert_eq!(auth.refresh_token().await.unwrap_err().status(), Some(429));
    assert_eq!(failed_requests(&emulator), 1);
    emulator.clock().advance(Duration::from_secs(100));
    assert!(
        auth.retrieve_token()
            .await
            .unwrap()
            .has_access_token(&first.access_token)
    );
    tokio::task::yield_now().await;
    assert_eq!(failed_requests(&emulator), 1, "not before Box's 120 s");
    emulator.faults().clear();
    emulator.clock().advance(Duration::from_secs(21));
    auth.retrieve_token().await.unwrap();
    let fresh = emu::refreshed(&auth).await;
    assert!(!fresh.has_access_token(&first.access_token));
}
