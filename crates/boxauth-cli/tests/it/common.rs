//! Running the `boxauth` binary in tests: an environment that nothing from the developer's shell
//! leaks into, and what the run printed.

#![allow(dead_code)] // each test file uses part of it

use std::path::Path;

use tokio::io::AsyncBufReadExt;
use tokio::process::Command;

/// `boxauth` with every variable it reads cleared (credentials, the environment name and its
/// URLs, the config directory, failpoints), `config_dir` as its config directory when given, no
/// proxy for loopback, and killed if the test drops it.
pub fn boxauth(config_dir: Option<&Path>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_boxauth"));
    for name in [
        "BOX_CLIENT_ID",
        "BOX_CLIENT_SECRET",
        "BOXAUTH_ENV",
        "BOX_BASE_URL",
        "BOX_OAUTH2_URL",
        "BOXAUTH_CONFIG_DIR",
        "BOXAUTH_FAILPOINT",
        "BOX_CA_FILE",
        "BOX_DEVELOPER_TOKEN",
        "BOX_JWT_CONFIG",
        "BOX_JWT_CONFIG_JSON",
        "BOX_ENTERPRISE_ID",
        "BOX_USER_ID",
        "BOX_TOKEN_STORE",
        "BOX_REDIS_CA_FILE",
        "BOXAUTH_VAULT_STORE",
        "BOXAUTH_VAULT_KEY",
    ] {
        command.env_remove(name);
    }
    command.env("NO_PROXY", "*").kill_on_drop(true);
    if let Some(dir) = config_dir {
        command.env("BOXAUTH_CONFIG_DIR", dir);
    }
    command
}

/// What a finished run printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to its end.
pub async fn run(command: &mut Command) -> Run {
    let out = command.output().await.unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Starts `boxauth login --no-browser --port 0` for the emulator's default app, with `extra`
/// flags; returns it with the authorization URL it printed, and what it prints on stdout from then
/// on (read in the background, so it never blocks on a full pipe).
pub async fn start_login(
    emulator: &boxauth_emulator::EmulatorHandle,
    config_dir: &std::path::Path,
    extra: &[&str],
) -> (
    tokio::process::Child,
    String,
    std::sync::Arc<std::sync::Mutex<String>>,
) {
    let mut command = boxauth(Some(config_dir));
    command.args([
        "login",
        "--no-browser",
        "--port",
        "0",
        "--client-id",
        boxauth_emulator::DEFAULT_CLIENT_ID,
        "--client-secret",
        boxauth_emulator::DEFAULT_CLIENT_SECRET,
    ]);
    start_browser_flow(emulator, command, extra).await
}

/// Starts `command` (a login or a vault connection, its arguments given), against the emulator
/// with `extra` flags; returns it with the authorization URL it printed and its later stdout.
pub async fn start_browser_flow(
    emulator: &boxauth_emulator::EmulatorHandle,
    mut command: Command,
    extra: &[&str],
) -> (
    tokio::process::Child,
    String,
    std::sync::Arc<std::sync::Mutex<String>>,
) {
    let mut child = command
        .args([
            "--base-url",
            emulator.base_url(),
            "--oauth2-url",
            &emulator.oauth2_url(),
        ])
        .args(extra)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = child.stderr.take().unwrap();
    let url = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line
                .trim()
                .strip_prefix(&format!("{}/", emulator.oauth2_url()))
                .map(|rest| format!("{}/{rest}", emulator.oauth2_url()))
            {
                return url;
            }
        }
        let mut said = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut said)
            .await
            .unwrap();
        panic!("the command printed no URL; it said: {said}");
    })
    .await
    .unwrap();
    child.stderr = Some(stderr);
    // Keep reading stdout in the background so the process never blocks on a full pipe.
    let collected = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = collected.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            sink.lock().unwrap().push_str(&line);
            sink.lock().unwrap().push('\n');
        }
    });
    (child, url, collected)
}
