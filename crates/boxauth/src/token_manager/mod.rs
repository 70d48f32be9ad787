//! The cache layer every auth scheme shares, written once over the public
//! [`TokenSource`](crate::TokenSource): one identity's cached token, and the refresh protocol
//! that keeps it fresh. [`CachedAuth`](crate::CachedAuth)'s docs state the protocol; comments
//! here name its rules (`[one-flight]`, `[unconfirmed-write]`…).
//!
//! - this module: the cache and the calls a scheme makes (a token, a forced refresh, a 401, a
//!   token from a code exchange, revoke);
//! - [`flight`]: one refresh for every caller, under the storage's lock, and how it lands;
//! - [`backoff`]: when to try again after a failed refresh;
//! - [`unsaved`]: a token whose write storage did not confirm, written again until it does,
//!   and the flush that asks storage for it now, before a process exits.

mod backoff;
mod flight;
mod unsaved;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;

pub use backoff::DEFAULT_REFRESH_BACKOFF;
pub use unsaved::Unconfirmed;

use crate::authorization::AuthorizationManager;
use crate::error::{Error, Result};
use crate::schemas::AccessToken;
use crate::secret::Token;
use crate::source::{FetchContext, TokenSource};
use crate::storage::TokenStorage;
use crate::time::SharedTimeSource;
use crate::token::StoredToken;
use backoff::Backoff;
use flight::{Flight, Outcome, wait};
use unsaved::Unsaved;

/// The refresh margin used when none is set: tokens are refreshed when less than this is left.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// What the flights share, behind one short-held lock.
#[derive(Default)]
struct State {
    /// The refresh in flight, if any, with its number.
    flight: Option<(u64, Flight)>,
    flights: u64,
    backoff: Backoff,
}

/// Caches one identity's token and refreshes it once, however many callers need it.
pub(crate) struct TokenManager {
    source: Arc<dyn TokenSource>,
    authorization: AuthorizationManager,
    clock: SharedTimeSource,
    storage: Arc<dyn TokenStorage>,
    margin: Duration,
    backoff_interval: Duration,
    cache: ArcSwapOption<StoredToken>,
    /// The token a 401 was answered for: never handed out again, even if storage still holds it.
    rejected: Mutex<Option<Token>>,
    /// A token fetched whose write storage did not confirm (`[unconfirmed-write]`), until it does.
    unsaved: Mutex<Option<Unsaved>>,
    state: Mutex<State>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("storage", &self.storage)
            .field("cached", &self.cache.load().is_some())
            .field("margin", &self.margin)
            .field("backoff", &self.backoff_interval)
            .finish_non_exhaustive()
    }
}

/// How a manager is set up.
pub(crate) struct Settings {
    pub(crate) clock: SharedTimeSource,
    pub(crate) storage: Arc<dyn TokenStorage>,
    pub(crate) margin: Duration,
    pub(crate) backoff: Duration,
}

impl TokenManager {
    pub(crate) fn new(
        source: Arc<dyn TokenSource>,
        authorization: AuthorizationManager,
        settings: Settings,
    ) -> Self {
        Self {
            source,
            authorization,
            clock: settings.clock,
            storage: settings.storage,
            margin: settings.margin,
            backoff_interval: settings.backoff,
            cache: ArcSwapOption::empty(),
            rejected: Mutex::new(None),
            unsaved: Mutex::new(None),
            state: Mutex::new(State::default()),
        }
    }

    /// The AuthorizationManager every request of this identity goes through.
    pub(crate) fn authorization_manager(&self) -> &AuthorizationManager {
        &self.authorization
    }

    /// The clock expiries are decided on.
    pub(crate) fn clock(&self) -> &SharedTimeSource {
        &self.clock
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn context<'a>(&'a self, stored: Option<&'a StoredToken>) -> FetchContext<'a> {
        FetchContext {
            stored,
            manager: &self.authorization,
            clock: &*self.clock,
        }
    }

    fn is_rejected(&self, token: &StoredToken) -> bool {
        let rejected = self.rejected.lock().unwrap_or_else(|p| p.into_inner());
        rejected.as_ref().is_some_and(|r| token.has_access_token(r))
    }

    /// Valid beyond the refresh margin at `now`.
    fn fresh(&self, token: &StoredToken, now: SystemTime) -> bool {
        now < token.refresh_due_at(self.margin)
    }

    /// Fresh, not `not`, and not the token a 401 was answered for.
    fn usable(&self, token: &StoredToken, now: SystemTime, not: Option<&Token>) -> bool {
        self.fresh(token, now)
            && !not.is_some_and(|n| token.has_access_token(n))
            && !self.is_rejected(token)
    }

    /// Not expired at `now` (perhaps inside the margin), and not refused by a 401.
    fn still_valid(&self, token: &StoredToken, now: SystemTime) -> bool {
        token.is_valid_at(now, Duration::ZERO) && !self.is_rejected(token)
    }

    /// `[fast-path]`: the cached token if it is valid beyond the margin. No lock, no allocation
    /// beyond the `Arc` clone.
    pub(crate) fn cached(&self) -> Option<Arc<StoredToken>> {
        let guard = self.cache.load();
        let cached = guard.as_ref()?;
        self.fresh(cached, self.clock.now())
            .then(|| Arc::clone(cached))
    }

    /// A valid token: the cached one while it has not expired, with a background refresh once it
    /// is inside the margin (`[refresh-ahead]`); else the outcome of the one refresh in flight
    /// (`[one-flight]`), unless the last one failed moments ago (`[backoff-without-token]`).
    pub(crate) async fn token(self: &Arc<Self>) -> Result<Arc<StoredToken>> {
        let now = self.clock.now();
        if let Some(cached) = self.cache.load_full()
            && self.still_valid(&cached, now)
        {
            if !self.fresh(&cached, now) {
                self.refresh_in_background(now);
            }
            return Ok(cached);
        }
        let flight = {
            let mut state = self.state();
            match &state.flight {
                Some((_, flight)) => flight.clone(),
                None => {
                    // A flight may have landed since the cache was read (it stores the token
                    // before it leaves the state): no second flight for a token already here.
                    if let Some(cached) = self.cache.load_full()
                        && self.still_valid(&cached, now)
                    {
                        return Ok(cached);
                    }
                    if let Some(error) = state.backoff.pending_error(now) {
                        tracing::debug!(%error, "the last refresh failed moments ago; not trying again yet");
                        return Err(error.clone());
                    }
                    self.start(&mut state, None)
                }
            }
        };
        match wait(flight).await {
            Outcome::Fresh(token) => Ok(token),
            Outcome::Failed {
                fallback: Some(token),
                ..
            } if self.still_valid(&token, self.clock.now()) => Ok(token),
            Outcome::Failed { error, .. } => Err(error),
        }
    }

    /// Starts a refresh nobody waits for, unless one is in flight or a failure's back-off says
    /// not yet (`[backoff-with-token]`).
    fn refresh_in_background(self: &Arc<Self>, now: SystemTime) {
        let mut state = self.state();
        if state.flight.is_none() && state.backoff.allows_refresh(now) {
            tracing::debug!("the token is inside the refresh margin: refreshing in the background");
            drop(self.start(&mut state, None));
        }
    }

    /// `[forced-refresh]`: a new token, unless someone else already replaced the current one
    /// (cached, or stored when this process has not cached one yet). Joins a refresh in flight;
    /// ignores the back-off and reports a failure even if a valid token remains.
    pub(crate) async fn refresh(self: &Arc<Self>) -> Result<Arc<StoredToken>> {
        let current = self.current().await?.map(|t| t.access_token.clone());
        let mut outcome = None;
        // A flight this call joined may have found the current token still fresh in storage;
        // then one more, started for this call, replaces it.
        for _ in 0..2 {
            let flight = {
                let mut state = self.state();
                match &state.flight {
                    Some((_, flight)) => flight.clone(),
                    None => self.start(&mut state, current.clone()),
                }
            };
            match wait(flight).await {
                Outcome::Fresh(token)
                    if current.as_ref().is_some_and(|c| token.has_access_token(c)) =>
                {
                    outcome = Some(token);
                }
                Outcome::Fresh(token) => return Ok(token),
                Outcome::Failed { error, .. } => return Err(error),
            }
        }
        outcome.ok_or(Error::RefreshInterrupted)
    }

    /// `[stale-401]`: a 401 was answered for `rejected`: drop it if it is still the current
    /// token.
    pub(crate) fn invalidate(&self, rejected: &Token) {
        if self
            .cache
            .load()
            .as_ref()
            .is_some_and(|t| t.has_access_token(rejected))
        {
            self.cache.store(None);
        }
        *self.rejected.lock().unwrap_or_else(|p| p.into_inner()) = Some(rejected.clone());
    }

    /// Stores a token obtained outside the refresh protocol (an authorization code exchange).
    pub(crate) async fn set(&self, token: AccessToken) -> Result<Arc<StoredToken>> {
        let stored = StoredToken::from_access_token(token, self.clock.now())?;
        self.storage.store(&stored).await?;
        let stored = Arc::new(stored);
        self.cache.store(Some(stored.clone()));
        self.state().backoff.succeeded();
        Ok(stored)
    }

    /// The current token without refreshing, from the cache or storage.
    pub(crate) async fn current(&self) -> Result<Option<Arc<StoredToken>>> {
        if let Some(cached) = self.cache.load_full() {
            return Ok(Some(cached));
        }
        Ok(self.storage.load().await?.map(Arc::new))
    }

    /// Forgets the token here and in storage.
    pub(crate) async fn clear(&self) -> Result<()> {
        self.cache.store(None);
        // A token storage had not confirmed is forgotten too: written again, it would bring
        // back what was just revoked.
        *self.unsaved.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.state().backoff.succeeded();
        self.storage.clear().await
    }
}
