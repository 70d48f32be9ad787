//! A vault worker: one process of an app's fleet, serving many users whose Box tokens live in
//! one PostgreSQL vault. Run as many as you like, on as many hosts: each identity is refreshed
//! once, and no refresh token is spent twice.
//!
//! ```sh
//! BOX_CLIENT_ID=… BOX_CLIENT_SECRET=… BOXAUTH_VAULT_STORE=postgres://app:pw@db/app \
//! BOXAUTH_VAULT_KEY="$(cat vault.key)" USERS=user-0..user-999 \
//!   cargo run -p boxauth --features postgres --example vault_worker
//! ```
//!
//! For each user key of `USERS` (`PREFIX-FIRST..PREFIX-LAST`, or a comma-separated list) it gets
//! a token, `CONCURRENCY` (default 64) at a time, and prints one JSON line per identity: the
//! user key and a fingerprint of its token (the first 16 hex digits of its SHA-256, never the
//! token), or the error. Settings (environment): `BOX_BASE_URL`, `LEASE_SECS` (default 120),
//! `FETCH_DEADLINE_SECS` (default 60).

use std::sync::Arc;
use std::time::Duration;

use boxauth::{AuthOptions, BoxUrls, KeySet, NetworkSession, OAuthConfig, Vault, VaultStore};

fn var(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name).map_err(|_| format!("set {name}").into())
}

fn number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The first 16 hex digits of the token's SHA-256: enough to compare tokens, useless to call Box.
fn fingerprint(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `user-0..user-9` → user-0 … user-9; `a,b,c` → a, b, c.
fn user_keys(spec: &str) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    if let Some((first, last)) = spec.split_once("..") {
        let (prefix, from) = first
            .rsplit_once('-')
            .ok_or("USERS: PREFIX-FIRST..PREFIX-LAST")?;
        let (_, to) = last
            .rsplit_once('-')
            .ok_or("USERS: PREFIX-FIRST..PREFIX-LAST")?;
        let (from, to): (u64, u64) = (from.parse()?, to.parse()?);
        return Ok((from..=to).map(|i| format!("{prefix}-{i}")).collect());
    }
    Ok(spec.split(',').map(str::to_owned).collect())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = NetworkSession::builder()
        .urls(BoxUrls::from_env()?)
        .build()?;
    let vault = Vault::builder(OAuthConfig::new(
        var("BOX_CLIENT_ID")?,
        var("BOX_CLIENT_SECRET")?,
    ))
    .store(VaultStore::postgres(&var("BOXAUTH_VAULT_STORE")?)?)
    .keys(KeySet::parse(&var("BOXAUTH_VAULT_KEY")?)?)
    .options(AuthOptions::default().session(session))
    .lease_ttl(Duration::from_secs(number("LEASE_SECS", 120)))
    .fetch_deadline(Duration::from_secs(number("FETCH_DEADLINE_SECS", 60)))
    .build()?;

    let keys = user_keys(&var("USERS")?)?;
    let slots = Arc::new(tokio::sync::Semaphore::new(
        number("CONCURRENCY", 64) as usize
    ));
    let mut tasks = tokio::task::JoinSet::new();
    for key in keys {
        let (vault, slots) = (vault.clone(), slots.clone());
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await;
            let outcome = match vault.auth(&key) {
                Ok(auth) => auth.retrieve_token().await,
                Err(error) => Err(error),
            };
            match outcome {
                Ok(token) => serde_json::json!({
                    "user_key": key,
                    "token": fingerprint(token.access_token.secret()),
                }),
                Err(error) => serde_json::json!({"user_key": key, "error": error.report()}),
            }
        });
    }
    let mut failed = 0;
    while let Some(line) = tasks.join_next().await {
        let line = line?;
        failed += usize::from(line.get("error").is_some());
        println!("{line}");
    }
    if failed > 0 {
        return Err(format!("{failed} identities got no token").into());
    }
    Ok(())
}
