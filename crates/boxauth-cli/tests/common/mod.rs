//! Running the `boxauth` binary in tests: an environment that nothing from the developer's shell
//! leaks into, and what the run printed.

#![allow(dead_code)] // each test file uses part of it

use std::path::Path;

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
