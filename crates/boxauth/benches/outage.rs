//! Box's token endpoint failing (`cargo bench -p boxauth --bench outage`): what callers wait and
//! how many token requests reach Box. benches/README.md records the figures.
//!
//! BASELINE VERSION (today's API, before the token-manager rework): kept only to measure the
//! old behaviour; replaced by the rework.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use boxauth::{
    AuthOptions, Authentication, MemoryStorage, NetworkSession, ProxyConfig, RetryPolicy,
    StoredToken, TokenStorage,
};
use boxauth::{CcgAuth, CcgConfig};
use boxauth_emulator::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ENTERPRISE_ID, EmulatorHandle, Fault,
};
use boxauth_test_support::emulator as emu;

const CALLERS: usize = 50;
const WINDOW: Duration = Duration::from_secs(20);

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

async fn scenario(emulator: &EmulatorHandle, name: &str, valid_for: i64) {
    emulator.faults().clear();
    let session = NetworkSession::builder()
        .urls(emulator.urls())
        .proxy(ProxyConfig::None)
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let storage = MemoryStorage::new();
    let seed = emu::ccg_auth(emulator, AuthOptions::default())
        .retrieve_token()
        .await
        .unwrap();
    let mut stored: StoredToken = (*seed).clone();
    stored.expires_at = UNIX_EPOCH + Duration::from_secs((unix_now() + valid_for) as u64);
    storage.store(&stored).await.unwrap();
    let auth = Arc::new(
        CcgAuth::with_options(
            CcgConfig::enterprise(
                DEFAULT_CLIENT_ID,
                DEFAULT_CLIENT_SECRET,
                DEFAULT_ENTERPRISE_ID,
            ),
            AuthOptions::default().storage(storage).session(session),
        )
        .unwrap(),
    );
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
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let emulator = emu::start().await;
        scenario(&emulator, "token inside the margin (valid)", 40).await;
        scenario(&emulator, "token expired", -1).await;
        emulator.shutdown().await;
    });
}
