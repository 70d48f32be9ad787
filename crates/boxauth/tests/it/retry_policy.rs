//! Which answers are retried, how many times, and how long boxauth waits.

use crate::common;

use std::time::{Duration, Instant};

use boxauth::{Error, RequestAccessTokenArgs, RetryPolicy};
use boxauth_test_support::{RecordingServer, Reply};

const TOKEN: &str = r#"{"access_token":"T","expires_in":3600,"token_type":"bearer"}"#;

fn ccg() -> RequestAccessTokenArgs {
    RequestAccessTokenArgs::client_credentials(
        "cid",
        "secret",
        boxauth::RequestAccessTokenBoxSubjectType::Enterprise,
        "1",
    )
}

#[tokio::test]
async fn two_500s_then_200_succeeds_on_the_third_request() {
    let server = RecordingServer::start().await;
    server.script([
        Reply::json(500, "{}"),
        Reply::body(503, "text/html", "<html>down</html>"),
        Reply::json(200, TOKEN),
    ]);
    let manager = common::manager_for(&server, common::quick_retries());
    let token = manager.request_access_token(ccg()).await.unwrap();
    assert_eq!(token.access_token.unwrap().secret(), "T");
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests.iter().all(|r| r.body == requests[0].body),
        "each retry sends the same body"
    );
}

#[tokio::test]
async fn retry_after_one_second_is_waited_out() {
    let server = RecordingServer::start().await;
    server.script([
        Reply::json(
            429,
            r#"{"type":"error","status":429,"code":"rate_limit_exceeded"}"#,
        )
        .with_header("Retry-After", "1"),
        Reply::json(200, TOKEN),
    ]);
    let manager = common::manager_for(&server, common::quick_retries());
    manager.request_access_token(ccg()).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let waited = requests[1].received_at - requests[0].received_at;
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let server = RecordingServer::start().await;
    let (started, wall_clock) = (Instant::now(), std::time::SystemTime::now());
    // The date has one-second resolution: it lies between one and two seconds ahead.
    let when = httpdate::fmt_http_date(wall_clock + Duration::from_secs(2));
    server.script([
        Reply::empty(429).with_header("Retry-After", &when),
        Reply::json(200, TOKEN),
    ]);
    let manager = common::manager_for(&server, common::quick_retries());
    manager.request_access_token(ccg()).await.unwrap();
    let requests = server.requests();
    // The retry comes at the date or after it, however late the first request was (a busy
    // machine delays both alike); without the header it would follow within milliseconds.
    let retried_at = wall_clock + (requests[1].received_at - started);
    let date = httpdate::parse_http_date(&when).unwrap();
    assert!(
        retried_at >= date,
        "retried {:?} before the date",
        date.duration_since(retried_at).unwrap_or_default()
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_returned_not_slept() {
    let server = RecordingServer::start().await;
    server.script([Reply::empty(429).with_header("Retry-After", "3600")]);
    let policy = common::quick_retries().max_delay(Duration::from_secs(5));
    let manager = common::manager_for(&server, policy);
    let error = manager.request_access_token(ccg()).await.unwrap_err();
    // Waiting (the full hour, or the 5 s cap) would have been followed by a second request: there
    // is exactly one, and its 429 comes back with the server's Retry-After for the caller to act on.
    let api = error.as_api().unwrap();
    assert_eq!(
        (api.status, api.retry_after.as_deref()),
        (429, Some("3600"))
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn invalid_grant_is_sent_exactly_once() {
    let server = RecordingServer::start().await;
    server.set_fallback(Reply::json(
        400,
        r#"{"error":"invalid_grant","error_description":"Invalid refresh token"}"#,
    ));
    let manager = common::manager_for(&server, common::quick_retries());
    let error = manager.request_access_token(ccg()).await.unwrap_err();
    assert!(error.as_api().unwrap().is("invalid_grant"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    let server = RecordingServer::start().await;
    server.script([Reply::Drop, Reply::json(200, TOKEN)]);
    let manager = common::manager_for(&server, common::quick_retries());
    manager.request_access_token(ccg()).await.unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn attempts_stop_at_the_maximum_and_the_last_answer_is_returned() {
    let server = RecordingServer::start().await;
    server.set_fallback(Reply::json(503, r#"{"error":"temporarily_unavailable"}"#));
    let manager = common::manager_for(&server, common::quick_retries());
    let error = manager.request_access_token(ccg()).await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(server.requests().len(), 5, "the default is 5 attempts");

    let server = RecordingServer::start().await;
    server.set_fallback(Reply::Drop);
    let manager = common::manager_for(&server, common::quick_retries().max_attempts(2));
    let error = manager.request_access_token(ccg()).await.unwrap_err();
    assert!(matches!(error, Error::Network(_)), "{error:?}");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn backoff_grows_between_attempts() {
    let server = RecordingServer::start().await;
    server.script([
        Reply::empty(500),
        Reply::empty(500),
        Reply::empty(500),
        Reply::json(200, TOKEN),
    ]);
    let policy = RetryPolicy::default()
        .base_delay(Duration::from_millis(100))
        .jitter(0.0);
    let manager = common::manager_for(&server, policy);
    manager.request_access_token(ccg()).await.unwrap();
    let at: Vec<Instant> = server.requests().iter().map(|r| r.received_at).collect();
    let gaps: Vec<Duration> = at.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps[0] >= Duration::from_millis(100), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(200), "{gaps:?}");
    assert!(gaps[2] >= Duration::from_millis(400), "{gaps:?}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = RecordingServer::start().await;
    server.script([Reply::empty(302).with_header("Location", "http://127.0.0.1:1/elsewhere")]);
    let manager = common::manager_for(&server, common::quick_retries());
    let error = manager.request_access_token(ccg()).await.unwrap_err();
    assert_eq!(error.status(), Some(302));
    assert!(
        error
            .to_string()
            .contains("a redirect to http://127.0.0.1:1/elsewhere"),
        "{error}"
    );
    assert_eq!(server.requests().len(), 1);
}
