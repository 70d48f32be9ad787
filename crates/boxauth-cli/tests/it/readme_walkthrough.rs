//! The README's walkthroughs, run top to bottom as written: each `sh` block is read from
//! README.md, `cargo run -q -p boxauth-cli --` becomes this build's binary and the emulator's
//! fixed port a free one, every command runs through `sh` with the `export`s before it, and each
//! must give the identity the README promises (Box's `/2.0/users/me` says whose a token is). A
//! command this test has no expectation for fails it, so the README cannot change unchecked.

use std::path::Path;
use std::process::Stdio;

use boxauth_emulator::{DEFAULT_ADMIN_ID, DEFAULT_ADMIN_LOGIN, DEFAULT_SERVICE_ACCOUNT_ID};
use boxauth_test_support::redis::RedisServer;

use crate::common::{self, Run};

const README: &str = include_str!("../../../../README.md");
const CARGO_RUN: &str = "cargo run -q -p boxauth-cli --";

/// The `sh` blocks of the README section whose heading starts with `heading`, each as its
/// commands (continued lines joined, comments and blank lines left out).
fn blocks(heading: &str) -> Vec<Vec<String>> {
    let section = README
        .split("\n## ")
        .find(|s| s.starts_with(heading))
        .unwrap_or_else(|| panic!("no README section {heading:?}"));
    section
        .split("```sh\n")
        .skip(1)
        .map(|block| {
            let block = block.split("```").next().unwrap();
            let mut commands = Vec::new();
            let mut pending = String::new();
            for line in block.lines() {
                if pending.is_empty() && (line.trim().is_empty() || line.starts_with('#')) {
                    continue;
                }
                match line.strip_suffix('\\') {
                    Some(start) => pending.push_str(start),
                    None => {
                        pending.push_str(line);
                        commands.push(std::mem::take(&mut pending));
                    }
                }
            }
            commands
        })
        .collect()
}

/// What a command of the walkthrough must do.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Print a token acting as this user.
    Token(&'static str),
    /// Print JSON whose `access_token` acts as this user.
    Json(&'static str),
    /// Print a downscoped token as JSON, with its `restricted_to`.
    Downscoped,
    /// Succeed.
    Succeeds,
    /// The login: approved as the admin on the consent page, as a browser would.
    Login,
}

/// A shell in `dir` that runs the README's commands against this build and the test's servers.
struct Shell<'a> {
    dir: &'a Path,
    exports: Vec<String>,
    replace: Vec<(String, String)>,
}

impl Shell<'_> {
    /// `command` with this build for `cargo run` and the test's ports for the README's.
    fn replaced(&self, command: &str) -> String {
        let binary = format!("'{}'", env!("CARGO_BIN_EXE_boxauth"));
        let mut command = command.replace(CARGO_RUN, &binary);
        for (from, to) in &self.replace {
            command = command.replace(from, to);
        }
        command
    }

    fn command(&self, command: &str) -> tokio::process::Command {
        // sh runs `boxauth` with what common::boxauth sets (nothing of the developer's shell)
        // and what the README exports.
        let clean = common::boxauth(None);
        let mut script = self.exports.join("\n");
        script.push('\n');
        script.push_str(&self.replaced(command));
        let mut sh = tokio::process::Command::new("sh");
        sh.arg("-c").arg(script).current_dir(self.dir);
        for (name, value) in clean.as_std().get_envs() {
            match value {
                Some(value) => sh.env(name, value),
                None => sh.env_remove(name),
            };
        }
        sh.env("HOME", self.dir)
            .env("BOXAUTH_CONFIG_DIR", self.dir.join("config"))
            // The login opens no browser: the test is the browser.
            .env("BROWSER", "true")
            .kill_on_drop(true);
        sh
    }

    async fn run(&mut self, command: &str) -> Run {
        if command.starts_with("export ") {
            self.exports.push(self.replaced(command));
            return Run {
                code: 0,
                stdout: String::new(),
                stderr: String::new(),
            };
        }
        common::run(&mut self.command(command)).await
    }

    /// Runs `boxauth login` as written and approves it as the admin in the emulator's consent
    /// page, delivering Box's redirect to the login's listener.
    async fn login(&self, command: &str, oauth2_url: &str) -> Run {
        let login = common::spawn_login(self.command(command), oauth2_url).await;
        common::approve_and_land(&login.url).await;
        login.finish().await
    }
}

/// Runs `commands` in order; `expect` gives each one's expectation (every command must have one).
async fn walk(
    shell: &mut Shell<'_>,
    commands: &[String],
    expect: &[(&str, Expect)],
    emulator_url: &str,
) {
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let whose = |token: String| {
        let http = http.clone();
        async move {
            let answer = http
                .get(format!("{emulator_url}/2.0/users/me"))
                .bearer_auth(token.trim())
                .send()
                .await
                .unwrap();
            let me: serde_json::Value =
                serde_json::from_str(&answer.text().await.unwrap()).unwrap_or_default();
            me["id"].as_str().unwrap_or("refused").to_owned()
        }
    };
    for command in commands {
        // An expectation ending in a space or `=` is the start of a command; else all of it.
        let matching: Vec<Expect> = expect
            .iter()
            .filter(|(text, _)| match text.ends_with([' ', '=']) {
                true => command.starts_with(text),
                false => command == text,
            })
            .map(|(_, e)| *e)
            .collect();
        let &[expected] = matching.as_slice() else {
            panic!("the README's {command:?} has no expectation in this test (or several)");
        };
        let run = match expected {
            Expect::Login => {
                shell
                    .login(command, &format!("{emulator_url}/api/oauth2"))
                    .await
            }
            _ => shell.run(command).await,
        };
        assert_eq!(run.code, 0, "{command}\n{}\n{}", run.stdout, run.stderr);
        match expected {
            Expect::Token(user) => assert_eq!(whose(run.stdout).await, user, "{command}"),
            Expect::Json(user) => {
                let json = run.json();
                assert_eq!(
                    whose(json["access_token"].as_str().unwrap().to_owned()).await,
                    user,
                    "{command}"
                );
                assert!(json["identity"]["method"].is_string(), "{command}: {json}");
            }
            Expect::Downscoped => {
                assert!(!run.json()["restricted_to"].as_array().unwrap().is_empty())
            }
            Expect::Login => assert!(
                run.stdout
                    .contains(&format!("Logged in as {DEFAULT_ADMIN_LOGIN}")),
                "{}",
                run.stdout
            ),
            Expect::Succeeds => {}
        }
    }
}

#[tokio::test]
async fn the_quick_start_against_the_emulator_gives_the_identity_each_step_promises() {
    let dir = tempfile::tempdir().unwrap();
    let port = boxauth_test_support::free_port();
    let mut shell = Shell {
        dir: dir.path(),
        exports: Vec::new(),
        replace: vec![("127.0.0.1:8080".to_owned(), format!("127.0.0.1:{port}"))],
    };
    let blocks = blocks("Quick start against the emulator");
    let [start, walkthrough] = blocks.as_slice() else {
        panic!("two sh blocks: the emulator, then the walkthrough: {blocks:?}");
    };

    // The first terminal: the emulator, until its banner is complete.
    let [start] = start.as_slice() else {
        panic!("{start:?}")
    };
    let (mut emulator, url) =
        common::start_emulator(shell.command(start).stderr(Stdio::null())).await;
    assert_eq!(url, format!("http://127.0.0.1:{port}"));

    // The second terminal.
    use Expect::*;
    let expect = [
        ("export BOX_BASE_URL=", Succeeds),
        ("export BOX_CLIENT_ID=", Succeeds),
        (
            "cargo run -q -p boxauth-cli -- token get --ccg --enterprise-id 100000001",
            Token(DEFAULT_SERVICE_ACCOUNT_ID),
        ),
        (
            "cargo run -q -p boxauth-cli -- token get --ccg --user-id 200000001 --json",
            Json(DEFAULT_ADMIN_ID),
        ),
        (
            "cargo run -q -p boxauth-cli -- token get --jwt-config emu/box_config.json",
            Token(DEFAULT_SERVICE_ACCOUNT_ID),
        ),
        (
            "cargo run -q -p boxauth-cli -- token downscope --jwt-config emu/box_config.json ",
            Downscoped,
        ),
        ("cargo run -q -p boxauth-cli -- login", Login),
        (
            "cargo run -q -p boxauth-cli -- token get          # the login saved environment \"default\": the admin",
            Token(DEFAULT_ADMIN_ID),
        ),
        (
            "BOX_JWT_CONFIG_JSON=\"$(cat emu/box_config.json)\" cargo run -q -p boxauth-cli -- token get   # the service account",
            Token(DEFAULT_SERVICE_ACCOUNT_ID),
        ),
        (
            "cargo run -q -p boxauth-cli -- token get --json ",
            Json(DEFAULT_ADMIN_ID),
        ),
        (
            "cargo run -q -p boxauth-cli -- token get --developer-token ",
            Token(DEFAULT_SERVICE_ACCOUNT_ID),
        ),
    ];
    walk(&mut shell, walkthrough, &expect, &url).await;
    emulator.kill().await.unwrap();
}

#[tokio::test]
async fn the_redis_walkthrough_keeps_the_tokens_in_redis() {
    let redis = RedisServer::start_in_memory();
    let emulator = boxauth_test_support::emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let address = emulator
        .base_url()
        .strip_prefix("http://")
        .unwrap()
        .to_owned();
    let mut shell = Shell {
        dir: dir.path(),
        exports: Vec::new(),
        replace: vec![
            ("127.0.0.1:8080".to_owned(), address),
            (
                "127.0.0.1:6379".to_owned(),
                format!("127.0.0.1:{}", redis.port()),
            ),
        ],
    };
    let blocks = blocks("Many processes, many machines: Redis");
    let walkthrough = blocks
        .iter()
        .find(|block| block.iter().any(|c| c.contains("--token-store redis://")))
        .expect("the CLI's Redis walkthrough");
    use Expect::*;
    // redis-server: the test's own runs already, on a free port.
    let walkthrough: Vec<String> = walkthrough
        .iter()
        .filter(|c| !c.starts_with("redis-server "))
        .cloned()
        .collect();
    let expect = [
        ("export BOX_BASE_URL=", Succeeds),
        ("export BOX_CLIENT_ID=", Succeeds),
        (
            "cargo run -q -p boxauth-cli -- token get --ccg --enterprise-id 100000001 --token-store redis://127.0.0.1:6379/0",
            Token(DEFAULT_SERVICE_ACCOUNT_ID),
        ),
        ("cargo run -q -p boxauth-cli -- env add fleet ", Succeeds),
        (
            "cargo run -q -p boxauth-cli -- token get --env fleet",
            Token(DEFAULT_SERVICE_ACCOUNT_ID),
        ),
    ];
    walk(&mut shell, &walkthrough, &expect, emulator.base_url()).await;
    assert_eq!(
        redis.command("EXISTS {boxauth:env:fleet}:token").as_deref(),
        Some(":1")
    );
}
