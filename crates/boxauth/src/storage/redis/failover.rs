//! Riding out a failover. A command that fails because a Redis Cluster or Sentinel is replacing
//! a primary (`CLUSTERDOWN`, `TRYAGAIN`, `MOVED` to a node that is gone, `READONLY` from a
//! demoted primary, a primary Sentinel names that does not answer) or because a server is
//! loading its data (`LOADING`) is tried again, on a connection opened afresh (a new slot map,
//! Sentinel asked again), with pauses from 50 ms doubling to 1 s, until the storage's failover
//! wait runs out. Then, or at once for a failure no failover explains (a refused password, a
//! replica named as the server, nothing answering at all), the error says which it was.
//!
//! A kept connection that dropped (the server restarted, a proxy closed it while idle) or that
//! still reports an outage that is over is replaced and the command sent once more on the new
//! one before anything is judged: the first command after a restart fails on the dead socket
//! even though Redis answers again.

use std::future::Future;
use std::time::Duration;

use redis::{Cmd, FromRedisValue, Pipeline};
use tokio::time::Instant;

use super::RedisStorage;
use super::errors::{Cause, Sign, cause};
use super::topology::{Connection, Kind, Probe};
use crate::error::{Error, Result};

/// The first pause before trying again; each one after is twice as long, up to
/// [`LONGEST_PAUSE`]. A failover takes seconds: this notices its end within a second, and
/// asks a recovering cluster a few times a second at most.
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// The failover wait for one server or a cluster: above Redis Cluster's default
/// `cluster-node-timeout` (15 s) and the election after it.
pub(super) const DEFAULT_FAILOVER_WAIT: Duration = Duration::from_secs(20);

/// The failover wait behind Sentinel: above Sentinel's default `down-after-milliseconds`
/// (30 s) and the election and promotion after it.
pub(super) const DEFAULT_SENTINEL_FAILOVER_WAIT: Duration = Duration::from_secs(40);

impl RedisStorage {
    /// Runs `command` and returns its answer, riding out a failover.
    pub(super) async fn query<T: FromRedisValue + Send>(&self, command: &Cmd) -> Result<T> {
        self.ride_out(
            move |mut connection| async move { command.query_async(&mut connection).await },
            |_| None,
        )
        .await
    }

    /// Runs `pipeline` and returns its answers, riding out a failover; `settle` may turn a
    /// failure into an error of its own before it is judged (or retried).
    pub(super) async fn query_pipeline<T: FromRedisValue + Send>(
        &self,
        pipeline: &Pipeline,
        settle: impl Fn(&redis::RedisError) -> Option<Error>,
    ) -> Result<T> {
        self.ride_out(
            move |mut connection| async move { pipeline.query_async(&mut connection).await },
            settle,
        )
        .await
    }

    /// Runs `attempt` on the shared connection until it succeeds, fails in a way no failover
    /// explains, or the failover wait runs out.
    async fn ride_out<T, F, A>(
        &self,
        mut attempt: A,
        settle: impl Fn(&redis::RedisError) -> Option<Error>,
    ) -> Result<T>
    where
        A: FnMut(Connection) -> F,
        F: Future<Output = redis::RedisResult<T>>,
    {
        let kind = self.inner.topology.kind();
        let started = Instant::now();
        let deadline = started + self.settings.failover_wait;
        let mut pause = FIRST_PAUSE;
        let mut told = false;
        let mut reconnected = false;
        loop {
            let (answer, kept) = match self.connection().await {
                Ok((connection, opened)) => (attempt(connection).await, !opened),
                Err(error) => (Err(error), false),
            };
            let error = match answer {
                Ok(value) => {
                    if told {
                        tracing::info!(storage = %self.inner.shown, waited = ?started.elapsed(), "Redis answers again after the failover");
                    }
                    return Ok(value);
                }
                Err(error) => error,
            };
            if kept && !reconnected && (error.is_connection_dropped() || error.is_io_error()) {
                // Sent on a connection kept from before that is gone (or that still reports the
                // outage it saw): once more, on a new one. A server that is down refuses that
                // one too, and the error is judged then.
                reconnected = true;
                self.forget_connection().await;
                continue;
            }
            if kind != Kind::Single {
                // The next attempt opens a new connection: a cluster's slot map read afresh,
                // Sentinel asked again which server is primary now.
                self.forget_connection().await;
            }
            if let Some(settled) = settle(&error) {
                return Err(settled);
            }
            let cause = cause(kind, &error);
            let probe = match cause {
                Cause::Silent | Cause::Failover(Sign::NoPrimaryNamed) if kind != Kind::Single => {
                    self.inner.topology.probe().await
                }
                _ => Probe::default(),
            };
            if probe.unknown_master {
                return Err(self.unknown_master(&error));
            }
            let now = Instant::now();
            if !cause.passes(kind, probe.answered) || now + pause > deadline {
                return Err(self.failed(&error, cause, now - started, &probe));
            }
            if !told {
                told = true;
                tracing::warn!(
                    storage = %self.inner.shown,
                    error = %crate::internal::mask::printable(&error.to_string(), 200),
                    wait = ?self.settings.failover_wait,
                    "Redis is failing over (or loading); waiting for a primary"
                );
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }
}
