//! Running Debian's PostgreSQL binaries as the `postgres` OS user, and the processes they start.
//!
//! `initdb` and the server refuse to run as root, and the tests run as root in CI: then every
//! binary runs through `setpriv` as `postgres` (setpriv execs, so the server's PID is the child's
//! PID). Run as any other user, they run as that user.
//!
//! A server must not outlive the test process, however that ends (a panic unwinds and drops the
//! server, but a `static` server is never dropped and a killed test process drops nothing). So
//! every postmaster is started with a parent-death signal (`setpriv --pdeathsig KILL`, set after
//! the user change, which would clear it) from one thread that lives as long as the process:
//! when the test process ends, for whatever reason, the kernel SIGKILLs its postmasters, and
//! their children, which watch for their postmaster's death, exit on their own. The signal fires
//! when the spawning *thread* ends, hence the one long-lived spawner rather than the test's own
//! thread (libtest runs each test on a thread of its own).

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Sender, channel};
use std::time::{Duration, Instant};

/// Debian's PostgreSQL 15 binaries.
pub(crate) const BIN: &str = "/usr/lib/postgresql/15/bin";

/// How to install them, for messages.
pub(crate) const INSTALL: &str =
    "install Debian's postgresql and postgresql-client (scripts/test does)";

/// The `postgres` user's uid and gid, when the tests run as root; `None` otherwise.
pub(crate) fn server_user() -> Option<(u32, u32)> {
    if !running_as_root() {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let line = passwd
        .lines()
        .find(|line| line.starts_with("postgres:"))
        .unwrap_or_else(|| panic!("there is no postgres user: {INSTALL}"));
    let fields: Vec<&str> = line.split(':').collect();
    Some((fields[2].parse().unwrap(), fields[3].parse().unwrap()))
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `program` (a PostgreSQL binary's name) with `args`, as the server's user.
pub(crate) fn command(program: &str, args: &[&str]) -> Command {
    command_with(program, args, &[])
}

/// [`command`], with extra `setpriv` options.
fn command_with(program: &str, args: &[&str], setpriv: &[&str]) -> Command {
    let binary = Path::new(BIN).join(program);
    let mut command = if server_user().is_some() {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=postgres", "--regid=postgres", "--init-groups"])
            .args(setpriv)
            .arg("--")
            .arg(&binary);
        command
    } else if setpriv.is_empty() {
        Command::new(&binary)
    } else {
        let mut command = Command::new("setpriv");
        command.args(setpriv).arg("--").arg(&binary);
        command
    };
    command.args(args).env_remove("PGPASSWORD");
    command
}

/// Runs `program` to completion; its output, or a panic saying what failed.
pub(crate) fn run(mut command: Command, what: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what} ({e}): {INSTALL}"));
    assert!(
        output.status.success(),
        "{what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    output
}

type SpawnRequest = (Command, Sender<std::io::Result<Child>>);

/// Starts a server process (`postgres …`), its output appended to `log`, that the kernel kills
/// when the test process ends.
pub(crate) fn spawn_server(args: &[&str], dir: &Path, log: &Path) -> std::io::Result<Child> {
    static SPAWNER: OnceLock<std::sync::Mutex<Sender<SpawnRequest>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (requests, incoming) = channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("postgres-spawner".into())
            .spawn(move || {
                for (mut command, reply) in incoming {
                    let _ = reply.send(command.spawn());
                }
            })
            .unwrap();
        std::sync::Mutex::new(requests)
    });
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let mut command = command_with("postgres", args, &["--pdeathsig", "KILL"]);
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    let (reply, answer) = channel();
    spawner
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send((command, reply))
        .unwrap();
    answer.recv().unwrap()
}

/// Sends `signal` to `pid`; false if it is gone.
pub(crate) fn signal(pid: u32, signal: i32) -> bool {
    // SAFETY: kill has no memory preconditions; a stale PID only makes it fail with ESRCH.
    unsafe { libc::kill(pid as libc::pid_t, signal) == 0 }
}

/// A process's state letter (`R`, `S`, `T` stopped, `Z` zombie…), or `None` when it is gone.
pub(crate) fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name in parentheses may hold spaces: the fields start after its last ')'.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .next()?
        .chars()
        .next()
}

/// Whether `pid` still runs (a zombie has exited: only its exit status is left to collect).
pub(crate) fn alive(pid: u32) -> bool {
    state(pid).is_some_and(|s| s != 'Z' && s != 'X')
}

/// The PIDs of `parent`'s children (the postmaster's: backends, walsenders, the checkpointer…).
/// They are not in its process group: each calls `setsid()` when it starts, so they are found
/// here instead.
pub(crate) fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
                    ppid.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

/// Waits until `done` holds, checking every few milliseconds, for at most `limit`; panics with
/// `what` (and whatever `explain` adds) when it never does.
pub(crate) fn wait_until(
    limit: Duration,
    what: &str,
    done: impl FnMut() -> bool,
    explain: impl FnOnce() -> String,
) {
    if let Err(waited) = wait_for(limit, done) {
        panic!("{what} within {waited:?}: {}", explain());
    }
}

/// Waits until `done` holds, checking every few milliseconds; `Err(limit)` if it still does not
/// after `limit`.
pub(crate) fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> Result<(), Duration> {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > limit {
            return Err(limit);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}
