//! Real PostgreSQL servers started by the tests: Debian's PostgreSQL 15 (`initdb`, `postgres`,
//! `psql`, `pg_basebackup`, `pg_dump` from `/usr/lib/postgresql/15/bin`), each a fresh cluster
//! in a private temporary directory, listening on a free port on 127.0.0.1 and on a private
//! socket directory. Not optional: without the packages a test fails and says how to install
//! them (`scripts/test` does).
//!
//! - [`PgServer::start`]: a server with a ready database [`DATABASE`] owned by the role [`USER`];
//!   [`url`](PgServer::url) connects as that role with a password over TCP, as an app does, and
//!   [`psql`](PgServer::psql) runs SQL as the superuser over the private socket.
//! - Failures for a test to cause: [`stop`](PgServer::stop) then
//!   [`start_again`](PgServer::start_again) (same data directory, same port), and
//!   [`kill`](PgServer::kill) (a crash: every server process SIGKILLed at once).
//! - [`PgPair`] ([`PgServer::start_primary_with_standby`]): a primary and a streaming standby;
//!   replication waited for, paused and resumed; the standby promoted.
//!
//! SQL goes through `psql`, not a Rust driver: tests check the library's PostgreSQL engine
//! through an independent client, the helpers need no async runtime, and test-support stays
//! light.
//!
//! Dropping a server SIGKILLs all its processes and removes its directory, whether the test
//! passed or panicked; a server the test never drops (a `static`, a killed test process) dies
//! with the test process (see `postgres/process.rs`). Every wait is on a condition (the
//! server's `postmaster.pid` status, a query's answer, a process's state), never a fixed sleep.

mod process;
mod replication;
mod sql;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub use replication::{PgPair, STANDBY_NAME};

use crate::free_port;

/// The role that owns [`DATABASE`]: who [`PgServer::url`] connects as (not a superuser).
pub const USER: &str = "boxauth";

/// The database every server starts with.
pub const DATABASE: &str = "boxauth";

/// `psql`'s flags for a statement a program runs and reads: no `~/.psqlrc`, bare unaligned
/// rows, no notices, stop at the first error.
pub const PSQL_SCRIPTED: &[&str] = &["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"];

/// How long a server may take to start or stop, or a wait on it last, before the test fails.
const LIMIT: Duration = Duration::from_secs(60);

/// How a server is set up.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// `fsync` (default on: PostgreSQL's own on-disk-safe default). Off is faster and loses
    /// nothing when only processes die (the kernel keeps what they wrote); turn it off only
    /// where surviving a machine's crash is not what a test is about.
    pub fsync: bool,
    /// More `postgresql.conf` settings: `(name, value)`, the value as the file takes it (quoted
    /// where PostgreSQL needs quotes). Written to the file, so `ALTER SYSTEM` can still change
    /// them.
    pub settings: Vec<(String, String)>,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            fsync: true,
            settings: Vec::new(),
        }
    }
}

impl PgOptions {
    /// The defaults with `fsync = off`: for tests that are not about durability.
    pub fn fast() -> Self {
        Self {
            fsync: false,
            ..Self::default()
        }
    }
}

/// One PostgreSQL server: a postmaster and its cluster. Dropping it kills it and removes its
/// directory.
pub struct PgServer {
    /// The private directory: `data/`, `socket/`, `server.log`.
    dir: PathBuf,
    port: u16,
    password: String,
    postmaster: Option<Child>,
}

impl std::fmt::Debug for PgServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgServer")
            .field("dir", &self.dir)
            .field("port", &self.port)
            .field("pid", &self.pid())
            .finish_non_exhaustive()
    }
}

impl PgServer {
    /// A fresh server with PostgreSQL's default (on-disk-safe) settings, the role [`USER`] and
    /// its database [`DATABASE`], ready for connections. Blocks for about a second.
    pub fn start() -> Self {
        Self::start_with(PgOptions::default())
    }

    /// A fresh server set up as `options` say.
    pub fn start_with(options: PgOptions) -> Self {
        let dir = private_dir("server");
        let data = dir.join("data").display().to_string();
        let mut initdb = process::command(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                // The cluster is thrown away with the test: no need to flush it now.
                "--no-sync",
            ],
        );
        initdb.current_dir(&dir);
        process::run(initdb, "initdb");
        let mut conf = format!(
            "\n# boxauth-test-support\nlisten_addresses = '127.0.0.1'\nfsync = {}\n",
            if options.fsync { "on" } else { "off" }
        );
        for (name, value) in &options.settings {
            conf.push_str(&format!("{name} = {value}\n"));
        }
        append(&dir.join("data/postgresql.conf"), &conf);
        let server = Self::boot(dir, random_password());
        server.psql_in(
            "postgres",
            &format!("CREATE ROLE {USER} LOGIN PASSWORD '{}'", server.password),
        );
        server.psql_in(
            "postgres",
            &format!("CREATE DATABASE {DATABASE} OWNER {USER}"),
        );
        server
    }

    /// Starts the cluster in `dir/data` on a free port (trying others if the one picked is
    /// taken meanwhile) and waits until it accepts connections.
    fn boot(dir: PathBuf, password: String) -> Self {
        let mut server = Self {
            dir,
            port: 0,
            password,
            postmaster: None,
        };
        for _ in 0..5 {
            server.port = free_port();
            // Later lines win: each attempt's port replaces the last one's.
            append(
                &server.data_dir().join("postgresql.conf"),
                &format!(
                    "port = {}\nunix_socket_directories = '{}'\n",
                    server.port,
                    server.socket_dir().display()
                ),
            );
            if server.spawn() {
                return server;
            }
        }
        panic!(
            "postgres exited at once five times (ports taken?): {}",
            server.log_tail()
        );
    }

    /// Starts the postmaster and waits until it accepts connections; false if it exited first.
    fn spawn(&mut self) -> bool {
        let data = self.data_dir().display().to_string();
        let child = process::spawn_server(&["-D", &data], &self.dir, &self.dir.join("server.log"))
            .unwrap_or_else(|e| panic!("cannot start postgres ({e}): {}", process::INSTALL));
        self.postmaster = Some(child);
        let mut exited = false;
        let waited = process::wait_for(LIMIT, || {
            exited = self
                .postmaster
                .as_mut()
                .unwrap()
                .try_wait()
                .unwrap()
                .is_some();
            exited || matches!(self.status().as_deref(), Some("ready" | "standby"))
        });
        if let Err(limit) = waited {
            panic!(
                "postgres did not start within {limit:?}: {}",
                self.log_tail()
            );
        }
        if exited {
            self.postmaster = None;
        }
        !exited
    }

    /// What the server says of itself in `postmaster.pid` (`starting`, `ready`, `standby`,
    /// `stopping`), as `pg_ctl` reads it; `None` when it is not running.
    fn status(&self) -> Option<String> {
        let pid_file = std::fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        let mine = pid_file.lines().next()?.trim().parse::<u32>().ok()? == self.pid()?;
        mine.then(|| pid_file.lines().nth(7).map(|s| s.trim().to_owned()))?
    }

    /// `postgres://boxauth:PASSWORD@127.0.0.1:PORT/boxauth`: the role [`USER`] on [`DATABASE`],
    /// password authentication (SCRAM) over TCP.
    pub fn url(&self) -> String {
        self.url_for(DATABASE)
    }

    /// [`url`](Self::url) for another database (made with [`create_database`](Self::create_database)).
    pub fn url_for(&self, database: &str) -> String {
        format!(
            "postgres://{USER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// The role [`USER`]'s password (random for each server, letters and digits).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The private directory the server's Unix socket is in.
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.join("socket")
    }

    /// The postmaster's PID while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.postmaster.as_ref().map(Child::id)
    }

    /// Whether the postmaster runs.
    pub fn is_running(&mut self) -> bool {
        match self.postmaster.as_mut().map(|c| c.try_wait().unwrap()) {
            Some(None) => true,
            Some(Some(_)) => {
                self.postmaster = None;
                false
            }
            None => false,
        }
    }

    /// Stops the server as `pg_ctl stop` does by default (fast shutdown: sessions ended,
    /// a checkpoint written) and waits until every server process has exited. Nothing
    /// committed is lost.
    pub fn stop(&mut self) {
        let Some(mut postmaster) = self.postmaster.take() else {
            return;
        };
        // A frozen walsender (PgPair::pause_receiving) would hold the shutdown up forever.
        for child in process::children(postmaster.id()) {
            process::signal(child, libc::SIGCONT);
        }
        process::signal(postmaster.id(), libc::SIGINT);
        // The postmaster exits only after all its children have.
        let status = postmaster.wait().unwrap();
        assert!(
            status.success(),
            "postgres did not stop cleanly ({status}): {}",
            self.log_tail()
        );
    }

    /// Starts the server again on the same data directory and port (after [`stop`](Self::stop)
    /// or [`kill`](Self::kill): the latter with crash recovery) and waits until it accepts
    /// connections.
    pub fn start_again(&mut self) {
        assert!(!self.is_running(), "the server is running already");
        assert!(
            self.spawn(),
            "postgres did not start again on port {}: {}",
            self.port,
            self.log_tail()
        );
    }

    /// A crash: the postmaster and every process it started are SIGKILLed at once (nothing is
    /// flushed, no shutdown checkpoint), and this returns once all of them are gone, so
    /// [`start_again`](Self::start_again) can run crash recovery at once.
    pub fn kill(&mut self) {
        if let Err(error) = self.kill_all() {
            panic!("{error}");
        }
    }

    fn kill_all(&mut self) -> Result<(), String> {
        let Some(mut postmaster) = self.postmaster.take() else {
            return Ok(());
        };
        let pid = postmaster.id();
        // Frozen, the postmaster starts no new process while its children are listed.
        if process::signal(pid, libc::SIGSTOP) {
            process::wait_for(LIMIT, || {
                process::state(pid).is_none_or(|s| matches!(s, 'T' | 'Z' | 'X'))
            })
            .map_err(|waited| format!("the postmaster did not stop within {waited:?}"))?;
        }
        let children = process::children(pid);
        for &child in &children {
            process::signal(child, libc::SIGKILL);
        }
        process::signal(pid, libc::SIGKILL);
        let _ = postmaster.wait();
        process::wait_for(LIMIT, || !children.iter().any(|&c| process::alive(c))).map_err(
            |waited| format!("postgres's processes {children:?} did not die within {waited:?}"),
        )
    }

    /// The end of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!(
            "server log ({}):\n{tail}",
            self.dir.join("server.log").display()
        )
    }

    /// A primary and a streaming standby made from it: see [`PgPair`].
    pub fn start_primary_with_standby() -> PgPair {
        PgPair::start(PgOptions::default())
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // No panic in a drop (it may run while a failed test unwinds): the test's own failure
        // is what it should report.
        let _ = self.kill_all();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh private directory for one server (with its `socket/`), owned by the server's user,
/// mode 0700.
fn private_dir(kind: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "boxauth-pg-{kind}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("socket")).unwrap();
    give_to_server_user(&dir);
    give_to_server_user(&dir.join("socket"));
    dir
}

fn give_to_server_user(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).unwrap();
    if let Some((uid, gid)) = process::server_user() {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    }
}

/// A random password of letters only: nothing to quote in SQL, URLs or `primary_conninfo`.
fn random_password() -> String {
    crate::emulator::random_id(24)
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}
