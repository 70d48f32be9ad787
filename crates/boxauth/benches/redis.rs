//! RedisStorage benchmarks: `cargo bench -p boxauth --features redis --bench redis`.
//!
//! 1. `cached/*`: `retrieve_token` on a valid token with MemoryStorage, FileStorage and
//!    RedisStorage. The fast path never touches the storage, so the three should be alike (aim:
//!    Redis within 1.2× of memory).
//! 2. `refresh/*`: a forced refresh with each storage: memory (no coordination), a file (flock,
//!    re-read, journaled and fsynced write), Redis (SET NX PX, GET, the owner-checked Lua store
//!    with PUBLISH, the compare-and-delete release) kept in memory (`redis`) or with an append-only
//!    file fsynced on every write (`redis_fsync`). The difference to memory is what coordination
//!    costs.
//!
//! A real redis-server and the emulator run in this process's machine; the medians and ratios are
//! printed at the end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use boxauth::{
    AuthOptions, Authentication, CcgAuth, CcgConfig, FileStorage, MemoryStorage, RedisStorage,
    TokenStorage,
};
use boxauth_emulator::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ENTERPRISE_ID, EmulatorHandle,
};
use boxauth_test_support::emulator as emu;
use boxauth_test_support::redis::RedisServer;
use criterion::Criterion;

fn ccg(emulator: &EmulatorHandle, storage: impl TokenStorage + 'static) -> CcgAuth {
    let config = CcgConfig::enterprise(
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        DEFAULT_ENTERPRISE_ID,
    );
    CcgAuth::with_options(
        config,
        AuthOptions::default()
            .session(emu::session(emulator))
            .storage(storage),
    )
    .unwrap()
}

/// The median criterion recorded for `group/name`, in nanoseconds.
fn median(group: &str, name: &str) -> Option<f64> {
    let root = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target")
        });
    let path = root
        .join("criterion")
        .join(group)
        .join(name)
        .join("new/estimates.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn main() {
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
    ];
    for (_, auth) in &auths {
        rt.block_on(auth.retrieve_token()).unwrap();
    }

    let mut group = c.benchmark_group("cached");
    for (name, auth) in &auths {
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

    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test" || a == "--list") {
        eprintln!("\nmedians (ns) and ratios against memory:");
        for group in ["cached", "refresh"] {
            let base = median(group, "memory");
            for name in ["memory", "file", "redis", "redis_fsync"] {
                if let (Some(value), Some(base)) = (median(group, name), base) {
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
