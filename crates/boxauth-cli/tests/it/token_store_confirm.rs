//! Before a `token` command exits, a token its Redis store has not confirmed (no replica
//! acknowledged the write) is written again until one does: a primary and a replica behind
//! Sentinel, the replica frozen (SIGSTOP) so `WAIT` gets no answer.

use std::process::Stdio;
use std::time::Duration;

use crate::common;
use boxauth::TokenStorage;
use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID, Grant,
};
use boxauth_test_support::emulator as emu;
use boxauth_test_support::redis_fleet::RedisSentinel;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

const OAUTH_NAMESPACE: &str = "boxauth:boxauthemulatorclientid000000001:oauth";

/// `token get` for the OAuth identity kept behind `sentinel`.
fn token_get(
    sentinel: &RedisSentinel,
    emulator: &boxauth_emulator::EmulatorHandle,
    dir: &std::path::Path,
    extra: &[&str],
) -> tokio::process::Command {
    let mut command = common::boxauth(Some(dir));
    command
        .args(["token", "get", "--client-id", ID, "--token-store"])
        .arg(sentinel.url())
        .args(["--base-url", emulator.base_url(), "--oauth2-url"])
        .arg(emulator.oauth2_url())
        .args(extra)
        .env("BOX_CLIENT_SECRET", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// The access token the node at `index` holds under `namespace`.
fn held(sentinel: &RedisSentinel, index: usize, namespace: &str) -> Option<String> {
    let json: Option<String> = sentinel.data[index]
        .query(redis::cmd("GET").arg(format!("{{{namespace}}}:token")))
        .unwrap();
    json.map(|json| {
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        value["access_token"].as_str().unwrap().to_owned()
    })
}

/// An expired OAuth pair behind `sentinel`, confirmed by the replica; then the replica frozen.
async fn expired_pair_then_freeze(
    sentinel: &RedisSentinel,
    emulator: &boxauth_emulator::EmulatorHandle,
) -> usize {
    boxauth::RedisStorage::new(&sentinel.url(), OAUTH_NAMESPACE)
        .unwrap()
        .store(&emu::expired_on_the_system_clock(
            emu::oauth_pair(emulator).await,
        ))
        .await
        .unwrap();
    let replica = 1 - sentinel.primary();
    sentinel.data[replica].pause();
    replica
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oauth_refresh_no_replica_confirmed_waits_for_the_replica_and_exits_0() {
    let sentinel = RedisSentinel::start();
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let replica = expired_pair_then_freeze(&sentinel, &emulator).await;
    let mut child = token_get(&sentinel, &emulator, dir.path(), &["--oauth"])
        .spawn()
        .unwrap();
    // The token is printed once it is fetched and written; the confirmation comes after.
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let token = tokio::time::timeout(Duration::from_secs(60), stdout.next_line())
        .await
        .expect("the token was printed")
        .unwrap()
        .unwrap();
    assert_eq!(emulator.stats().requests(Grant::RefreshToken), 1);
    assert_eq!(
        held(&sentinel, sentinel.primary(), OAUTH_NAMESPACE),
        Some(token.clone())
    );
    sentinel.data[replica].resume();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("waiting up to 20 s"), "{stderr}");
    assert!(
        !stderr.contains("error") && !stderr.contains("warning"),
        "{stderr}"
    );
    assert_eq!(held(&sentinel, replica, OAUTH_NAMESPACE), Some(token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_never_comes_back_fails_an_oauth_run_and_warns_for_ccg() {
    let sentinel = RedisSentinel::start();
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    expired_pair_then_freeze(&sentinel, &emulator).await;
    let run = common::run(&mut token_get(
        &sentinel,
        &emulator,
        dir.path(),
        &["--oauth", "--confirm-wait", "2"],
    ))
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let token = run.stdout.trim();
    assert!(!token.is_empty(), "the valid token was printed");
    assert!(
        run.stderr.contains("not confirmed") && run.stderr.contains("refresh token"),
        "{}",
        run.stderr
    );
    assert_eq!(
        held(&sentinel, sentinel.primary(), OAUTH_NAMESPACE).as_deref(),
        Some(token),
        "the token is still in the primary"
    );

    // Client Credentials: no refresh token at stake, so a warning (even with --quiet) and 0.
    let mut ccg = token_get(
        &sentinel,
        &emulator,
        dir.path(),
        &["--ccg", "--enterprise-id", DEFAULT_ENTERPRISE_ID, "--quiet"],
    );
    let run = common::run(ccg.env("BOXAUTH_CONFIRM_WAIT", "1")).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.starts_with("warning:"), "{}", run.stderr);
    assert!(!run.stdout.trim().is_empty());
}
