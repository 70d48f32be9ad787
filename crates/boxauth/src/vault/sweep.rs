//! The keep-alive: an identity nobody used for weeks still has a refresh token younger than Box's
//! 60 days. Every host may sweep, no leader: due identities are claimed with `FOR UPDATE SKIP
//! LOCKED` (their due time moved ahead, so another sweeper passes them by), then each is
//! refreshed once through the vault's protocol, a few at a time and at a bounded rate toward
//! Box, pausing all of them when Box asks for it (`Retry-After`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

use super::Vault;
use crate::error::{Error, Result};

/// How long a refreshed identity's new token may wait for the store's confirmation.
const FLUSH_WITHIN: Duration = Duration::from_secs(30);

/// How a keep-alive pass runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SweepOptions {
    /// Identities claimed per statement (default 100).
    pub batch: u32,
    /// At most this many identities in a pass (default: all that are due).
    pub limit: u64,
    /// Refreshes at once (default 8).
    pub concurrency: usize,
    /// Refreshes started per second toward Box, at most (default 20).
    pub per_second: f64,
    /// A claimed identity that could not be refreshed comes due again this much later (default
    /// 10 minutes): a sweeper that stops mid-pass leaves nothing claimed for long.
    pub claim_for: Duration,
}

impl Default for SweepOptions {
    fn default() -> Self {
        Self {
            batch: 100,
            limit: u64::MAX,
            concurrency: 8,
            per_second: 20.0,
            claim_for: Duration::from_secs(600),
        }
    }
}

impl SweepOptions {
    /// Refreshes at once.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Refreshes started per second, at most.
    pub fn per_second(mut self, rate: f64) -> Self {
        self.per_second = rate;
        self
    }

    /// At most this many identities in the pass.
    pub fn limit(mut self, identities: u64) -> Self {
        self.limit = identities;
        self
    }

    /// Identities claimed per statement.
    pub fn batch(mut self, batch: u32) -> Self {
        self.batch = batch.max(1);
        self
    }
}

/// What a keep-alive pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SweepReport {
    /// Identities claimed (due when the pass looked).
    pub claimed: u64,
    /// Refreshed: new tokens stored.
    pub refreshed: u64,
    /// Not refreshed this time (Box down or slow): due again after the claim.
    pub failed: u64,
    /// Found to need their user (their events were sent).
    pub needs_reauth: u64,
    /// How long the oldest claimed identity had been due.
    pub lag: Duration,
}

impl Vault {
    /// One keep-alive pass: every identity due now (its refresh token older than the keep-alive
    /// age) is refreshed once. Call it now and then from any host (a minute apart is plenty), or
    /// with [`spawn_sweeper`](Self::spawn_sweeper).
    pub async fn sweep(&self, options: &SweepOptions) -> Result<SweepReport> {
        let shared = self.inner.shared.clone();
        let mut report = SweepReport::default();
        let slots = Arc::new(Semaphore::new(options.concurrency.max(1)));
        let pace = pace(options.per_second);
        let resume_at = Arc::new(Mutex::new(Instant::now()));
        let mut next_start = Instant::now();
        let mut running = tokio::task::JoinSet::new();
        while report.claimed < options.limit {
            let now = shared.now_millis();
            let batch = u64::from(options.batch)
                .min(options.limit - report.claimed)
                .try_into()
                .unwrap_or(options.batch);
            let claim_until =
                now.saturating_add(super::identity::duration_millis(options.claim_for));
            let due = shared.engine.claim_due(now, claim_until, batch).await?;
            if due.is_empty() {
                break;
            }
            report.claimed += due.len() as u64;
            for user_key in due {
                // The pace toward Box, and any pause Box asked for.
                let pause = (*resume_at.lock().await).max(next_start);
                tokio::time::sleep_until(pause).await;
                next_start = Instant::now() + pace;
                let slot = slots
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| Error::config("the sweeper's slots were closed"))?;
                let auth = self.identity(&user_key, false)?;
                let resume_at = resume_at.clone();
                running.spawn(async move {
                    let mut outcome = auth.refresh_token().await.map(drop);
                    // This identity leaves memory after the pass: a new token the store has not
                    // confirmed is written again now (`[flush]`), or counted as failed.
                    if outcome.is_ok()
                        && let Err(unconfirmed) = auth.flush(FLUSH_WITHIN).await
                    {
                        outcome = Err(unconfirmed.into());
                    }
                    drop(slot);
                    if let Err(error) = &outcome
                        && let Some(wait) = asked_to_wait(error)
                    {
                        let mut resume = resume_at.lock().await;
                        *resume = (*resume).max(Instant::now() + wait);
                    }
                    outcome
                });
            }
            while let Some(done) = running.try_join_next() {
                tally(&mut report, done);
            }
        }
        while let Some(done) = running.join_next().await {
            tally(&mut report, done);
        }
        report.lag = self
            .counts()
            .await
            .map(|c| c.keepalive_lag)
            .unwrap_or_default();
        Ok(report)
    }

    /// Runs a keep-alive pass every `interval` on this runtime until the handle is aborted or
    /// dropped with the runtime; a failed pass is logged and the next one runs on time.
    pub fn spawn_sweeper(
        &self,
        interval: Duration,
        options: SweepOptions,
    ) -> tokio::task::JoinHandle<()> {
        let vault = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match vault.sweep(&options).await {
                    Ok(report) if report.claimed > 0 => {
                        tracing::info!(?report, "vault keep-alive pass");
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(error = %error.one_line(), "vault keep-alive pass failed");
                    }
                }
            }
        })
    }
}

/// The time between refreshes at `per_second`.
fn pace(per_second: f64) -> Duration {
    if per_second.is_finite() && per_second > 0.0 {
        Duration::from_secs_f64(1.0 / per_second)
    } else {
        Duration::ZERO
    }
}

/// How long Box asked everyone to wait (a 429's or a 503's `Retry-After`), at most 10 minutes.
fn asked_to_wait(error: &Error) -> Option<Duration> {
    let api = error.as_api()?;
    let value = api.retry_after.as_deref()?;
    crate::network::parse_retry_after(value, std::time::SystemTime::now())
        .map(|wait| wait.min(Duration::from_secs(600)))
}

fn tally(report: &mut SweepReport, done: std::result::Result<Result<()>, tokio::task::JoinError>) {
    match done {
        Ok(Ok(())) => report.refreshed += 1,
        Ok(Err(Error::ReauthorizationRequired(_))) => report.needs_reauth += 1,
        _ => report.failed += 1,
    }
}
