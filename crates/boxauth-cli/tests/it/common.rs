//! Running the `boxauth` binary in tests: an environment that nothing from the developer's shell
//! leaks into, what the run printed, a [`World`] (an emulator and a config directory) most tests
//! start from, and waits on conditions instead of fixed sleeps.

#![allow(dead_code)] // each test file uses part of it

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use boxauth_emulator::EmulatorHandle;
use boxauth_test_support::emulator as emu;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, Command};

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
        "BOX_APP_TOKEN",
        "BOX_APP_TOKEN_SECONDARY",
        "BOX_WEBHOOK_PRIMARY_KEY",
        "BOX_WEBHOOK_SECONDARY_KEY",
        "BOX_EMULATOR_URL",
        "BOX_JWT_CONFIG",
        "BOX_JWT_CONFIG_JSON",
        "BOX_ENTERPRISE_ID",
        "BOX_USER_ID",
        "BOX_TOKEN_STORE",
        "BOX_REDIS_CA_FILE",
        "RUST_BACKTRACE",
        "BOXAUTH_VAULT_STORE",
        "BOXAUTH_VAULT_KEY",
    ] {
        command.env_remove(name);
    }
    // Secrets in the file, and no session bus: a developer's own keychain is never touched. The
    // keychain tests (keychain.rs) give their own Secret Service and remove BOXAUTH_SECRETS.
    command
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("BOXAUTH_SECRETS", "file");
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

impl Run {
    /// What it printed on stdout, trimmed: the token of a `token get`.
    pub fn token(&self) -> &str {
        self.stdout.trim()
    }

    /// Its stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: not JSON: {}\n{}", self.stdout, self.stderr))
    }

    /// Asserts that it exited 0.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Self {
        Self {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs `command` to its end.
pub async fn run(command: &mut Command) -> Run {
    command.output().await.unwrap().into()
}

/// What each of `children` (started with its output piped) printed on stdout, trimmed, once
/// each has exited successfully.
pub async fn printed_by(children: Vec<Child>) -> Vec<String> {
    let mut printed = Vec::new();
    for child in children {
        let out = child.wait_with_output().await.unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        printed.push(String::from_utf8(out.stdout).unwrap().trim().to_owned());
    }
    printed
}

/// Starts `command` with its standard input, output and error piped to the test.
fn spawn_piped(command: &mut Command) -> Child {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs `command` to its end with `input` on its standard input (then closed).
pub async fn run_with_stdin(command: &mut Command, input: &str) -> Run {
    let mut child = spawn_piped(command);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    child.wait_with_output().await.unwrap().into()
}

/// A `boxauth login` under way: the process, the authorization URL it printed, and the rest of
/// its stdout (read in the background, so it never blocks on a full pipe).
pub struct Login {
    pub child: tokio::process::Child,
    pub url: String,
    stdout: tokio::task::JoinHandle<String>,
}

impl Login {
    /// Waits for the login to end: its exit code, the rest of its stdout (to its end, so
    /// nothing it printed last is missed) and its stderr.
    pub async fn finish(self) -> Run {
        let out = self.child.wait_with_output().await.unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: self.stdout.await.unwrap(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Starts `boxauth login --no-browser --port 0` for the emulator's default app, with `extra`
/// flags.
pub async fn start_login(
    emulator: &boxauth_emulator::EmulatorHandle,
    config_dir: &std::path::Path,
    extra: &[&str],
) -> Login {
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

/// Starts `command` (a login or a vault connection, its arguments given) against the emulator,
/// with `extra` flags.
pub async fn start_browser_flow(
    emulator: &boxauth_emulator::EmulatorHandle,
    mut command: Command,
    extra: &[&str],
) -> Login {
    command
        .args([
            "--base-url",
            emulator.base_url(),
            "--oauth2-url",
            &emulator.oauth2_url(),
        ])
        .args(extra);
    spawn_login(command, &emulator.oauth2_url()).await
}

/// Spawns `command` (a login or a vault connection, fully formed) and waits for the address under
/// `oauth2_url` it prints for the browser.
pub async fn spawn_login(mut command: Command, oauth2_url: &str) -> Login {
    let mut child = spawn_piped(&mut command);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = child.stderr.take().unwrap();
    let prefix = format!("{oauth2_url}/");
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        let printed = read_until(&mut lines, |line| {
            line.trim()
                .starts_with(&prefix)
                .then(|| line.trim().to_owned())
        })
        .await;
        if let Some(url) = printed {
            return url;
        }
        let mut said = String::new();
        stderr.read_to_string(&mut said).await.unwrap();
        panic!("the command printed no URL; it said: {said}");
    })
    .await
    .unwrap();
    child.stderr = Some(stderr);
    let stdout = tokio::spawn(async move {
        let mut rest = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            rest.push_str(&line);
            rest.push('\n');
        }
        rest
    });
    Login { child, url, stdout }
}

/// Approves the consent page at `url` (the address a login or a vault connection printed) as the
/// admin, and lands on Box's redirect as the browser would: the answer of the command's loopback
/// listener, which must be 200.
pub async fn approve_and_land(url: &str) -> reqwest::Response {
    let callback = emu::approve(url).await;
    let landed = boxauth_test_support::http()
        .get(&callback)
        .send()
        .await
        .unwrap();
    assert_eq!(landed.status(), 200, "the listener refused Box's redirect");
    landed
}

/// Reads `lines` until `wanted` gives a value; `None` if the output ends first.
pub async fn read_until<R: AsyncBufRead + Unpin, T>(
    lines: &mut Lines<R>,
    mut wanted: impl FnMut(&str) -> Option<T>,
) -> Option<T> {
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(value) = wanted(&line) {
            return Some(value);
        }
    }
    None
}

/// `boxauth emulator` started from `command` (its arguments given, stderr as the caller set it):
/// waits for the end of its banner and returns the process and the base URL the banner names.
/// The rest of its stdout is read in the background, so the process never blocks on a full pipe.
pub async fn start_emulator(command: &mut Command) -> (Child, String) {
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    read_until(&mut lines, |line| {
        if let Some(named) = line.trim().strip_prefix("Box emulator listening on ") {
            url = Some(named.to_owned());
        }
        line.starts_with("Press Ctrl-C").then_some(())
    })
    .await
    .expect("the emulator's banner ends with how to stop it");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url.expect("the banner names the URL"))
}

/// `boxauth emulator --addr 127.0.0.1:0 --ready-json FLAGS`: the process and the JSON line it
/// prints when ready.
pub async fn start_ready_json(flags: &[&str]) -> (Child, serde_json::Value) {
    let mut child = boxauth(None)
        .args(["emulator", "--addr", "127.0.0.1:0", "--ready-json"])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next_line().await.unwrap().expect("the ready line");
    (child, serde_json::from_str(&line).expect("one JSON object"))
}

/// Waits until `check` gives a value, asking every 20 ms (a condition, not a fixed sleep); panics
/// after a minute, naming `what`.
pub async fn until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited a minute for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What most CLI tests start from: the emulator, a config directory of the test's own, and the
/// emulator's `box_config.json`.
pub struct World {
    pub emulator: EmulatorHandle,
    pub dir: tempfile::TempDir,
    pub box_config: PathBuf,
}

impl World {
    pub async fn start() -> Self {
        let emulator = emu::start().await;
        let dir = tempfile::tempdir().unwrap();
        let box_config = emulator
            .export_config(&dir.path().join("export"))
            .unwrap()
            .box_config;
        Self {
            emulator,
            dir,
            box_config,
        }
    }

    /// boxauth's config directory (environments, token files).
    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// `box_config.json`'s path, as an argument.
    pub fn jwt_config(&self) -> &str {
        self.box_config.to_str().unwrap()
    }

    /// `boxauth` with this world's config directory, talking to the emulator (`BOX_BASE_URL`,
    /// `BOX_OAUTH2_URL`).
    pub fn boxauth(&self) -> Command {
        let mut command = boxauth(Some(&self.config_dir()));
        command
            .env("BOX_BASE_URL", self.emulator.base_url())
            .env("BOX_OAUTH2_URL", self.emulator.oauth2_url());
        command
    }

    /// `boxauth ARGS`, with the variables `vars` set, to its end.
    pub async fn run(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        run(self.boxauth().args(args).envs(vars.iter().copied())).await
    }

    /// The ID of the user `token` acts as (`/2.0/users/me`); panics when Box refuses it.
    pub async fn whose(&self, token: &str) -> String {
        let (status, _, me) = emu::users_me(&self.emulator, token, None).await;
        assert_eq!(status, 200, "users/me refused the token {token:?}: {me}");
        me["id"].as_str().unwrap().to_owned()
    }

    /// A token of the default app acting as `user` (Client Credentials), as a developer token
    /// would.
    pub async fn token_for(&self, user: &str) -> String {
        emu::user_token(&self.emulator, user).await
    }

    /// Saves environment `name`: Client Credentials of the default app acting as `user`.
    pub async fn add_ccg_user(&self, name: &str, user: &str) {
        self.run(
            &[
                "env",
                "add",
                name,
                "--ccg",
                "--client-id",
                boxauth_emulator::DEFAULT_CLIENT_ID,
                "--client-secret",
                boxauth_emulator::DEFAULT_CLIENT_SECRET,
                "--user-id",
                user,
                "--base-url",
                self.emulator.base_url(),
                "--oauth2-url",
                &self.emulator.oauth2_url(),
            ],
            &[],
        )
        .await
        .ok();
    }

    /// `boxauth login` with `extra` flags, through to its end: the consent page approved as the
    /// admin and Box's redirect delivered to the login's listener, as a browser does.
    pub async fn login(&self, extra: &[&str]) -> Run {
        let login = start_login(&self.emulator, &self.config_dir(), extra).await;
        approve_and_land(&login.url).await;
        login.finish().await
    }
}
