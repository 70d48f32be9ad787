//! Helpers for this crate's integration tests.

#![allow(dead_code)]

use boxauth::{AuthorizationManager, BoxUrls, NetworkSession, ProxyConfig, RetryPolicy};
use boxauth_test_support::{RecordedRequest, RecordingServer};

/// A manager whose URLs all point at `server`, with `retry` as its policy.
pub fn manager_for(server: &RecordingServer, retry: RetryPolicy) -> AuthorizationManager {
    let base = server.url();
    let session = NetworkSession::builder()
        .urls(BoxUrls::new(&base, &format!("{base}/api/oauth2")).unwrap())
        .proxy(ProxyConfig::None)
        .retry_policy(retry)
        .build()
        .unwrap();
    AuthorizationManager::new(session)
}

/// Asserts that request `ours` has the method, path, query and content type of the Python SDK's
/// capture `theirs` (from `tests/fixtures/python_sdk_wire.json`); `name` names it in a failure.
pub fn assert_same_head_as_python(name: &str, ours: &RecordedRequest, theirs: &serde_json::Value) {
    assert_eq!(ours.method, theirs["method"], "{name}: method");
    assert_eq!(ours.path, theirs["path"], "{name}: path");
    assert_eq!(ours.query, theirs["query"], "{name}: query");
    assert_eq!(
        ours.header("content-type"),
        theirs["content_type"].as_str(),
        "{name}: content type"
    );
}

/// Retries with delays short enough for tests.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy::default().base_delay(std::time::Duration::from_millis(10))
}

/// Makes `command` (an example binary, or a command that runs one elsewhere) a test's child
/// process: no proxy for loopback, no failpoint inherited from the test's environment, its output
/// piped to the test, killed if the test drops it.
pub fn child_process(command: &mut tokio::process::Command) -> &mut tokio::process::Command {
    command
        .env("NO_PROXY", "*")
        .env_remove("BOXAUTH_FAILPOINT")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
}

/// The path of example `name`, built by `cargo test` next to the test binaries
/// (target/<profile>/examples/<name>).
pub fn example_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} was not built: cargo builds examples when `cargo test` runs without --test filters \
         (or run `cargo build -p boxauth --all-features --examples` first)",
        path.display()
    );
    path
}
