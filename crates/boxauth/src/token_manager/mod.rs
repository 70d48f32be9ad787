//! The machinery every auth scheme shares: the cache, the refresh margin, one refresh for every
//! caller, back-off while the source fails, 401 handling and storage. Written once over the
//! public [`TokenSource`] trait; the schemes only say how to fetch a fresh token.
//!
//! The refresh protocol:
//! 1. Fast path: the cached token is valid beyond the margin → it is returned (no lock, no
//!    allocation).
//! 2. Inside the margin but still valid → it is returned at once; one refresh starts in the
//!    background for everyone (unless one is running, or a failure's back-off says not yet).
//! 3. Expired (or none, or refused by a 401) → callers join the one refresh in flight, or start
//!    it; every caller of a flight gets its outcome, success or error. A flight runs as its own
//!    task, so a caller that gives up (a timeout, a dropped request) cannot cut a refresh short
//!    between Box rotating a refresh token and the new one being stored.
//! 4. In the flight: the storage's lock (a file lock on one host, a Redis lock across hosts),
//!    then storage is re-read: someone else refreshed already → theirs is used.
//! 5. Otherwise the source fetches, the new token is stored durably, then the lock is released.
//!    The new token is stored before anyone gets it, so a crash loses no usable token. A write
//!    whose fate is unknown (storage stopped answering mid-write) or that storage kept without
//!    the replicas it was asked for (a Redis failover could lose it) is not refused: the token is
//!    already fetched, and for OAuth the refresh token that bought it is spent. It is served
//!    from memory, and storage is watched: while it lacks the token (the write was lost, a
//!    failover promoted a replica without it), it is written again under the lock, and every
//!    flight of this process writes it first; once storage holds it, for a minute more; once
//!    storage holds a newer token, no longer. A write storage refused outright is an error, and
//!    that token is not handed out.
//! 6. A failed refresh backs off ([`backoff`]): while a valid token exists, no new refresh for
//!    the back-off interval (default 30 s, jittered, longer if Box sent `Retry-After`) and the
//!    valid token keeps being served; without one, callers share one attempt at a time and,
//!    between attempts, get the last error at once instead of queueing.
//! 7. A 401 on an API call with token T invalidates T only if T is still the current token.
//! 8. `invalid_grant` on a refresh that spends a stored refresh token: storage is re-read once
//!    (another process may have rotated it) and the refresh retried with what is there; if that
//!    fails too, `ReauthorizationRequired`.

mod backoff;
mod cached;
mod source;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;
use tokio::sync::watch;

pub use backoff::DEFAULT_REFRESH_BACKOFF;
pub use cached::CachedAuth;
pub use source::{FetchContext, TokenSource};

use crate::authorization::AuthorizationManager;
use crate::error::{
    ConfigErrorKind, Error, ReauthorizationError, ReauthorizationKind, Result, StorageErrorKind,
};
use crate::failpoint;
use crate::schemas::AccessToken;
use crate::secret::Token;
use crate::storage::{RefreshLock, TokenStorage};
use crate::time::SharedTimeSource;
use crate::token::StoredToken;
use backoff::Backoff;

/// How long a token storage holds without the confirmation it was asked for (no replica
/// acknowledged it) is watched for a failover that loses it, before it counts as kept: a
/// failover takes seconds, and a replica this far behind is not promoted (Redis Cluster's and
/// Sentinel's default validity rules).
const UNSAVED_WATCH: Duration = Duration::from_secs(60);

/// The refresh margin used when none is set: tokens are refreshed when less than this is left.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// What one refresh ended with, handed to every caller that waited for it.
#[derive(Clone)]
enum Outcome {
    /// A token valid beyond the margin: fetched now, or found in storage.
    Fresh(Arc<StoredToken>),
    /// The refresh failed; `fallback` is a token that had not expired yet, for callers that only
    /// need a valid token (a forced refresh reports the error).
    Failed {
        error: Error,
        fallback: Option<Arc<StoredToken>>,
    },
}

type Flight = watch::Receiver<Option<Outcome>>;

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
    manager: AuthorizationManager,
    clock: SharedTimeSource,
    storage: Arc<dyn TokenStorage>,
    margin: Duration,
    backoff_interval: Duration,
    cache: ArcSwapOption<StoredToken>,
    /// The token a 401 was answered for: never handed out again, even if storage still holds it.
    rejected: Mutex<Option<Token>>,
    /// A token fetched whose write storage did not confirm (rule 5), until it does.
    unsaved: Mutex<Option<Unsaved>>,
    state: Mutex<State>,
}

/// A fetched token storage has not confirmed keeping, and the stored token it replaces.
#[derive(Clone)]
struct Unsaved {
    token: Arc<StoredToken>,
    replaced: Option<StoredToken>,
    /// Its write went unanswered, and the flight kept the refresh lock to write it again.
    lock_kept: bool,
}

impl Unsaved {
    /// Whether `loaded` (what storage holds now) is neither this token nor the one it replaced:
    /// someone stored a newer token, and this one need not be kept.
    fn superseded_by(&self, loaded: Option<&StoredToken>) -> bool {
        loaded.is_some_and(|loaded| {
            !loaded.has_access_token(&self.token.access_token)
                && !self
                    .replaced
                    .as_ref()
                    .is_some_and(|replaced| loaded.has_access_token(&replaced.access_token))
        })
    }
}

/// A store error after which storage may hold the token, or holds it without the durability
/// asked for: the token is kept and written again (rule 5).
fn write_unconfirmed(error: &Error) -> bool {
    matches!(error, Error::Storage(storage) if matches!(
        storage.kind(),
        StorageErrorKind::Unreachable | StorageErrorKind::NotReplicated
    ))
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
        manager: AuthorizationManager,
        settings: Settings,
    ) -> Self {
        Self {
            source,
            manager,
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
        &self.manager
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
            manager: &self.manager,
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

    /// The fast path: the cached token if it is valid beyond the margin. No lock, no allocation
    /// beyond the `Arc` clone.
    pub(crate) fn cached(&self) -> Option<Arc<StoredToken>> {
        let guard = self.cache.load();
        let cached = guard.as_ref()?;
        self.fresh(cached, self.clock.now())
            .then(|| Arc::clone(cached))
    }

    /// A valid token (rules 2 and 3 of the protocol): the cached one while it has not expired,
    /// with a background refresh once it is inside the margin; else the outcome of the one
    /// refresh in flight.
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
    /// not yet.
    fn refresh_in_background(self: &Arc<Self>, now: SystemTime) {
        let mut state = self.state();
        if state.flight.is_none() && state.backoff.allows_refresh(now) {
            tracing::debug!("the token is inside the refresh margin: refreshing in the background");
            drop(self.start(&mut state, None));
        }
    }

    /// A new token, unless someone else already replaced the current one (cached, or stored
    /// when this process has not cached one yet). Joins a refresh in flight; ignores the
    /// back-off (the caller asked for it) and reports a failure even if a valid token remains.
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
        self.state().backoff.succeeded();
        self.storage.clear().await
    }

    /// Starts a flight (the caller holds the state lock and saw none running) and returns it.
    fn start(self: &Arc<Self>, state: &mut State, replace: Option<Token>) -> Flight {
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
            manager: self.clone(),
            id,
            sender: Some(sender),
        };
        let manager = self.clone();
        drop(runtime.spawn(async move {
            let (outcome, kept_lock) = manager.fly(replace.as_ref()).await;
            landing.land(outcome);
            // Holds the manager only while it writes: a manager its users dropped stops.
            let manager = {
                let weak = Arc::downgrade(&manager);
                drop(manager);
                weak
            };
            Self::write_unsaved_until_kept(&manager, kept_lock).await;
        }));
        flight
    }

    /// The flight itself (rules 4, 5 and 8): the storage's lock, a re-read, a fetch, a store.
    /// The lock is returned, not released, when the new token's write went unanswered: holding
    /// it, this process writes the token again before anyone else may refresh (rule 5).
    async fn fly(&self, replace: Option<&Token>) -> (Outcome, Option<Box<dyn RefreshLock>>) {
        let mut lock = match self.storage.lock().await {
            Ok(lock) => lock,
            Err(error) => return (self.failed(error, None), None),
        };
        let outcome = self.refresh_locked(&mut *lock, replace).await;
        let keep = matches!(&outcome, Outcome::Fresh(token) if self
            .unsaved_slot()
            .as_ref()
            .is_some_and(|u| u.lock_kept && Arc::ptr_eq(&u.token, token)));
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
        // A token this process fetched and storage lost comes first (rule 5).
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
            Err(error) if self.source.spends_stored_token() && error.is_invalid_grant() => {
                // Another process may have rotated the refresh token without our lock (a
                // different lock domain, an expired Redis lock): look once more.
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
        // Stored before anyone gets it: a token storage refused is never handed out; one whose
        // write storage did not confirm is kept and written again (rule 5).
        if let Err(error) = lock.store(&fetched).await {
            if !write_unconfirmed(&error) {
                return self.failed(error, stored.as_ref());
            }
            tracing::warn!(error = %error.one_line(), "the new token is served from memory and written again until storage confirms it");
            let fetched = Arc::new(fetched);
            let lock_kept =
                matches!(&error, Error::Storage(e) if e.kind() == StorageErrorKind::Unreachable);
            *self.unsaved_slot() = Some(Unsaved {
                token: fetched.clone(),
                replaced: stored,
                lock_kept,
            });
            return Outcome::Fresh(fetched);
        }
        tracing::debug!(expires_in = ?fetched.expires_in, "token refreshed and stored");
        Outcome::Fresh(Arc::new(fetched))
    }

    fn unsaved_slot(&self) -> MutexGuard<'_, Option<Unsaved>> {
        self.unsaved.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The unsaved token if storage (`loaded`) lacks it. If storage holds a newer token, the
    /// unsaved one is forgotten.
    fn unsaved_missing_from(&self, loaded: Option<&StoredToken>) -> Option<Unsaved> {
        let mut slot = self.unsaved_slot();
        let unsaved = slot.as_ref()?;
        if unsaved.superseded_by(loaded) {
            tracing::debug!("storage holds a newer token than the unsaved one; it is dropped");
            *slot = None;
            return None;
        }
        let held = loaded.is_some_and(|l| l.has_access_token(&unsaved.token.access_token));
        (!held).then(|| unsaved.clone())
    }

    /// No longer unsaved, if `unsaved` is still the one kept.
    fn saved(&self, unsaved: &Unsaved) {
        let mut slot = self.unsaved_slot();
        if slot
            .as_ref()
            .is_some_and(|u| Arc::ptr_eq(&u.token, &unsaved.token))
        {
            *slot = None;
        }
    }

    /// Writes the unsaved token through `lock`; confirmed, it is no longer unsaved.
    async fn write_unsaved(&self, lock: &mut dyn RefreshLock, unsaved: &Unsaved) {
        match lock.store(&unsaved.token).await {
            Ok(()) => {
                self.saved(unsaved);
                tracing::info!("the token storage had lost is stored again");
            }
            Err(error) => {
                tracing::debug!(error = %error.one_line(), "the unsaved token is still not confirmed");
            }
        }
    }

    /// Rule 5's "written again". While a token is unsaved, storage is read every 250 ms at first,
    /// then less often, up to every 2 s (a failover takes seconds, and until the token is back
    /// other processes see a spent one). Storage lacks it: it is written under the lock. Storage
    /// holds it (reached the primary, not confirmed by replicas): it is watched, without the
    /// lock, for a failover that loses it, for [`UNSAVED_WATCH`]; storage holds a newer token:
    /// done.
    async fn write_unsaved_until_kept(
        manager: &std::sync::Weak<Self>,
        mut kept_lock: Option<Box<dyn RefreshLock>>,
    ) {
        let mut pause = Duration::from_millis(250);
        let mut held_since: Option<std::time::Instant> = None;
        loop {
            let unsaved = manager
                .upgrade()
                .and_then(|manager| manager.unsaved_slot().clone());
            if unsaved.is_none() {
                if let Some(lock) = kept_lock.take() {
                    release(lock).await;
                }
                return;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
            let Some(manager) = manager.upgrade() else {
                continue;
            };
            if let Some(mut lock) = kept_lock.take() {
                // The flight's own lock, if storage still has it: nobody refreshed meanwhile.
                let Some(unsaved) = manager.unsaved_slot().clone() else {
                    kept_lock = Some(lock);
                    continue;
                };
                match lock.store(&unsaved.token).await {
                    Ok(()) => {
                        manager.saved(&unsaved);
                        tracing::info!("the token whose write went unanswered is stored now");
                        release(lock).await;
                    }
                    Err(Error::Storage(e)) if e.kind() == StorageErrorKind::Unreachable => {
                        kept_lock = Some(lock);
                    }
                    // Written but not confirmed (watched below), or the lock expired meanwhile
                    // (written again under a new one below).
                    Err(_) => release(lock).await,
                }
                continue;
            }
            let Ok(loaded) = manager.storage.load().await else {
                continue;
            };
            let Some(unsaved) = manager.unsaved_missing_from(loaded.as_ref()) else {
                if let Some(unsaved) = manager.unsaved_slot().clone() {
                    // Storage holds it; after the watch, no failover lost it.
                    let since = *held_since.get_or_insert_with(std::time::Instant::now);
                    if since.elapsed() >= UNSAVED_WATCH {
                        manager.saved(&unsaved);
                    }
                }
                continue;
            };
            held_since = None;
            drop(unsaved);
            let Ok(mut lock) = manager.storage.lock().await else {
                continue;
            };
            if let Ok(loaded) = manager.storage.load().await
                && let Some(unsaved) = manager.unsaved_missing_from(loaded.as_ref())
            {
                manager.write_unsaved(&mut *lock, &unsaved).await;
            }
            release(lock).await;
        }
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
async fn release(lock: Box<dyn RefreshLock>) {
    if let Err(error) = lock.release().await {
        tracing::warn!(error = %error.one_line(), "could not release the refresh lock");
    }
}

/// Waits for a flight's outcome.
async fn wait(mut flight: Flight) -> Outcome {
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
    manager: Arc<TokenManager>,
    id: u64,
    sender: Option<watch::Sender<Option<Outcome>>>,
}

impl Landing {
    fn land(mut self, outcome: Outcome) {
        self.finish(outcome);
    }

    fn finish(&mut self, outcome: Outcome) {
        self.manager.record(self.id, &outcome);
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
