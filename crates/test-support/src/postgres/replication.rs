//! A primary and a streaming standby, for failover tests.
//!
//! The standby is made with `pg_basebackup -R` (a physical replication slot keeps the WAL it
//! has not received) and streams from the primary over TCP as the role `replicator`. What
//! "pausing the standby's receiving" means on PostgreSQL 15, as tried here:
//!
//! - SIGSTOP of the standby's walreceiver: promotion then hangs, because the startup process
//!   waits for the walreceiver to exit and a stopped process handles no signal; continuing it
//!   first lets it write whatever the kernel had buffered for it, so what the standby holds at
//!   promotion is a race.
//! - `pg_wal_replay_pause()`: pauses applying, not receiving; promotion replays what was
//!   received, so nothing is lost.
//! - SIGSTOP of the primary's walsender for this standby (what [`PgPair::pause_receiving`] does):
//!   nothing written after the pause leaves the primary, promotion works at once (the
//!   walreceiver is free to stop), and SIGCONT resumes streaming where it stopped. The standby
//!   runs with `wal_receiver_timeout = 0`, so it does not give up on a silent primary and
//!   reconnect to a fresh walsender during a long pause.

use std::sync::Mutex;

use super::{LIMIT, PgOptions, PgServer, append, private_dir, process, random_password};

/// The standby's name: its `cluster_name`, hence the `application_name` its walreceiver
/// connects with, the name `synchronous_standby_names` lists and its replication slot's.
pub const STANDBY_NAME: &str = "standby1";

/// A primary and a standby streaming from it. Dropping it kills both.
#[derive(Debug)]
pub struct PgPair {
    /// The primary.
    pub primary: PgServer,
    /// The standby (a hot standby: it answers read-only queries). Its [`url`](PgServer::url)
    /// works as the primary's does: the role and its password are replicated.
    pub standby: PgServer,
    /// The walsender frozen by [`pause_receiving`](Self::pause_receiving).
    paused: Mutex<Option<u32>>,
}

impl PgPair {
    /// A primary set up as `options` say (the role [`USER`](super::USER), its database) and a
    /// standby made from it, streaming (asynchronously: see
    /// [`set_synchronous_standby_names`](Self::set_synchronous_standby_names)).
    pub fn start(options: PgOptions) -> Self {
        let primary = PgServer::start_with(options);
        let replicator_password = random_password();
        primary.psql(&format!(
            "CREATE ROLE replicator REPLICATION LOGIN PASSWORD '{replicator_password}'"
        ));
        let dir = private_dir("standby");
        let data = dir.join("data").display().to_string();
        let port = primary.port().to_string();
        let mut basebackup = process::command(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "replicator",
                "-D",
                &data,
                "-R",
                "-X",
                "stream",
                "-C",
                "-S",
                STANDBY_NAME,
                "--no-sync",
                // An immediate checkpoint to start from, not a spread one (minutes).
                "--checkpoint=fast",
            ],
        );
        // -R writes the password into the standby's primary_conninfo.
        basebackup
            .current_dir(&dir)
            .env("PGPASSWORD", &replicator_password);
        process::run(basebackup, "pg_basebackup");
        append(
            &dir.join("data/postgresql.conf"),
            &format!(
                "\n# the standby\ncluster_name = '{STANDBY_NAME}'\nhot_standby = on\n\
                 wal_receiver_timeout = 0\nsynchronous_standby_names = ''\n"
            ),
        );
        let standby = PgServer::boot(dir, primary.password().to_owned());
        let pair = Self {
            primary,
            standby,
            paused: Mutex::new(None),
        };
        pair.walsender();
        pair
    }

    /// The PID of the primary's walsender for the standby, once it streams.
    fn walsender(&self) -> u32 {
        let query = format!(
            "SELECT pid FROM pg_stat_replication \
             WHERE application_name = '{STANDBY_NAME}' AND state = 'streaming'"
        );
        let mut pid = None;
        process::wait_until(
            LIMIT,
            "the standby did not stream from the primary",
            || {
                pid = self.primary.psql(&query).parse().ok();
                pid.is_some()
            },
            || self.standby.log_tail(),
        );
        pid.unwrap()
    }

    /// Waits until the standby has replayed everything the primary has written so far (its
    /// `pg_last_wal_replay_lsn()` has reached the primary's `pg_current_wal_lsn()` read now).
    pub fn wait_replayed(&self) {
        let target = self.primary.psql("SELECT pg_current_wal_lsn()");
        let query = format!("SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn");
        process::wait_until(
            LIMIT,
            "the standby did not replay the primary's WAL",
            || self.standby.psql(&query) == "t",
            || {
                format!(
                    "primary at {target}, standby replayed {}",
                    self.standby.psql("SELECT pg_last_wal_replay_lsn()")
                )
            },
        );
    }

    /// From now on the standby receives nothing from the primary (its walsender is frozen), until
    /// [`resume_receiving`](Self::resume_receiving). What the primary had already sent may still
    /// arrive: call [`wait_replayed`](Self::wait_replayed) first to start from a known point.
    pub fn pause_receiving(&self) {
        let mut paused = self.paused.lock().unwrap();
        assert!(paused.is_none(), "receiving is paused already");
        let pid = self.walsender();
        assert!(process::signal(pid, libc::SIGSTOP), "the walsender is gone");
        process::wait_until(
            LIMIT,
            "the walsender did not stop",
            || process::state(pid) == Some('T'),
            String::new,
        );
        *paused = Some(pid);
    }

    /// Lets the standby receive again what it missed since [`pause_receiving`](Self::pause_receiving).
    pub fn resume_receiving(&self) {
        if let Some(pid) = self.paused.lock().unwrap().take() {
            process::signal(pid, libc::SIGCONT);
        }
    }

    /// Sets the primary's `synchronous_standby_names` (`ALTER SYSTEM`, then a reload) and
    /// returns once commits honour it: `STANDBY_NAME` makes `synchronous_commit = on` wait for
    /// the standby's flush and `remote_apply` for its replay; `""` makes every commit local again.
    ///
    /// A reload reaches each process in its own time, and whether a commit waits is decided by
    /// a flag the checkpointer sets when it reloads. So: once a new session sees the new value,
    /// the postmaster has signalled the checkpointer; each `CHECKPOINT` is one more turn of the
    /// checkpointer's loop, which handles a pending reload first; after the second, it has.
    pub fn set_synchronous_standby_names(&self, names: &str) {
        self.primary.psql(&format!(
            "ALTER SYSTEM SET synchronous_standby_names = '{names}'"
        ));
        self.primary.psql("SELECT pg_reload_conf()");
        process::wait_until(
            LIMIT,
            "the primary did not reload its configuration",
            || self.primary.psql("SHOW synchronous_standby_names") == names,
            String::new,
        );
        self.primary.psql("CHECKPOINT");
        self.primary.psql("CHECKPOINT");
    }

    /// Promotes the standby (`pg_promote()`) and returns once it is out of recovery, accepting
    /// writes. The primary is left as it is (still running, unless the test stopped it).
    pub fn promote(&self) {
        let promoted = self.standby.psql("SELECT pg_promote(true, 60)");
        assert_eq!(promoted, "t", "{}", self.standby.log_tail());
        process::wait_until(
            LIMIT,
            "the promoted standby did not leave recovery",
            || {
                self.standby.status().as_deref() == Some("ready")
                    && self.standby.psql("SELECT pg_is_in_recovery()") == "f"
            },
            || self.standby.log_tail(),
        );
    }
}
