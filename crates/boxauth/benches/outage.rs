//! Box's token endpoint failing (`cargo bench -p boxauth --bench outage`): how long callers wait
//! and how many token requests reach Box. benches/README.md records the figures, with those of
//! the token manager before the rework (same scenario, same machine).
//!
//! Two scenarios, each for 20 s of wall time with an in-process emulator answering 503 to every
//! request: 50 tasks call `retrieve_token()` on one `CcgAuth` in a loop (10 ms between calls),
//! its session retrying 3 times from a 100 ms base delay (the scenario of issue 11):
//! - `valid`: the cached token has 40 s left, inside the 60 s refresh margin;
//! - `expired`: the cached token has just expired.
//!
//! Printed per scenario: calls made, errors, the p50/p99/max wait of a call, and the token
//! requests that reached Box (per minute).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use boxauth::{
    AuthOptions, Authentication, CcgAuth, CcgConfig, NetworkSession, ProxyConfig, RetryPolicy,
};
use boxauth_emulator::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ENTERPRISE_ID, EmulatorHandle, Fault,
};
use boxauth_test_support::emulator as emu;

const CALLERS: usize = 50;
const WINDOW: Duration = Duration::from_secs(20);

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// `token_age`: how far the emulator's clock (and the auth's) is moved after the first token.
async fn scenario(emulator: &EmulatorHandle, name: &str, token_age: Duration) {
    emulator.faults().clear();
    let session = NetworkSession::builder()
        .urls(emulator.urls())
        .proxy(ProxyConfig::None)
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(3)
                .base_delay(Duration::from_millis(100)),
        )
        .build()
        .unwrap();
    let auth = Arc::new(
        CcgAuth::with_options(
            CcgConfig::enterprise(
                DEFAULT_CLIENT_ID,
                DEFAULT_CLIENT_SECRET,
                DEFAULT_ENTERPRISE_ID,
            ),
            emu::options_for(emulator, AuthOptions::default()).session(session),
        )
        .unwrap(),
    );
    auth.retrieve_token().await.unwrap();
    emulator.clock().advance(token_age);
    emulator.faults().set_rate(1.0, vec![Fault::Status(503)]);
    let before = emulator.faults().injected();
    let start = Instant::now();
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let auth = auth.clone();
            tokio::spawn(async move {
                let mut waits = Vec::new();
                let mut errors = 0usize;
                while start.elapsed() < WINDOW {
                    let called = Instant::now();
                    if auth.retrieve_token().await.is_err() {
                        errors += 1;
                    }
                    waits.push(called.elapsed());
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                (waits, errors)
            })
        })
        .collect();
    let mut waits = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (w, e) = task.await.unwrap();
        waits.extend(w);
        errors += e;
    }
    let elapsed = start.elapsed();
    let sent = emulator.faults().injected() - before;
    let calls = waits.len();
    let (p50, p99) = (percentile(&mut waits, 50.0), percentile(&mut waits, 99.0));
    let max = *waits.last().unwrap();
    eprintln!(
        "outage {name}: {CALLERS} callers for {elapsed:.1?}: {calls} calls ({errors} errors), wait p50 {p50:.1?} \
         p99 {p99:.1?} max {max:.1?}; token requests reaching Box: {sent} ({:.0} per minute)",
        sent as f64 * 60.0 / elapsed.as_secs_f64()
    );
    emulator.faults().clear();
}

fn main() {
    // `cargo test --benches` only checks that the bench builds; it measures under `--bench`.
    if !boxauth_test_support::bench::measuring() {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for (name, age) in [
            ("token inside the margin (valid)", 3600 - 40),
            ("token expired", 3601),
        ] {
            let emulator = emu::start().await;
            scenario(&emulator, name, Duration::from_secs(age)).await;
            emulator.shutdown().await;
        }
    });
}
