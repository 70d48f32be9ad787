//! Benchmarks for the token vault (`cargo bench -p boxauth --features postgres --bench vault`):
//! a real PostgreSQL (started by the bench, as the tests start theirs) and an in-process
//! emulator. benches/README.md ("Vault") says what each measures and records the figures. Every
//! figure is a ratio against a baseline measured in the same run, in alternation, so load that
//! comes and goes hits both alike.
//!
//! 1. `cached`: `vault.auth(key).retrieve_token()` (the live-identity lookup included) against a
//!    plain `CachedAuth` on memory storage (goal ≤ 1.2×); and the same through an auth held.
//! 2. `cold load`: a process's first `retrieve_token()` of an identity (one `SELECT`, the AES-GCM
//!    open, the cache) against a bare primary-key `SELECT` of the row on a tokio-postgres
//!    connection of the same kind.
//! 3. `statements`: statements sent per refresh (goal 2), and on a process's first call.
//! 4. `sweep`: one keep-alive pass over 10,000 due identities against the emulator: refreshes per
//!    second, and Box requests per identity (exactly 1).
//! 5. `memory`: resident memory per live identity, 10,000 identities with a cached token.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use boxauth::{
    AuthOptions, Authentication, KeySet, OAuthConfig, StoredToken, SweepOptions, Vault, VaultKey,
    VaultStore,
};
use boxauth_emulator::{
    DEFAULT_ADMIN_ID, DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, EmulatorHandle,
    Grant,
};
use boxauth_test_support::emulator as emu;
use boxauth_test_support::postgres::{PgOptions, PgServer};
use tokio::runtime::Runtime;

const PAIRS: usize = 2_000;

/// The system allocator, counting the bytes live on the heap.
struct Counting;

static LIVE_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only an
// atomic integer.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller's contract for `dealloc` is passed on as is.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc_zeroed` is passed on as is.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller's contract for `realloc` is passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;
const SWEPT: usize = 10_000;

fn keys() -> (KeySet, String) {
    let (key, line) = VaultKey::generate("bench").unwrap();
    (KeySet::new(key, []).unwrap(), line.to_string())
}

fn vault(emulator: &EmulatorHandle, store: VaultStore, keys: KeySet) -> Vault {
    Vault::builder(OAuthConfig::new(ID, SECRET))
        .store(store)
        .keys(keys)
        .options(emu::options_for(emulator, AuthOptions::default()))
        .capacity(50_000)
        .build()
        .unwrap()
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Times `a` and `b` in alternation, `PAIRS` times each after a warm-up, `n` calls per sample:
/// the median ns per call of each.
fn paired(n: u32, mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    let time = |f: &mut dyn FnMut()| {
        let started = Instant::now();
        for _ in 0..n {
            f();
        }
        started.elapsed().as_nanos() as f64 / f64::from(n)
    };
    for _ in 0..100 {
        time(&mut a);
        time(&mut b);
    }
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for _ in 0..PAIRS {
        xs.push(time(&mut a));
        ys.push(time(&mut b));
    }
    (median(xs), median(ys))
}

/// Bytes live on the heap now.
fn heap() -> u64 {
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// `n` identities `prefix-i`, each a refresh token of its own from the emulator, the access
/// token valid an hour on the emulator's clock.
async fn identities(emulator: &EmulatorHandle, vault: &Vault, prefix: &str, n: usize) {
    for i in 0..n {
        let pair = emulator.issue_user_tokens(ID, DEFAULT_ADMIN_ID).unwrap();
        let token = StoredToken::from_access_token(pair, emulator.clock().now()).unwrap();
        vault
            .import_token(&format!("{prefix}-{i}"), token)
            .await
            .unwrap();
    }
}

fn main() {
    let runtime = Runtime::new().unwrap();
    let server = PgServer::start_with(PgOptions::fast());
    let emulator = runtime.block_on(emu::start());

    // 1. The cached path.
    let (keys_a, _) = keys();
    let memory_vault = vault(&emulator, VaultStore::memory(), keys_a);
    runtime.block_on(identities(&emulator, &memory_vault, "m", 1));
    let plain_storage = boxauth::MemoryStorage::new();
    let plain = runtime.block_on(async {
        let pair = emulator.issue_user_tokens(ID, DEFAULT_ADMIN_ID).unwrap();
        let token = StoredToken::from_access_token(pair, emulator.clock().now()).unwrap();
        boxauth::TokenStorage::store(&plain_storage, &token)
            .await
            .unwrap();
        boxauth::OAuth::with_options(
            OAuthConfig::new(ID, SECRET),
            emu::options_for(&emulator, AuthOptions::default()).storage(plain_storage),
        )
        .unwrap()
    });
    runtime.block_on(plain.retrieve_token()).unwrap();
    let held = memory_vault.auth("m-0").unwrap();
    for round in 1..=3 {
        let (vault_ns, plain_ns) = paired(
            1_000,
            || {
                let auth = memory_vault.auth("m-0").unwrap();
                std::hint::black_box(runtime.block_on(auth.retrieve_token()).unwrap());
            },
            || {
                std::hint::black_box(runtime.block_on(plain.retrieve_token()).unwrap());
            },
        );
        let (held_ns, plain2_ns) = paired(
            1_000,
            || {
                std::hint::black_box(runtime.block_on(held.retrieve_token()).unwrap());
            },
            || {
                std::hint::black_box(runtime.block_on(plain.retrieve_token()).unwrap());
            },
        );
        println!(
            "cached   round {round}: vault.auth(key).retrieve_token() {vault_ns:.1} ns / plain CachedAuth {plain_ns:.1} ns = {:.2}x; held auth {held_ns:.1} / {plain2_ns:.1} ns = {:.2}x",
            vault_ns / plain_ns,
            held_ns / plain2_ns
        );
    }

    // 2. A cold load against a bare primary-key SELECT, on PostgreSQL.
    let (pg_keys, line) = keys();
    let store = VaultStore::postgres(&server.url()).unwrap();
    let pg_vault = vault(&emulator, store.clone(), pg_keys);
    runtime.block_on(async {
        pg_vault.init().await.unwrap();
        identities(&emulator, &pg_vault, "p", 1).await;
    });
    let bare = runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let statement = client
            .prepare("SELECT sealed FROM boxauth_vault_identities WHERE user_key = $1")
            .await
            .unwrap();
        (client, statement)
    });
    // Each cold load is a new process's first call: a vault with nothing live.
    let cold_vaults: Vec<Vault> = (0..PAIRS + 100)
        .map(|_| vault(&emulator, store.clone(), KeySet::parse(&line).unwrap()))
        .collect();
    let mut cold = cold_vaults.iter();
    let (cold_ns, select_ns) = paired(
        1,
        || {
            let vault = cold.next().unwrap();
            std::hint::black_box(
                runtime
                    .block_on(vault.auth("p-0").unwrap().retrieve_token())
                    .unwrap(),
            );
        },
        || {
            let (client, statement) = &bare;
            std::hint::black_box(
                runtime
                    .block_on(client.query_one(statement, &[&"p-0"]))
                    .unwrap(),
            );
        },
    );
    println!(
        "cold     first retrieve_token(): {:.1} µs, bare SELECT {:.1} µs: {:.2}x",
        cold_ns / 1000.0,
        select_ns / 1000.0,
        cold_ns / select_ns
    );

    // 3. Statements per refresh.
    runtime.block_on(async {
        let fresh = vault(&emulator, store.clone(), KeySet::parse(&line).unwrap());
        identities(&emulator, &fresh, "s", 2).await;
        emulator.clock().advance(Duration::from_secs(3601));
        let auth = fresh.auth("s-0").unwrap();
        let before = store.statements();
        auth.retrieve_token().await.unwrap();
        let first = store.statements() - before;
        emulator.clock().advance(Duration::from_secs(3601));
        let before = store.statements();
        auth.retrieve_token().await.unwrap();
        let warm = store.statements() - before;
        println!("statements per refresh: {warm} (identity live in the process), {first} (its first call)");
    });

    // 4. The keep-alive over 10,000 due identities.
    runtime.block_on(async {
        let sweeper = vault(&emulator, store.clone(), KeySet::parse(&line).unwrap());
        identities(&emulator, &sweeper, "due", SWEPT).await;
        emulator.clock().advance(Duration::from_secs(40 * 24 * 3600));
        let before = emulator.stats().requests(Grant::RefreshToken);
        let started = Instant::now();
        let report = sweeper
            .sweep(&SweepOptions::default().per_second(0.0).concurrency(32).batch(500))
            .await
            .unwrap();
        let elapsed = started.elapsed();
        let requests = emulator.stats().requests(Grant::RefreshToken) - before;
        println!(
            "sweep    {} identities refreshed in {:.1} s: {:.0} refreshes/s; Box requests per identity {:.3}; failed {}",
            report.refreshed,
            elapsed.as_secs_f64(),
            report.refreshed as f64 / elapsed.as_secs_f64(),
            requests as f64 / report.claimed.max(1) as f64,
            report.failed
        );
    });

    // 5. Memory per live identity.
    runtime.block_on(async {
        let (keys_m, line_m) = keys();
        let store = VaultStore::memory();
        let seeded = vault(&emulator, store.clone(), keys_m);
        identities(&emulator, &seeded, "live", 10_000).await;
        // Another vault on the same store: none of them live in it yet.
        let many = vault(&emulator, store, KeySet::parse(&line_m).unwrap());
        let before = heap();
        for i in 0..10_000 {
            many.auth(&format!("live-{i}"))
                .unwrap()
                .retrieve_token()
                .await
                .unwrap();
        }
        let after = heap();
        println!(
            "memory   {} live identities, a cached token each: {:.0} bytes each on the heap",
            many.live_identities(),
            after.saturating_sub(before) as f64 / 10_000.0,
        );
    });
}
