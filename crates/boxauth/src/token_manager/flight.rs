//! One refresh for every caller (`[one-flight]`): the flight runs as a task of its own, takes
//! the storage's lock, re-reads storage (`[lock-then-reread]`), fetches, stores before anyone
//! gets the token (`[store-before-use]`), and lands exactly once, with its outcome handed to
//! every caller that waited.

use std::sync::Arc;

use tokio::sync::watch;

use super::unsaved::{Unsaved, unanswered, write_unconfirmed};
use super::{State, TokenManager};
use crate::error::{ConfigErrorKind, Error, ReauthorizationError, ReauthorizationKind};
use crate::failpoint;
use crate::secret::Token;
use crate::storage::RefreshLock;
use crate::token::StoredToken;

/// What one refresh ended with, handed to every caller that waited for it.
#[derive(Clone)]
pub(super) enum Outcome {
    /// A token valid beyond the margin: fetched now, or found in storage.
    Fresh(Arc<StoredToken>),
    /// The refresh failed; `fallback` is a token that had not expired yet, for callers that only
    /// need a valid token (a forced refresh reports the error).
    Failed {
        error: Error,
        fallback: Option<Arc<StoredToken>>,
    },
}

pub(super) type Flight = watch::Receiver<Option<Outcome>>;

impl TokenManager {
    /// Starts a flight (the caller holds the state lock and saw none running) and returns it.
    pub(super) fn start(self: &Arc<Self>, state: &mut State, replace: Option<Token>) -> Flight {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // Nothing to run the flight on: it is over before it starts, with an error that says why.
            let error = Error::config_kind(
                ConfigErrorKind::NoRuntime,
                "boxauth needs a Tokio runtime to refresh a token: call it from async code running \
                 on Tokio (#[tokio::main])",
            );
            let (_, flight) = watch::channel(Some(Outcome::Failed {
                error,
                fallback: None,
            }));
            return flight;
        };
        state.flights += 1;
        let id = state.flights;
        let (sender, flight) = watch::channel(None);
        state.flight = Some((id, flight.clone()));
        let landing = Landing {
            tokens: self.clone(),
            id,
            sender: Some(sender),
        };
        let tokens = self.clone();
        drop(runtime.spawn(async move {
            let (outcome, kept_lock) = tokens.fly(replace.as_ref()).await;
            landing.land(outcome);
            // Holds the manager only while it writes: a manager its users dropped stops.
            let tokens = {
                let weak = Arc::downgrade(&tokens);
                drop(tokens);
                weak
            };
            Self::write_unsaved_until_kept(&tokens, kept_lock).await;
        }));
        flight
    }

    /// The flight itself: the storage's lock, a re-read, a fetch, a store. The lock is returned,
    /// not released, when the new token's write went unanswered: holding it, this process writes
    /// the token again before anyone else may refresh (`[unconfirmed-write]`).
    async fn fly(&self, replace: Option<&Token>) -> (Outcome, Option<Box<dyn RefreshLock>>) {
        // `[read-before-lock]`: with nothing cached (this process's first call), storage is read
        // first, without the lock; a usable token there is taken as it is. A failed read falls
        // through to the locked path, which reports it.
        if replace.is_none()
            && self.cache.load().is_none()
            && let Ok(Some(stored)) = self.storage.load().await
            && self.usable(&stored, self.clock.now(), None)
        {
            return (Outcome::Fresh(Arc::new(stored)), None);
        }
        let mut lock = match self.storage.lock().await {
            Ok(lock) => lock,
            Err(error) => return (self.failed(error, None), None),
        };
        let outcome = self.refresh_locked(&mut *lock, replace).await;
        let keep = matches!(&outcome, Outcome::Fresh(token) if self.unsaved_keeps_lock(token));
        if keep {
            return (outcome, Some(lock));
        }
        release(lock).await;
        (outcome, None)
    }

    async fn refresh_locked(&self, lock: &mut dyn RefreshLock, replace: Option<&Token>) -> Outcome {
        // Storage that lost its data (a Redis restarted without persistence) must not lose the
        // refresh token this process still holds.
        let loaded = match self.storage.load().await {
            Ok(loaded) => loaded,
            Err(error) => return self.failed(error, None),
        };
        // A token this process fetched and storage lost comes first (`[unconfirmed-write]`).
        let stored = match (self.unsaved_missing_from(loaded.as_ref()), loaded) {
            (Some(unsaved), _) => {
                self.write_unsaved(lock, &unsaved).await;
                Some((*unsaved.token).clone())
            }
            (None, Some(stored)) => Some(stored),
            (None, None) => self.cache.load_full().map(|cached| (*cached).clone()),
        };
        if let Some(stored) = &stored
            && self.usable(stored, self.clock.now(), replace)
        {
            tracing::debug!("another process refreshed the token already; using theirs");
            return Outcome::Fresh(Arc::new(stored.clone()));
        }
        failpoint::reached("token_manager::before_fetch");
        let fetched = match self.source.fetch(self.context(stored.as_ref())).await {
            Ok(token) => token,
            // `[invalid-grant-reread]`: another process may have rotated the refresh token
            // without our lock (a different lock domain, an expired Redis lock): look once more.
            Err(error) if self.source.spends_stored_token() && error.is_invalid_grant() => {
                let again = match self.storage.load().await {
                    Ok(again) => again,
                    Err(error) => return self.failed(error, stored.as_ref()),
                };
                match (again, &stored) {
                    (Some(again), Some(before)) if !again.same_refresh_token(before) => {
                        if self.usable(&again, self.clock.now(), replace) {
                            return Outcome::Fresh(Arc::new(again));
                        }
                        match self.source.fetch(self.context(Some(&again))).await {
                            Ok(token) => token,
                            Err(error) => return self.failed(reauthorize(error), Some(&again)),
                        }
                    }
                    _ => return self.failed(reauthorize(error), stored.as_ref()),
                }
            }
            Err(error) => return self.failed(error, stored.as_ref()),
        };
        failpoint::reached("token_manager::after_fetch");
        // `[store-before-use]`: a token storage refused is never handed out; one whose write
        // storage did not confirm is kept and written again (`[unconfirmed-write]`).
        if let Err(error) = lock.store(&fetched).await {
            if !write_unconfirmed(&error) {
                return self.failed(error, stored.as_ref());
            }
            tracing::warn!(error = %error.one_line(), "the new token is served from memory and written again until storage confirms it");
            let fetched = Arc::new(fetched);
            let lock_kept = unanswered(&error);
            self.keep_unsaved(Unsaved {
                token: fetched.clone(),
                replaced: stored,
                lock_kept,
                error,
            });
            return Outcome::Fresh(fetched);
        }
        tracing::debug!(expires_in = ?fetched.expires_in, "token refreshed and stored");
        Outcome::Fresh(Arc::new(fetched))
    }

    /// A failed outcome, with the best token that has not expired yet (stored or cached).
    fn failed(&self, error: Error, stored: Option<&StoredToken>) -> Outcome {
        let now = self.clock.now();
        let cached = self.cache.load_full();
        let fallback = match (stored, cached) {
            (Some(stored), Some(cached)) if stored.expires_at <= cached.expires_at => Some(cached),
            (Some(stored), _) => Some(Arc::new(stored.clone())),
            (None, cached) => cached,
        }
        .filter(|token| self.still_valid(token, now));
        Outcome::Failed { error, fallback }
    }

    /// Records how flight `id` ended: the cache, the back-off, and no flight running.
    fn record(&self, id: u64, outcome: &Outcome) {
        let mut state = self.state();
        if state
            .flight
            .as_ref()
            .is_some_and(|(running, _)| *running == id)
        {
            state.flight = None;
        }
        match outcome {
            Outcome::Fresh(token) => {
                self.cache.store(Some(token.clone()));
                state.backoff.succeeded();
            }
            Outcome::Failed { error, fallback } => {
                if let Some(fallback) = fallback {
                    self.cache.store(Some(fallback.clone()));
                }
                let now = self.clock.now();
                state.backoff.failed(
                    now,
                    error,
                    self.backoff_interval,
                    crate::network::unit_random(),
                );
                let next = state.backoff.quiet_until();
                let error = error.one_line();
                if fallback.is_some() {
                    tracing::warn!(%error, next_refresh = ?next, "refresh failed; the current token is still valid and stays in use");
                } else {
                    tracing::warn!(%error, "refresh failed and no valid token is left");
                }
            }
        }
    }
}

/// Releases a refresh lock; a failure is logged (the lock's TTL frees it).
pub(super) async fn release(lock: Box<dyn RefreshLock>) {
    if let Err(error) = lock.release().await {
        tracing::warn!(error = %error.one_line(), "could not release the refresh lock");
    }
}

/// Waits for a flight's outcome.
pub(super) async fn wait(mut flight: Flight) -> Outcome {
    match flight.wait_for(Option::is_some).await {
        Ok(outcome) => outcome.clone().unwrap_or_else(interrupted),
        // The flight's task ended without landing: it panicked, or the runtime is shutting down.
        Err(_) => interrupted(),
    }
}

fn interrupted() -> Outcome {
    Outcome::Failed {
        error: Error::RefreshInterrupted,
        fallback: None,
    }
}

/// Lands a flight exactly once: with its outcome, or, if its task is dropped before (a panic in
/// a source, a runtime shutting down), as interrupted, so no caller waits on it forever and the
/// next one starts afresh.
struct Landing {
    tokens: Arc<TokenManager>,
    id: u64,
    sender: Option<watch::Sender<Option<Outcome>>>,
}

impl Landing {
    fn land(mut self, outcome: Outcome) {
        self.finish(outcome);
    }

    fn finish(&mut self, outcome: Outcome) {
        self.tokens.record(self.id, &outcome);
        if let Some(sender) = self.sender.take() {
            sender.send_replace(Some(outcome));
        }
    }
}

impl Drop for Landing {
    fn drop(&mut self) {
        if self.sender.is_some() {
            self.finish(interrupted());
        }
    }
}

/// A refusal of the stored refresh token, as [`Error::ReauthorizationRequired`] with Box's
/// answer (and its request id) as the cause.
fn reauthorize(error: Error) -> Error {
    let (kind, reason) = match &error {
        Error::ReauthorizationRequired(_) => return error,
        Error::Api(api) if api.is("invalid_grant") => (
            ReauthorizationKind::RefreshTokenRefused,
            "Box refused the refresh token",
        ),
        _ => (
            ReauthorizationKind::RefreshFailed,
            "the token could not be refreshed",
        ),
    };
    ReauthorizationError::new(kind, reason)
        .with_source(error)
        .into()
}
