//! RedisStorage benchmarks: `cargo bench -p boxauth --features redis --bench redis`.
//!
//! 1. `cached/*`: `retrieve_token` on a valid token with MemoryStorage, FileStorage and
//!    RedisStorage. The fast path never touches the storage, so the three should be alike (aim:
//!    Redis within 1.2× of memory).
//!    `cluster` is RedisStorage on a Redis Cluster (three primaries, three replicas).
//! 2. `refresh/*`: a forced refresh with each storage: memory (no coordination), a file (flock,
//!    re-read, journaled and fsynced write), Redis (SET NX PX, GET, the owner-checked Lua store
//!    with PUBLISH, the compare-and-delete release) kept in memory (`redis`) or with an append-only
//!    file fsynced on every write (`redis_fsync`), and the cluster with `WAIT` for one replica
//!    (`cluster`, the default there) and without (`cluster_nowait`). The difference to memory is
//!    what coordination costs; the cluster's is also given against the one server (`redis`).
//!
//! A real redis-server, a real cluster and the emulator run in this process's machine; the
//! medians and ratios are printed at the end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use boxauth::{
    AuthOptions, Authentication, CcgAuth, FileStorage, MemoryStorage, RedisStorage, TokenStorage,
};
use boxauth_emulator::EmulatorHandle;
use boxauth_test_support::bench::{self, criterion_median_ns};
use boxauth_test_support::emulator as emu;
use boxauth_test_support::redis::RedisServer;
use boxauth_test_support::redis_fleet::RedisCluster;
use criterion::Criterion;

fn ccg(emulator: &EmulatorHandle, storage: impl TokenStorage + 'static) -> CcgAuth {
    emu::ccg_auth(emulator, AuthOptions::default().storage(storage))
}

/// Median of a sample, which it sorts.
fn median_of(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// `rounds` alternations of `per_round` calls on `a` then on `b` (the order swapped every round),
/// so that load from other processes hits both alike. Returns the median ns per call of each.
fn paired(
    rt: &tokio::runtime::Runtime,
    rounds: usize,
    per_round: usize,
    a: impl AsyncFn(),
    b: impl AsyncFn(),
) -> (f64, f64) {
    async fn time(per_round: usize, f: &impl AsyncFn()) -> f64 {
        let start = std::time::Instant::now();
        for _ in 0..per_round {
            f().await;
        }
        start.elapsed().as_nanos() as f64 / per_round as f64
    }
    let (mut xs, mut ys) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for round in 0..rounds {
        if round % 2 == 0 {
            xs.push(rt.block_on(time(per_round, &a)));
            ys.push(rt.block_on(time(per_round, &b)));
        } else {
            ys.push(rt.block_on(time(per_round, &b)));
            xs.push(rt.block_on(time(per_round, &a)));
        }
    }
    (median_of(&mut xs), median_of(&mut ys))
}

fn main() {
    let since = std::time::SystemTime::now();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(50)
        .configure_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let emulator = rt.block_on(emu::start());
    let durable = RedisServer::start();
    let in_memory = RedisServer::start_in_memory();
    let cluster = RedisCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let auths = [
        ("memory", ccg(&emulator, MemoryStorage::new())),
        (
            "file",
            ccg(&emulator, FileStorage::new(dir.path().join("token.json"))),
        ),
        (
            "redis",
            ccg(
                &emulator,
                RedisStorage::new(&in_memory.url(), "boxauth:bench").unwrap(),
            ),
        ),
        (
            "redis_fsync",
            ccg(
                &emulator,
                RedisStorage::new(&durable.url(), "boxauth:bench").unwrap(),
            ),
        ),
        (
            "cluster",
            ccg(
                &emulator,
                RedisStorage::new(&cluster.url(), "boxauth:bench").unwrap(),
            ),
        ),
        (
            "cluster_nowait",
            ccg(
                &emulator,
                RedisStorage::new(&cluster.url(), "boxauth:bench:nowait")
                    .unwrap()
                    .with_replicas(0, Duration::from_millis(1)),
            ),
        ),
    ];
    for (_, auth) in &auths {
        rt.block_on(auth.retrieve_token()).unwrap();
    }

    let mut group = c.benchmark_group("cached");
    for (name, auth) in auths.iter().filter(|(name, _)| *name != "cluster_nowait") {
        group.bench_function(*name, |b| b.to_async(&rt).iter(|| auth.retrieve_token()));
    }
    group.finish();

    let mut group = c.benchmark_group("refresh");
    group.measurement_time(Duration::from_secs(6));
    for (name, auth) in &auths {
        group.bench_function(*name, |b| b.to_async(&rt).iter(|| auth.refresh_token()));
    }
    group.finish();
    c.final_summary();

    if bench::measuring() {
        // The same comparisons, interleaved: the ratios to trust on a shared machine.
        let memory = &auths[0].1;
        eprintln!("\npaired (interleaved) medians, ns per call, and ratio against memory:");
        for (name, auth) in auths[1..].iter().filter(|(n, _)| *n != "cluster_nowait") {
            let (base, value) = paired(
                &rt,
                200,
                20_000,
                async || drop(memory.retrieve_token().await.unwrap()),
                async || drop(auth.retrieve_token().await.unwrap()),
            );
            eprintln!(
                "  cached   {name:<12} memory {base:>8.1}  {name} {value:>8.1}  {:>6.3}x",
                value / base
            );
        }
        for (name, auth) in &auths[1..] {
            let (base, value) = paired(
                &rt,
                300,
                1,
                async || drop(memory.refresh_token().await.unwrap()),
                async || drop(auth.refresh_token().await.unwrap()),
            );
            eprintln!(
                "  refresh  {name:<12} memory {base:>8.0}  {name} {value:>8.0}  {:>6.3}x  ({:+.0} ns)",
                value / base,
                value - base
            );
        }
        // The cluster's refresh against the one server's.
        let single = &auths[2].1;
        for (name, auth) in auths.iter().filter(|(n, _)| n.starts_with("cluster")) {
            let (base, value) = paired(
                &rt,
                300,
                1,
                async || drop(single.refresh_token().await.unwrap()),
                async || drop(auth.refresh_token().await.unwrap()),
            );
            eprintln!(
                "  refresh  {name:<14} redis {base:>8.0}  {name} {value:>8.0}  {:>6.3}x  ({:+.0} ns)",
                value / base,
                value - base
            );
        }
        eprintln!("\nmedians (ns) and ratios against memory:");
        for group in ["cached", "refresh"] {
            let base = criterion_median_ns(&format!("{group}/memory"), since);
            for name in [
                "memory",
                "file",
                "redis",
                "redis_fsync",
                "cluster",
                "cluster_nowait",
            ] {
                let value = criterion_median_ns(&format!("{group}/{name}"), since);
                if let (Some(value), Some(base)) = (value, base) {
                    eprintln!(
                        "  {group:<8} {name:<12} {value:>10.0} ns  {:>6.2}x  ({:+.0} ns)",
                        value / base,
                        value - base
                    );
                }
            }
        }
    }
    rt.block_on(emulator.shutdown());
}
