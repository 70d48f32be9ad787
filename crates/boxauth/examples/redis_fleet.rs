//! A fleet worker: one Box identity (OAuth 2.0 tokens) shared through Redis by every process on
//! every machine, and by every task in each process. Run as many as you like: a refresh happens
//! once, and nobody burns the single-use refresh token for the others.
//!
//! ```sh
//! BOX_CLIENT_ID=… BOX_CLIENT_SECRET=… REDIS_URL=redis://127.0.0.1:6379/0 \
//!   cargo run -p boxauth --features redis --example redis_fleet
//! ```
//!
//! `REDIS_URL` may also be `redis-cluster://…` or `redis-sentinel://…/MASTER_NAME`. The tokens
//! must be in Redis first; a login stores them under the namespace the example reads by default:
//!
//! ```sh
//! boxauth env add fleet --oauth --client-id … --client-secret … --token-store redis://127.0.0.1:6379/0
//! boxauth login --env fleet      # the tokens go to Redis under boxauth:env:fleet
//! ```
//!
//! Settings (environment): `BOX_BASE_URL`, `REDIS_NAMESPACE` (default `boxauth:env:fleet`, where
//! `boxauth login --env fleet` keeps them), `TASKS` (default 50), `RUN_SECS` (0: each task asks
//! once; otherwise every task asks every 50 ms for that long), `MARGIN_SECS` (refresh margin,
//! default 60), `LOCK_TTL_MS`, `REDIS_REPLICAS` (how many replicas a new token must reach; the
//! URL's default otherwise), `FLUSH_SECS` (how long to wait before exiting for Redis to confirm a
//! new token, default 10).
//! It prints one JSON line: a fingerprint of the token every task ended with (the first 16 hex
//! digits of its SHA-256: never the token itself), how many distinct tokens it saw, how many
//! requests failed, and what Redis had not confirmed when it exited (null: nothing).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use boxauth::{
    AuthOptions, Authentication, BoxUrls, NetworkSession, OAuth, OAuthConfig, RedisStorage,
};

fn var(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name).map_err(|_| format!("set {name}").into())
}

/// The first 16 hex digits of the token's SHA-256: enough to compare tokens, useless to call Box.
fn fingerprint(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // boxauth's warnings on stderr: a refresh that failed, a token Redis has not confirmed, a
    // failover being waited out.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
        .init();
    let session = NetworkSession::builder()
        .urls(BoxUrls::from_env()?)
        .build()?;
    let namespace = std::env::var("REDIS_NAMESPACE").unwrap_or_else(|_| "boxauth:env:fleet".into());
    let mut storage = RedisStorage::new(&var("REDIS_URL")?, &namespace)?;
    if let Ok(ttl) = std::env::var("LOCK_TTL_MS") {
        storage = storage.with_lock_ttl(Duration::from_millis(ttl.parse()?));
    }
    if let Ok(replicas) = std::env::var("REDIS_REPLICAS") {
        storage = storage.with_replicas(replicas.parse()?, Duration::from_secs(1));
    }
    let options = AuthOptions::default()
        .session(session)
        .storage(storage)
        .refresh_margin(Duration::from_secs(number("MARGIN_SECS", 60)));
    let auth = Arc::new(OAuth::with_options(
        OAuthConfig::new(var("BOX_CLIENT_ID")?, var("BOX_CLIENT_SECRET")?),
        options,
    )?);

    let tasks = number("TASKS", 50) as usize;
    let run_for = Duration::from_secs(number("RUN_SECS", 0));
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let barrier = Arc::new(tokio::sync::Barrier::new(tasks));
    let started = Instant::now();
    let workers: Vec<_> = (0..tasks)
        .map(|_| {
            let (auth, seen, failures, barrier) = (
                auth.clone(),
                seen.clone(),
                failures.clone(),
                barrier.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                loop {
                    match auth.retrieve_token().await {
                        Ok(token) => {
                            let access = token.access_token.secret().to_owned();
                            seen.lock().unwrap().insert(access);
                        }
                        Err(error) => failures.lock().unwrap().push(error.report()),
                    }
                    if started.elapsed() >= run_for {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await?;
    }
    let last = auth.retrieve_token().await?;
    // Before exiting, as a server does on shutdown: a new token no replica has confirmed yet
    // (or that Redis did not take during a failover) is written again until it is, or the time
    // runs out. Exiting without this takes what may be the only copy of the identity's
    // refresh token with the process.
    let unconfirmed = auth
        .flush(Duration::from_secs(number("FLUSH_SECS", 10)))
        .await
        .err()
        .map(|unconfirmed| unconfirmed.to_string());
    let failures = failures.lock().unwrap().clone();
    let summary = serde_json::json!({
        "token_sha256": fingerprint(last.access_token.secret()),
        "distinct_tokens": seen.lock().unwrap().len(),
        "failures": failures.len(),
        "first_failure": failures.first(),
        "unconfirmed": unconfirmed,
    });
    println!("{summary}");
    Ok(())
}
