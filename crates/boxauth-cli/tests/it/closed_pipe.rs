//! A closed stdout ends a command quietly, as `ls | head` does: exit 0, no panic, no backtrace.
//! The reader here is gone before the command writes (as `head -1` is once it has its line), so
//! every write meets the closed pipe, whatever the pipe's buffer would have held.

use std::process::Stdio;

use crate::common::{self, World};

/// Runs `command` with its stdout a pipe nobody reads (the read end closed): its exit code and
/// stderr.
async fn into_a_closed_pipe(command: &mut tokio::process::Command) -> (i32, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    // spawn, not output(): output() would pipe stdout itself.
    let child = command
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .env("RUST_BACKTRACE", "1")
        .spawn()
        .unwrap();
    let out = child.wait_with_output().await.unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn demo_completions_and_token_get_end_quietly_on_a_closed_pipe() {
    let world = World::start().await;
    world
        .add_ccg_user("emu", boxauth_emulator::DEFAULT_ADMIN_ID)
        .await;
    let runs = [
        (
            "demo",
            into_a_closed_pipe(common::boxauth(None).arg("demo")).await,
        ),
        (
            "demo --json",
            into_a_closed_pipe(common::boxauth(None).args(["demo", "--json"])).await,
        ),
        (
            "completions bash",
            into_a_closed_pipe(common::boxauth(None).args(["completions", "bash"])).await,
        ),
        (
            "token get --json",
            into_a_closed_pipe(world.boxauth().args(["token", "get", "--json"])).await,
        ),
        (
            "env list",
            into_a_closed_pipe(world.boxauth().args(["env", "list"])).await,
        ),
    ];
    for (command, (code, stderr)) in runs {
        assert_eq!(code, 0, "{command}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("stack backtrace"),
            "{command}: {stderr}"
        );
        assert_eq!(stderr, "", "{command} ends without a word");
    }
}

#[tokio::test]
async fn head_takes_the_first_line_and_the_demo_exits_0() {
    // As a shell runs it: the demo's own exit code, not head's.
    let out = tokio::process::Command::new("bash")
        .args([
            "-c",
            "set -o pipefail; \"$BOXAUTH\" demo | head -1; echo \"exit ${PIPESTATUS[0]}\"",
        ])
        .env("BOXAUTH", env!("CARGO_BIN_EXE_boxauth"))
        .env("NO_PROXY", "*")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.ends_with("exit 0\n"), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
