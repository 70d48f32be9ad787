//! One token file shared by many processes on one host: a refresh happens once, and a process
//! killed with SIGKILL in the middle of a refresh never leaves a spent refresh token behind.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use boxauth::{FileStorage, TokenStorage};
use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, EmulatorHandle, Grant,
};
use boxauth_test_support::emulator as emu;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::common;

/// `boxauth token get --oauth … --token-file <file>` against the emulator.
fn token_get(emulator: &EmulatorHandle, file: &Path, failpoint: Option<&str>) -> Command {
    let mut command = common::boxauth(None);
    command
        .args(["token", "get", "--oauth", "--client-id", ID, "--token-file"])
        .arg(file)
        .args([
            "--base-url",
            emulator.base_url(),
            "--oauth2-url",
            &emulator.oauth2_url(),
        ])
        .env("BOX_CLIENT_SECRET", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(point) = failpoint {
        command.env("BOXAUTH_FAILPOINT", point);
    }
    command
}

/// A token file of the test's own holding a fresh OAuth pair, its access token already expired:
/// the directory (removed on drop) and the file.
async fn expired_pair_file(emulator: &EmulatorHandle) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("box-token.json");
    let token = emu::oauth_pair(emulator).await;
    FileStorage::new(&file)
        .store(&emu::expired_on_the_system_clock(token))
        .await
        .unwrap();
    (dir, file)
}

/// Marks the token in `file` expired, keeping its refresh token.
async fn expire(file: &Path) {
    let storage = FileStorage::new(file);
    let mut token = storage.load().await.unwrap().unwrap();
    token.expires_at = SystemTime::now() - Duration::from_secs(1);
    storage.store(&token).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_at_expiry_refresh_once_and_all_end_with_the_same_token() {
    let emulator = emu::start().await;
    let (_dir, file) = expired_pair_file(&emulator).await;

    let children: Vec<Child> = (0..8)
        .map(|_| token_get(&emulator, &file, None).spawn().unwrap())
        .collect();
    let printed = common::printed_by(children).await;
    assert_eq!(
        emulator.stats().requests(Grant::RefreshToken),
        1,
        "exactly one refresh for eight processes"
    );
    assert!(printed.iter().all(|t| t == &printed[0]), "{printed:?}");
    assert_eq!(
        emu::users_me(&emulator, &printed[0], None).await.0,
        200,
        "the shared token is valid"
    );
    let stored = FileStorage::new(&file).load().await.unwrap().unwrap();
    assert_eq!(stored.access_token.secret(), printed[0]);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

/// Starts a process that stops at `failpoint`, waits until it is there, and kills it (SIGKILL).
async fn kill_at(emulator: &EmulatorHandle, file: &Path, failpoint: &str) {
    let mut child = token_get(emulator, file, Some(failpoint)).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let reached = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains(&format!("failpoint {failpoint} reached")) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(reached, Ok(true), "the process never reached {failpoint}");
    child.start_kill().unwrap(); // SIGKILL
    let status = child.wait().await.unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_kills_mid_refresh_never_leave_a_spent_refresh_token() {
    let emulator = emu::start().await;
    let (_dir, file) = expired_pair_file(&emulator).await;
    // Where a refresh can be interrupted: holding the lock before asking Box; after the new token
    // is journaled but before it replaces the file; after it replaced the file.
    let points = [
        "token_manager::before_fetch",
        "file_storage::journal_written",
        "file_storage::renamed",
    ];
    for round in 0..50 {
        let point = points[round % points.len()];
        kill_at(&emulator, &file, point).await;
        let out = token_get(&emulator, &file, None).output().await.unwrap();
        assert!(
            out.status.success(),
            "round {round}, killed at {point}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        assert_eq!(
            emu::users_me(&emulator, &token, None).await.0,
            200,
            "round {round}"
        );
        assert!(
            !file.with_extension("json.pending").exists(),
            "round {round}: no journal left behind"
        );
        expire(&file).await;
    }
    assert_eq!(
        emulator.stats().refresh_token_reuses,
        0,
        "no spent refresh token was ever sent again"
    );
    // Killed before Box was asked: no refresh; killed after journaling or renaming: the refresh
    // reached Box and its result survived. Either way one refresh per round at most.
    assert!(emulator.stats().requests(Grant::RefreshToken) <= 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_boxs_answer_and_the_journal_loses_the_rotation_and_says_so() {
    // The one window no client can close: Box has spent the old refresh token and the new one dies
    // with the process before it reaches the disk. The next process must say what to do.
    let emulator = emu::start().await;
    let (_dir, file) = expired_pair_file(&emulator).await;
    kill_at(&emulator, &file, "token_manager::after_fetch").await;
    let out = token_get(&emulator, &file, None).output().await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Box refused the refresh token"), "{stderr}");
    assert!(
        stderr.contains("caused by: Box answered HTTP 400: invalid_grant"),
        "Box's refusal, with its request id, is printed once as the cause: {stderr}"
    );
    assert!(
        stderr.contains("hint: log in again: boxauth login"),
        "{stderr}"
    );
}
