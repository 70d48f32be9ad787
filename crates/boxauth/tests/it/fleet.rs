//! A fleet on Redis, shared by the fleet tests (one server, a cluster, Sentinel, simulated
//! hosts): worker processes (`examples/redis_fleet.rs`, as a user would run it), each with many
//! tasks, sharing one OAuth identity through the Redis at a URL.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use boxauth::{RedisStorage, TokenStorage};
use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, EmulatorHandle, Grant,
};
use boxauth_test_support::emulator as emu;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const NAMESPACE: &str = "boxauth:fleet-test";

/// The fleet's emulator and Redis.
pub struct Fleet<'a> {
    pub emulator: &'a EmulatorHandle,
    pub url: String,
}

/// The path of the worker binary, built with the tests.
pub fn worker_binary() -> PathBuf {
    crate::common::example_binary("redis_fleet")
}

impl<'a> Fleet<'a> {
    /// The fleet of `emulator`'s default app sharing the Redis at `url`.
    pub fn new(emulator: &'a EmulatorHandle, url: String) -> Self {
        Self { emulator, url }
    }
}

impl Fleet<'_> {
    /// A worker process; `env` adds to or overrides its settings.
    pub fn worker(&self, env: &[(&str, &str)]) -> Command {
        self.worker_via(Command::new(worker_binary()), env)
    }

    /// A worker run by `command` (e.g. `ip netns exec HOST <worker>`).
    pub fn worker_via(&self, mut command: Command, env: &[(&str, &str)]) -> Command {
        command
            .env("BOX_BASE_URL", self.emulator.base_url())
            .env("BOX_CLIENT_ID", ID)
            .env("BOX_CLIENT_SECRET", SECRET)
            .env("REDIS_URL", &self.url)
            .env("REDIS_NAMESPACE", NAMESPACE)
            // A replica that is there confirms within milliseconds on loopback; one the test
            // killed never does, and a worker need not wait the default 10 s to say so.
            .env("FLUSH_SECS", "2");
        crate::common::child_process(&mut command);
        for (name, value) in env {
            command.env(name, value);
        }
        command
    }

    /// The test's own view of the identity's storage: no `WAIT`, so it works on a topology
    /// that has lost its replicas.
    pub fn storage(&self) -> RedisStorage {
        RedisStorage::new(&self.url, NAMESPACE)
            .unwrap()
            .with_replicas(0, Duration::from_millis(1))
    }

    /// A fresh OAuth pair in Redis, its access token already expired.
    pub async fn expired_pair(&self) {
        let token = emu::oauth_pair(self.emulator).await;
        self.storage()
            .store(&emu::expired_on_the_system_clock(token))
            .await
            .unwrap();
    }

    /// Marks the token in Redis expired, keeping its refresh token.
    pub async fn expire(&self) -> String {
        let storage = self.storage();
        let mut token = storage.load().await.unwrap().unwrap();
        token.expires_at = SystemTime::now() - Duration::from_secs(1);
        storage.store(&token).await.unwrap();
        token.access_token.secret().to_owned()
    }

    /// The access token Redis holds.
    pub async fn stored_token(&self) -> String {
        self.storage()
            .load()
            .await
            .unwrap()
            .unwrap()
            .access_token
            .secret()
            .to_owned()
    }

    /// `processes` workers, started.
    pub fn spawn(&self, processes: usize, env: &[(&str, &str)]) -> Vec<Child> {
        (0..processes)
            .map(|_| self.worker(env).spawn().unwrap())
            .collect()
    }

    /// `processes` workers, run to the end; their summaries.
    pub async fn run(&self, processes: usize, env: &[(&str, &str)]) -> Vec<Value> {
        summaries(self.spawn(processes, env)).await
    }

    /// Rounds at expiry of 16 processes × 50 tasks: each round exactly one refresh, and every
    /// process and task ends with the one token Redis holds.
    pub async fn sixteen_by_fifty(&self, rounds: usize) {
        self.expired_pair().await;
        for round in 0..rounds {
            let before = self.emulator.stats().requests(Grant::RefreshToken);
            let prints = self.run(16, &[("TASKS", "50")]).await;
            assert_eq!(
                self.emulator.stats().requests(Grant::RefreshToken) - before,
                1,
                "round {round}: exactly one refresh"
            );
            let token = self.stored_token().await;
            for print in &prints {
                assert_eq!(
                    print["token_sha256"],
                    fingerprint(&token),
                    "round {round}: every process ends with the stored token"
                );
                assert_eq!(
                    print["distinct_tokens"], 1,
                    "round {round}: every task saw that one token"
                );
                assert_eq!(print["failures"], 0, "round {round}: {print}");
            }
            assert_eq!(emu::users_me(self.emulator, &token, None).await.0, 200);
            self.expire().await;
        }
        assert_eq!(self.emulator.stats().refresh_token_reuses, 0);
    }
}

/// A Redis topology whose primary can be lost between a write and its replication.
pub trait Failover {
    /// Freezes the replica of the identity's primary (SIGSTOP) and fills the link between them
    /// with a burst of writes, so what is written next waits in the primary's memory: a replica
    /// fallen behind under load, as before the failovers that lose writes.
    fn freeze_replica(&mut self);
    /// The token JSON the identity's primary holds.
    fn primary_holds(&self) -> Option<String>;
    /// SIGKILLs the primary, resumes the replica, and waits until it is promoted.
    fn kill_primary(&mut self);
    /// SIGKILLs the identity's primary, its replicas in sync, and returns at once.
    fn sigkill_primary(&mut self);
    /// Whether a replica serves the identity's keys as primary now (the failover is over).
    fn failed_over(&self) -> bool;
}

/// A 32 MiB value, more than the kernel buffers between two loopback sockets hold.
pub fn burst() -> Vec<u8> {
    vec![b'x'; 32 << 20]
}

/// The failover case: a worker refreshes (spending the refresh token at Box) and writes the new
/// token to a primary whose replica is behind, then the primary is SIGKILLed and the replica
/// promoted without that write. The worker, still running, is returned.
pub async fn refresh_then_lose_the_primary(
    topology: &mut impl Failover,
    fleet: &Fleet<'_>,
    env: &[(&str, &str)],
) -> Child {
    let before = topology.primary_holds();
    topology.freeze_replica();
    let refreshes = fleet.emulator.stats().requests(Grant::RefreshToken);
    let mut worker = fleet
        .worker(&[&[("TASKS", "10"), ("RUN_SECS", "12")][..], env].concat())
        .spawn()
        .unwrap();
    let mut stderr = Stderr::of(&mut worker);
    if env.contains(&("REDIS_REPLICAS", "0")) {
        // No WAIT: the write returns at once; the primary holding it is the sign.
        until("the refresh's write", Duration::from_secs(30), || {
            topology.primary_holds() != before
        })
        .await;
    } else {
        // Past the write's WAIT: the worker knows no replica confirmed it.
        stderr.wait_for(UNCONFIRMED_WRITE).await;
        assert_ne!(
            topology.primary_holds(),
            before,
            "the primary took the write"
        );
    }
    stderr.drain();
    assert_eq!(
        fleet.emulator.stats().requests(Grant::RefreshToken),
        refreshes + 1
    );
    tokio::task::block_in_place(|| topology.kill_primary());
    worker
}

/// With replication-safe writes (the default on a cluster and Sentinel): after the failover the
/// worker writes its token again, serves it throughout, and the next refresh needs no login.
pub async fn a_lost_primary_loses_no_refresh_token(
    topology: &mut impl Failover,
    fleet: &Fleet<'_>,
) {
    fleet.expired_pair().await;
    let spent = fleet.stored_token().await;
    let worker = refresh_then_lose_the_primary(topology, fleet, &[]).await;
    let started = std::time::Instant::now();
    // Read as any client would right after a failover: a read may fail while it settles.
    let storage = fleet.storage();
    while storage
        .load()
        .await
        .ok()
        .flatten()
        .is_none_or(|t| t.access_token.secret() == spent)
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the token was never written again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let print = summary(worker).await;
    assert_eq!(print["failures"], 0, "{print}");
    assert_eq!(print["distinct_tokens"], 1, "served from memory throughout");
    assert!(
        print["unconfirmed"].is_string(),
        "no replica is left to confirm the token, and the worker says so: {print}"
    );
    assert_eq!(
        print["token_sha256"],
        fingerprint(&fleet.stored_token().await)
    );
    fleet.expire().await;
    let prints = fleet.run(4, &[("TASKS", "10")]).await;
    assert!(prints.iter().all(|p| p["failures"] == 0), "{prints:?}");
    assert_eq!(fleet.emulator.stats().requests(Grant::RefreshToken), 2);
    assert_eq!(fleet.emulator.stats().refresh_token_reuses, 0);
    let token = fleet.stored_token().await;
    assert_eq!(emu::users_me(fleet.emulator, &token, None).await.0, 200);
}

/// The control: the same failover without `WAIT` leaves storage with a spent refresh token,
/// and the identity must log in again.
pub async fn without_wait_a_lost_primary_costs_the_login(
    topology: &mut impl Failover,
    fleet: &Fleet<'_>,
) {
    fleet.expired_pair().await;
    let spent = fleet.stored_token().await;
    let worker = refresh_then_lose_the_primary(topology, fleet, &[("REDIS_REPLICAS", "0")]).await;
    drop(worker);
    assert_eq!(
        fleet.stored_token().await,
        spent,
        "the promoted replica holds the token whose refresh token was spent"
    );
    let auth = boxauth::OAuth::with_options(
        boxauth::OAuthConfig::new(ID, SECRET),
        boxauth::AuthOptions::default()
            .session(emu::session(fleet.emulator))
            .storage(fleet.storage()),
    )
    .unwrap();
    let error = boxauth::Authentication::retrieve_token(&auth)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, boxauth::Error::ReauthorizationRequired(_)),
        "{error}"
    );
}

/// The failover window: a valid token in Redis, confirmed by a replica; the identity's primary
/// SIGKILLed; `processes` new workers started at once, with the URL's seeds (the dead node
/// among them), before any failover has happened. Every one waits the failover out and prints
/// the stored token; Box is asked for nothing.
pub async fn new_processes_wait_out_a_failover(
    topology: &mut impl Failover,
    fleet: &Fleet<'_>,
    processes: usize,
) {
    let pair = emu::oauth_pair(fleet.emulator).await;
    let stored = boxauth::StoredToken::from_access_token(pair, SystemTime::now()).unwrap();
    // The URL's defaults: the write returns once a replica confirmed it (the replica is in sync).
    RedisStorage::new(&fleet.url, NAMESPACE)
        .unwrap()
        .store(&stored)
        .await
        .unwrap();
    let requests = fleet.emulator.stats().total_requests();
    tokio::task::block_in_place(|| topology.sigkill_primary());
    let killed = std::time::Instant::now();
    let workers = fleet.spawn(processes, &[("TASKS", "5")]);
    assert!(
        !topology.failed_over(),
        "the processes started before the failover"
    );
    let prints = summaries(workers).await;
    // What a process waits: the failover's detection (1 s node timeout here) and election.
    eprintln!(
        "{processes} processes started at the SIGKILL all answered {:.1} s after it",
        killed.elapsed().as_secs_f64()
    );
    assert!(topology.failed_over(), "a replica was promoted meanwhile");
    for print in &prints {
        assert_eq!(print["failures"], 0, "{print}");
        assert_eq!(
            print["token_sha256"],
            fingerprint(stored.access_token.secret()),
            "{print}"
        );
        assert!(print["unconfirmed"].is_null(), "{print}");
    }
    assert_eq!(
        fleet.emulator.stats().total_requests(),
        requests,
        "no process asked Box for a token"
    );
}

/// Each worker's summary, in order.
pub async fn summaries(children: Vec<Child>) -> Vec<Value> {
    let mut prints = Vec::new();
    for child in children {
        prints.push(summary(child).await);
    }
    prints
}

/// A worker's one-line JSON summary, once it has exited successfully.
pub async fn summary(child: Child) -> Value {
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the worker finished")
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stdout)))
}

/// Waits until `child` prints a stderr line containing `text`; the rest of its stderr is
/// drained in the background.
pub async fn wait_for_line(child: &mut Child, text: &str) {
    let mut stderr = Stderr::of(child);
    stderr.wait_for(text).await;
    stderr.drain();
}

/// A worker's stderr, read line by line: its failpoints and its warnings (the example logs at
/// WARN), for a test to wait on.
pub struct Stderr {
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStderr>>,
}

impl Stderr {
    /// `child`'s stderr (taken from it).
    pub fn of(child: &mut Child) -> Self {
        Self {
            lines: BufReader::new(child.stderr.take().unwrap()).lines(),
        }
    }

    /// Waits (a minute at most) until a line contains `text`.
    pub async fn wait_for(&mut self, text: &str) {
        let lines = &mut self.lines;
        let found = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.contains(text) {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(found, Ok(true), "the worker never printed {text:?}");
    }

    /// Reads the rest in the background, so the worker never blocks on a full pipe.
    pub fn drain(mut self) {
        tokio::spawn(async move { while let Ok(Some(_)) = self.lines.next_line().await {} });
    }
}

/// The warning a worker logs when a new token's write was not confirmed (no replica
/// acknowledged it, or Redis did not answer): served from memory, written again.
pub const UNCONFIRMED_WRITE: &str = "written again until storage confirms it";

/// Waits, polling every 20 ms, until `done`; fails the test saying `what` did not happen within
/// `limit` (generous: a loaded machine is slow, a broken one never gets there).
pub async fn until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !done() {
        assert!(
            started.elapsed() < limit,
            "{what} did not happen within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The first 16 hex digits of the token's SHA-256, as the workers print it.
pub fn fingerprint(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
