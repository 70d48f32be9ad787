//! A fleet on Redis: many processes, each with many tasks, share one OAuth identity. Exactly one
//! refresh per expiry; a lock holder killed mid-refresh costs nothing; a Redis restart is survived.
//! The processes are `examples/redis_fleet.rs`, as a user would run it.

#![cfg(feature = "redis")]

use crate::fleet;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use boxauth::TokenStorage;
use boxauth_emulator::{EmulatorConfig, EmulatorHandle, Grant};
use boxauth_test_support::emulator as emu;
use boxauth_test_support::redis::RedisServer;
use fleet::{Fleet, NAMESPACE, fingerprint};

fn on<'a>(emulator: &'a EmulatorHandle, redis: &RedisServer) -> Fleet<'a> {
    Fleet::new(emulator, redis.url())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_processes_of_fifty_tasks_refresh_once_twenty_times_over() {
    let redis = RedisServer::start();
    let emulator = emu::start().await;
    on(&emulator, &redis).sixteen_by_fifty(20).await;
}

/// Starts a worker that stops at `failpoint` while holding the Redis lock, and kills it (SIGKILL).
async fn kill_holder_at(emulator: &EmulatorHandle, redis: &RedisServer, failpoint: &str) {
    let mut child = on(emulator, redis)
        .worker(&[
            ("TASKS", "1"),
            ("LOCK_TTL_MS", "1500"),
            ("BOXAUTH_FAILPOINT", failpoint),
        ])
        .spawn()
        .unwrap();
    fleet::wait_for_line(&mut child, &format!("failpoint {failpoint} reached")).await;
    assert_eq!(
        redis
            .command(&format!("EXISTS {{{NAMESPACE}}}:lock"))
            .as_deref(),
        Some(":1"),
        "it holds the lock"
    );
    child.start_kill().unwrap();
    child.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_holder_killed_mid_refresh_costs_nothing() {
    let redis = RedisServer::start();
    let emulator = emu::start().await;
    let fleet = on(&emulator, &redis);
    fleet.expired_pair().await;
    // Killed before asking Box: its lock expires, another process refreshes.
    // Killed after storing, before releasing: its lock expires, the others use what it stored.
    for (round, point) in [
        "token_manager::before_fetch",
        "redis_storage::stored",
        "token_manager::before_fetch",
        "redis_storage::stored",
    ]
    .iter()
    .enumerate()
    {
        let before = emulator.stats().requests(Grant::RefreshToken);
        kill_holder_at(&emulator, &redis, point).await;
        let prints = fleet
            .run(3, &[("TASKS", "10"), ("LOCK_TTL_MS", "1500")])
            .await;
        let token = fleet.stored_token().await;
        assert!(
            prints
                .iter()
                .all(|p| p["token_sha256"] == fingerprint(&token) && p["failures"] == 0),
            "round {round}: {prints:?}"
        );
        assert_eq!(
            emulator.stats().requests(Grant::RefreshToken) - before,
            1,
            "round {round} ({point}): one refresh in all"
        );
        assert_eq!(emu::users_me(&emulator, &token, None).await.0, 200);
        fleet.expire().await;
    }
    assert_eq!(
        emulator.stats().refresh_token_reuses,
        0,
        "no spent refresh token was ever sent again"
    );
}

/// Records every access token Redis holds, in order, until told to stop: polled every 5 ms, a
/// token stays there for about a second. While Redis is down the polls fail and are skipped.
struct Watcher {
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Watcher {
    fn start(fleet: &Fleet<'_>) -> Self {
        let (seen, stop) = (
            Arc::new(Mutex::new(Vec::new())),
            Arc::new(AtomicBool::new(false)),
        );
        let storage = fleet.storage();
        let task = tokio::spawn({
            let (seen, stop) = (seen.clone(), stop.clone());
            async move {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(Some(stored)) = storage.load().await {
                        let print = fingerprint(stored.access_token.secret());
                        let mut seen = seen.lock().unwrap();
                        if seen.last() != Some(&print) {
                            seen.push(print);
                        }
                    }
                    // Sampling, not waiting for a state: a token stays about a second.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        });
        Self { seen, stop, task }
    }

    /// How many tokens it has seen so far.
    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    async fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        Arc::try_unwrap(self.seen).unwrap().into_inner().unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_run_is_survived_without_help() {
    let mut redis = RedisServer::start();
    // Tokens live 10 s and are refreshed 9 s early: a refresh about every second, all through,
    // and every worker's token valid for seconds more when Redis stops (with 4 s and 3 s, one a
    // refresh behind the others could expire before the restart: a race, not what this test is
    // about). After its failed refresh a worker serves its token until it expires, then
    // refreshes through the restarted Redis: the run lasts for that and a few refreshes more.
    let mut config = EmulatorConfig::default();
    config.lifetimes.access_token = Duration::from_secs(10);
    let emulator = emu::start_with(config).await;
    let fleet = on(&emulator, &redis);
    fleet.expired_pair().await;
    let watcher = Watcher::start(&fleet);
    let mut children = fleet.spawn(
        4,
        &[("TASKS", "10"), ("RUN_SECS", "16"), ("MARGIN_SECS", "9")],
    );
    fleet::until("two refreshes", Duration::from_secs(30), || {
        emulator.stats().requests(Grant::RefreshToken) >= 2
    })
    .await;
    let refreshes_before_restart = emulator.stats().requests(Grant::RefreshToken);
    redis.stop();
    let seen_before_restart = watcher.count();
    // Down until the fleet meets it: the first worker whose refresh fails while its token is
    // still valid (whichever it is: one that failed before may be waiting out its back-off).
    let mut stderrs: Vec<fleet::Stderr> = children.iter_mut().map(fleet::Stderr::of).collect();
    futures_util::future::select_all(stderrs.iter_mut().map(|stderr| {
        Box::pin(stderr.wait_for("refresh failed; the current token is still valid"))
    }))
    .await;
    stderrs.into_iter().for_each(fleet::Stderr::drain);
    redis.restart();
    let prints = fleet::summaries(children).await;
    let seen = watcher.finish().await;
    assert!(refreshes_before_restart >= 1);
    assert!(
        emulator.stats().requests(Grant::RefreshToken) > refreshes_before_restart,
        "refreshes went on after the restart"
    );
    assert_eq!(
        emulator.stats().refresh_token_reuses,
        0,
        "nothing was refreshed twice"
    );
    let token = fleet.stored_token().await;
    assert_eq!(
        emu::users_me(&emulator, &token, None).await.0,
        200,
        "the token in Redis is live: nothing was lost"
    );
    assert_eq!(seen.last(), Some(&fingerprint(&token)));
    // The workers do not stop at the same instant and the token is refreshed about every second,
    // so one may end on the token before the last. What each must end on is a token that went
    // through Redis after the restart: it came back to the shared store by itself.
    let after_restart = &seen[seen_before_restart..];
    for print in &prints {
        assert_eq!(print["failures"], 0, "{print}");
        let ended_on = print["token_sha256"].as_str().unwrap();
        assert!(
            after_restart.iter().any(|seen| seen == ended_on),
            "{print} ended on a token Redis did not hold after the restart ({after_restart:?})"
        );
    }
    assert!(
        prints
            .iter()
            .any(|p| p["token_sha256"] == fingerprint(&token)),
        "whoever stored the last token ended on it"
    );
}
