//! The machinery every auth scheme shares: caching, the expiry margin, single-flight refresh, 401
//! handling and storage. Written once; the schemes only say how to fetch a fresh token.
//!
//! The refresh protocol:
//! 1. Fast path: the cached token is valid beyond the margin → return it (no lock, no allocation
//!    beyond an `Arc` clone).
//! 2. Slow path: take the in-process refresh lock, then the storage's lock.
//! 3. Re-read storage: someone else refreshed already → use theirs.
//! 4. Otherwise fetch, store durably, then release.
//! 5. A 401 on an API call with token T invalidates T only if T is still the current token.
//! 6. `invalid_grant` on a refresh: re-read storage once (another process may have rotated the
//!    refresh token) and retry with what is there; if that fails too, `ReauthorizationRequired`.
//! 7. The new token is stored before it is handed to anyone, so a crash loses no usable token.

mod source;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwapOption;

pub use source::{FetchContext, TokenSource};

use crate::authorization::AuthorizationManager;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::schemas::AccessToken;
use crate::secret::Token;
use crate::storage::{RefreshLock, TokenStorage};
use crate::time::SharedTimeSource;
use crate::token::StoredToken;

/// The refresh margin used when none is set: tokens are refreshed when less than this is left.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Caches one identity's token and refreshes it once, however many callers need it.
pub(crate) struct TokenManager {
    source: Arc<dyn TokenSource>,
    manager: AuthorizationManager,
    clock: SharedTimeSource,
    storage: Arc<dyn TokenStorage>,
    cache: ArcSwapOption<StoredToken>,
    /// The token a 401 was answered for: never handed out again, even if storage still holds it.
    rejected: Mutex<Option<Token>>,
    flight: tokio::sync::Mutex<()>,
    margin: Duration,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("storage", &self.storage)
            .field("cached", &self.cache.load().is_some())
            .field("margin", &self.margin)
            .finish()
    }
}

impl TokenManager {
    pub(crate) fn new(
        source: Arc<dyn TokenSource>,
        manager: AuthorizationManager,
        clock: SharedTimeSource,
        storage: Arc<dyn TokenStorage>,
        margin: Duration,
    ) -> Self {
        Self {
            source,
            manager,
            clock,
            storage,
            cache: ArcSwapOption::empty(),
            rejected: Mutex::new(None),
            flight: tokio::sync::Mutex::new(()),
            margin,
        }
    }

    /// The AuthorizationManager every request of this identity goes through.
    pub(crate) fn authorization_manager(&self) -> &AuthorizationManager {
        &self.manager
    }

    /// The clock expiries are decided on.
    pub(crate) fn clock(&self) -> &SharedTimeSource {
        &self.clock
    }

    fn context<'a>(&'a self, stored: Option<&'a StoredToken>) -> FetchContext<'a> {
        FetchContext {
            stored,
            manager: &self.manager,
            clock: &*self.clock,
        }
    }

    /// Valid beyond the refresh margin at `now`.
    fn fresh(&self, token: &StoredToken, now: std::time::SystemTime) -> bool {
        now < token.refresh_due_at(self.margin)
    }

    fn is_rejected(&self, token: &StoredToken) -> bool {
        let rejected = self.rejected.lock().unwrap_or_else(|p| p.into_inner());
        rejected.as_ref().is_some_and(|r| token.has_access_token(r))
    }

    /// Usable: valid beyond the margin, and not the token a 401 was answered for.
    fn usable(&self, token: &StoredToken, now: std::time::SystemTime, not: Option<&Token>) -> bool {
        self.fresh(token, now)
            && !not.is_some_and(|n| token.has_access_token(n))
            && !self.is_rejected(token)
    }

    /// A valid token: the cached one (fast path) or a fresh one (slow path). If a refresh fails
    /// while the current token has not expired yet (it is only inside the margin), that token is
    /// still returned: proactive refresh must not turn a network blip into an outage.
    pub(crate) async fn token(&self) -> Result<Arc<StoredToken>> {
        if let Some(cached) = self.cached() {
            return Ok(cached);
        }
        match self.refresh_unless_fresh(None).await {
            Ok(token) => Ok(token),
            // The refresh could not even start (the storage's lock or Redis unreachable): a token
            // that has not expired yet is still good.
            Err(error) => match self.cache.load_full() {
                Some(cached)
                    if cached.is_valid_at(self.clock.now(), Duration::ZERO)
                        && !self.is_rejected(&cached) =>
                {
                    tracing::warn!(%error, "refresh failed; the current token is still valid and stays in use");
                    Ok(cached)
                }
                _ => Err(error),
            },
        }
    }

    /// The fast path: the cached token if it is valid beyond the margin. No lock, no allocation
    /// beyond the `Arc` clone.
    pub(crate) fn cached(&self) -> Option<Arc<StoredToken>> {
        let guard = self.cache.load();
        let cached = guard.as_ref()?;
        self.fresh(cached, self.clock.now())
            .then(|| Arc::clone(cached))
    }

    /// A new token, unless someone else already replaced the current one (cached, or stored when
    /// this process has not cached one yet).
    pub(crate) async fn refresh(&self) -> Result<Arc<StoredToken>> {
        let current = self.current().await?.map(|t| t.access_token.clone());
        self.refresh_unless_fresh(current.as_ref()).await
    }

    /// A 401 was answered for `rejected`: drop it if it is still the current token.
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
        self.storage.clear().await
    }

    async fn refresh_unless_fresh(&self, replace: Option<&Token>) -> Result<Arc<StoredToken>> {
        let _flight = self.flight.lock().await;
        // Another task of this process may have refreshed while this one waited.
        if let Some(cached) = self.cache.load_full()
            && self.usable(&cached, self.clock.now(), replace)
        {
            return Ok(cached);
        }
        let mut lock = self.storage.lock().await?;
        let outcome = self.refresh_locked(&mut *lock, replace).await;
        if let Err(error) = lock.release().await {
            tracing::warn!(%error, "could not release the refresh lock");
        }
        outcome
    }

    async fn refresh_locked(
        &self,
        lock: &mut dyn RefreshLock,
        replace: Option<&Token>,
    ) -> Result<Arc<StoredToken>> {
        // Storage that lost its data (a Redis restarted without persistence) must not lose the
        // refresh token this process still holds.
        let stored = match self.storage.load().await? {
            Some(stored) => Some(stored),
            None => self.cache.load_full().map(|cached| (*cached).clone()),
        };
        if let Some(stored) = &stored
            && self.usable(stored, self.clock.now(), replace)
        {
            tracing::debug!("another process refreshed the token already; using theirs");
            let stored = Arc::new(stored.clone());
            self.cache.store(Some(stored.clone()));
            return Ok(stored);
        }
        failpoint::reached("token_manager::before_fetch");
        let fetched = match self.source.fetch(self.context(stored.as_ref())).await {
            Ok(token) => token,
            Err(error) if self.source.spends_stored_token() && error.is_invalid_grant() => {
                // Another process may have rotated the refresh token without our lock (a
                // different lock domain, an expired Redis lock): look once more.
                let again = self.storage.load().await?;
                match (again, &stored) {
                    (Some(again), Some(before)) if !again.same_refresh_token(before) => {
                        if self.usable(&again, self.clock.now(), replace) {
                            let again = Arc::new(again);
                            self.cache.store(Some(again.clone()));
                            return Ok(again);
                        }
                        self.source
                            .fetch(self.context(Some(&again)))
                            .await
                            .map_err(|e| reauthorize(&e))?
                    }
                    _ => return Err(reauthorize(&error)),
                }
            }
            Err(error) => {
                // A proactive refresh failed (network, 5xx) while the token has not expired yet:
                // keep using it rather than turn a blip into an outage.
                if replace.is_none()
                    && let Some(stored) = stored
                    && stored.is_valid_at(self.clock.now(), Duration::ZERO)
                    && !self.is_rejected(&stored)
                {
                    tracing::warn!(%error, "refresh failed; the current token is still valid and stays in use");
                    let stored = Arc::new(stored);
                    self.cache.store(Some(stored.clone()));
                    return Ok(stored);
                }
                return Err(error);
            }
        };
        failpoint::reached("token_manager::after_fetch");
        let fresh = fetched;
        lock.store(&fresh).await?;
        tracing::debug!(expires_in = ?fresh.expires_in, "token refreshed and stored");
        let fresh = Arc::new(fresh);
        self.cache.store(Some(fresh.clone()));
        Ok(fresh)
    }
}

fn reauthorize(error: &Error) -> Error {
    match error {
        Error::Api(api) if api.is("invalid_grant") => Error::ReauthorizationRequired(format!(
            "Box refused the refresh token ({})",
            api.error_description.as_deref().unwrap_or("invalid_grant")
        )),
        Error::ReauthorizationRequired(message) => Error::ReauthorizationRequired(message.clone()),
        other => {
            Error::ReauthorizationRequired(format!("the token could not be refreshed: {other}"))
        }
    }
}
