//! Benchmarks for the auth schemes (`cargo bench -p boxauth --bench auth`); benches/README.md
//! says what each one measures and records the figures.
//!
//! 1. `retrieve_token/*`: the cached path of a CCG auth pointed at an in-process emulator.
//! 2. `jwt_assertion/*`: `JwtAuth::create_assertion` against a bare aws-lc-rs RSA signature of
//!    the same signing input with the same key.
//! 3. `stampede`: 1000 tasks ask one auth whose cached token has just expired; a custom
//!    measurement (printed, not a criterion bench) of token requests sent and per-task waits.
//! 4. `allocations`: heap allocations of 100,000 cached `retrieve_token()` calls, counted by a
//!    global allocator that counts the calling thread's allocations (aim: none).
//!
//! At the end the medians criterion wrote are read back and printed with the build/bare ratio.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use boxauth::{AuthOptions, Authentication, CcgAuth, JwtAuth, JwtConfig, PrivateKey, Subject};
use boxauth_emulator::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ENTERPRISE_ID, EmulatorHandle, Grant,
};
use boxauth_test_support::bench::{self, criterion_median_ns};
use boxauth_test_support::emulator as emu;
use criterion::Criterion;
use tokio::runtime::Runtime;

const KEY_PEM: &str = include_str!("../tests/fixtures/keys/plain-pkcs8.pem");
const STAMPEDE_TASKS: usize = 1000;
const STAMPEDE_ROUNDS: usize = 20;
/// Interleaved build/bare pairs for the paired ratio (robust to load that comes and goes).
const PAIRS: usize = 1000;

/// The system allocator, counting the allocations each thread makes.
struct Counting;

thread_local! {
    // Const-initialised and without a destructor: usable inside the allocator.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only a
// thread-local integer.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc` is passed on as is.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract for `alloc_zeroed` is passed on as is.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract for `realloc` is passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations_here() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Allocations made by `calls` cached `retrieve_token()` calls on this thread (`block_on` runs
/// the future on the calling thread), direct and through `dyn Authentication`.
fn cached_allocations(rt: &Runtime, emulator: &EmulatorHandle) {
    const CALLS: u64 = 100_000;
    let auth = ccg(emulator, boxauth::DEFAULT_REFRESH_MARGIN);
    let shared: Arc<dyn Authentication> = Arc::new(auth.clone());
    let (direct, through_dyn) = rt.block_on(async {
        auth.retrieve_token().await.unwrap();
        let before = allocations_here();
        for _ in 0..CALLS {
            black_box(auth.retrieve_token().await.unwrap());
        }
        let direct = allocations_here() - before;
        let before = allocations_here();
        for _ in 0..CALLS {
            black_box(shared.retrieve_token().await.unwrap());
        }
        (direct, allocations_here() - before)
    });
    eprintln!(
        "allocations: {CALLS} cached retrieve_token() calls allocated {direct} times \
         ({through_dyn} through dyn Authentication)"
    );
    assert_eq!(direct + through_dyn, 0, "the cached path allocates");
}

fn ccg(emulator: &EmulatorHandle, refresh_margin: Duration) -> CcgAuth {
    emu::ccg_auth(
        emulator,
        AuthOptions::default().refresh_margin(refresh_margin),
    )
}

fn bench_cached(c: &mut Criterion, rt: &Runtime, emulator: &EmulatorHandle) {
    let auth = ccg(emulator, boxauth::DEFAULT_REFRESH_MARGIN);
    let first = rt.block_on(auth.retrieve_token()).unwrap();
    let again = rt.block_on(auth.retrieve_token()).unwrap();
    assert!(
        Arc::ptr_eq(&first, &again),
        "the warm-up token must be served from the cache"
    );
    let shared: Arc<dyn Authentication> = Arc::new(auth.clone());
    let before = emulator.stats().requests(Grant::ClientCredentials);
    eprintln!(
        "retrieve_token: the future a call returns is {} bytes, on the caller's stack",
        std::mem::size_of_val(&auth.retrieve_token())
    );

    let mut group = c.benchmark_group("retrieve_token");
    group.bench_function("cached", |b| b.to_async(rt).iter(|| auth.retrieve_token()));
    group.bench_function("cached_dyn", |b| {
        b.to_async(rt).iter(|| shared.retrieve_token())
    });
    group.bench_function("authorization_header", |b| {
        b.to_async(rt).iter(|| shared.authorization_header())
    });
    group.finish();
    let sent = emulator.stats().requests(Grant::ClientCredentials) - before;
    assert_eq!(sent, 0, "the cached path sent {sent} token requests");
}

/// The fixture key as aws-lc-rs reads it, for the bare baseline.
fn bare_key() -> RsaKeyPair {
    let body: String = KEY_PEM
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = <base64ct::Base64 as base64ct::Encoding>::decode_vec(&body).unwrap();
    RsaKeyPair::from_pkcs8(&der).unwrap()
}

fn jwt_auth() -> JwtAuth {
    let key = PrivateKey::from_pem(KEY_PEM, None).unwrap();
    let config = JwtConfig::new(
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        "kid-1",
        key,
        Subject::Enterprise(DEFAULT_ENTERPRISE_ID.into()),
    );
    // Never sends: only create_assertion is measured.
    JwtAuth::new(config).unwrap()
}

/// `header.claims` of a real assertion: the bare signature signs exactly these bytes.
fn signing_input(auth: &JwtAuth) -> Vec<u8> {
    let assertion = auth.create_assertion().unwrap();
    let jwt = assertion.secret();
    jwt.as_bytes()[..jwt.rfind('.').unwrap()].to_vec()
}

fn bare_sign(key: &RsaKeyPair, rng: &SystemRandom, input: &[u8], signature: &mut [u8]) {
    key.sign(&RSA_PKCS1_SHA256, rng, input, signature).unwrap();
}

fn bench_assertion(c: &mut Criterion) {
    let auth = jwt_auth();
    let key = bare_key();
    let rng = SystemRandom::new();
    let input = signing_input(&auth);
    let mut signature = vec![0; key.public_modulus_len()];
    eprintln!(
        "jwt_assertion: signing input {} bytes, signature {} bytes",
        input.len(),
        signature.len()
    );

    let mut group = c.benchmark_group("jwt_assertion");
    group.bench_function("build", |b| b.iter(|| auth.create_assertion().unwrap()));
    group.bench_function("bare_sign", |b| {
        b.iter(|| bare_sign(&key, &rng, black_box(&input), &mut signature));
    });
    group.finish();
}

/// Medians of build and bare sign timed in alternation, so background load hits both alike.
fn paired_ratio() {
    let auth = jwt_auth();
    let key = bare_key();
    let rng = SystemRandom::new();
    let input = signing_input(&auth);
    let mut signature = vec![0; key.public_modulus_len()];
    let mut build = Vec::with_capacity(PAIRS);
    let mut bare = Vec::with_capacity(PAIRS);
    for _ in 0..PAIRS {
        let start = Instant::now();
        black_box(auth.create_assertion().unwrap());
        build.push(start.elapsed());
        let start = Instant::now();
        bare_sign(&key, &rng, black_box(&input), &mut signature);
        bare.push(start.elapsed());
    }
    let (build, bare) = (percentile(&mut build, 50.0), percentile(&mut bare, 50.0));
    eprintln!(
        "jwt_assertion paired ({PAIRS} interleaved pairs): build median {build:?}, bare_sign median {bare:?}, ratio {:.3}",
        build.as_secs_f64() / bare.as_secs_f64()
    );
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// Each round moves the emulator's clock (which the auth decides expiry on) past the cached
/// token's expiry, then releases 1000 tasks at once.
fn stampede(rt: &Runtime, emulator: &EmulatorHandle) {
    let auth = ccg(emulator, boxauth::DEFAULT_REFRESH_MARGIN);
    let mut previous = rt.block_on(auth.retrieve_token()).unwrap();
    let mut all = Waits::default();
    let mut requests = Vec::with_capacity(STAMPEDE_ROUNDS);
    for round in 1..=STAMPEDE_ROUNDS {
        emulator.clock().advance(Duration::from_secs(3601));
        let (sent, mut waits, wall) = rt.block_on(async {
            let before = emulator.stats().requests(Grant::ClientCredentials);
            let barrier = Arc::new(tokio::sync::Barrier::new(STAMPEDE_TASKS));
            let round_start = Instant::now();
            let tasks: Vec<_> = (0..STAMPEDE_TASKS)
                .map(|_| {
                    let (auth, barrier) = (auth.clone(), barrier.clone());
                    tokio::spawn(async move {
                        barrier.wait().await;
                        let start = Instant::now();
                        let token = auth.retrieve_token().await.unwrap();
                        (start, Instant::now(), token)
                    })
                })
                .collect();
            let mut spans = Vec::with_capacity(STAMPEDE_TASKS);
            let mut tokens = Vec::with_capacity(STAMPEDE_TASKS);
            for task in tasks {
                let (start, end, token) = task.await.unwrap();
                spans.push((start, end));
                tokens.push(token);
            }
            // The first call starts when the barrier opens: a task the scheduler reaches late
            // waited from then, though its own call may find the new token at once.
            let released = spans.iter().map(|(start, _)| *start).min().unwrap();
            let waits = Waits {
                in_call: spans.iter().map(|(start, end)| *end - *start).collect(),
                since_release: spans.iter().map(|(_, end)| *end - released).collect(),
            };
            let wall = round_start.elapsed();
            let first = tokens[0].clone();
            assert!(
                !Arc::ptr_eq(&first, &previous),
                "round {round}: the expired token was handed out"
            );
            let distinct = tokens.iter().filter(|t| !Arc::ptr_eq(t, &first)).count();
            if distinct > 0 {
                eprintln!(
                    "stampede round {round}: {distinct} tasks got another token than the first"
                );
            }
            previous = first;
            (
                emulator.stats().requests(Grant::ClientCredentials) - before,
                waits,
                wall,
            )
        });
        eprintln!(
            "stampede round {round:2}: {STAMPEDE_TASKS} tasks, token requests sent: {sent}, {}, round {wall:.1?}",
            waits.report()
        );
        requests.push(sent);
        all.in_call.extend(waits.in_call);
        all.since_release.extend(waits.since_release);
    }
    eprintln!(
        "stampede: {STAMPEDE_TASKS} tasks x {STAMPEDE_ROUNDS} rounds, token requests per round: min {}, max {}, \
         total {}; over all rounds: {}",
        requests.iter().min().unwrap(),
        requests.iter().max().unwrap(),
        requests.iter().sum::<u64>(),
        all.report()
    );
}

/// Per-task waits of a stampede: inside its own `retrieve_token` call, and from the moment the
/// barrier released every task (scheduling delay included).
#[derive(Default)]
struct Waits {
    in_call: Vec<Duration>,
    since_release: Vec<Duration>,
}

impl Waits {
    fn report(&mut self) -> String {
        let mut line = String::new();
        for (name, waits) in [
            ("in-call", &mut self.in_call),
            ("since release", &mut self.since_release),
        ] {
            let (p50, p99) = (percentile(waits, 50.0), percentile(waits, 99.0));
            let max = *waits.last().unwrap();
            if !line.is_empty() {
                line.push_str("; ");
            }
            line.push_str(&format!(
                "wait {name} p50 {p50:.1?} p99 {p99:.1?} max {max:.1?}"
            ));
        }
        line
    }
}

fn summary(since: SystemTime) {
    let ids = [
        "retrieve_token/cached",
        "retrieve_token/cached_dyn",
        "retrieve_token/authorization_header",
        "jwt_assertion/build",
        "jwt_assertion/bare_sign",
    ];
    eprintln!("\nmedians (criterion, this run):");
    for id in ids {
        match criterion_median_ns(id, since) {
            Some(ns) => eprintln!("  {id:<38} {ns:>12.1} ns"),
            None => eprintln!("  {id:<38} {:>12}", "not run"),
        }
    }
    if let (Some(build), Some(bare)) = (
        criterion_median_ns(ids[3], since),
        criterion_median_ns(ids[4], since),
    ) {
        eprintln!(
            "  jwt_assertion build/bare_sign ratio: {:.3} (aim: <= 1.2)",
            build / bare
        );
    }
}

fn main() {
    let since = SystemTime::now();
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
    // `cargo bench -- FILTER` narrows the criterion benches; the custom ones run on their own name.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    // Without `--bench` (`cargo test --benches`), or with `--test`/`--list`, criterion only checks
    // that each bench runs; the custom measurements are skipped then.
    let measuring = bench::measuring();

    bench_cached(&mut c, &rt, &emulator);
    if wanted("allocations") {
        cached_allocations(&rt, &emulator);
    }
    bench_assertion(&mut c);
    if measuring && wanted("jwt_assertion") {
        paired_ratio();
    }
    if measuring && wanted("stampede") {
        stampede(&rt, &emulator);
    }
    c.final_summary();
    if measuring {
        summary(since);
    }
    rt.block_on(emulator.shutdown());
}
