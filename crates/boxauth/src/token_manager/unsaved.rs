//! `[unconfirmed-write]`: a token fetched whose write storage did not confirm (storage stopped
//! answering mid-write, was failing over, or kept it without the replicas it was asked for) is
//! served from memory and written again until storage holds it. The token is already fetched,
//! and for OAuth the refresh token that bought it is spent: refusing it would lose the identity.
//!
//! `[flush]`: before a process exits, [`TokenManager::flush`] writes it again now, under the
//! lock, until storage confirms it (the replicas too) or the time given runs out, and says
//! what is still unconfirmed ([`Unconfirmed`]).

use std::fmt;
use std::sync::{Arc, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use super::TokenManager;
use super::flight::release;
use crate::error::{Error, StorageErrorKind};
use crate::storage::RefreshLock;
use crate::token::StoredToken;

/// How long a token storage holds without the confirmation it was asked for (no replica
/// acknowledged it) is watched for a failover that loses it, before it counts as kept: a
/// failover takes seconds, and a replica this far behind is not promoted (Redis Cluster's and
/// Sentinel's default validity rules). Measured on the manager's clock.
const UNSAVED_WATCH: Duration = Duration::from_secs(60);

/// How often storage is read while a token is unsaved: every 250 ms at first, doubling up to
/// every 2 s (a failover takes seconds, and until the token is back other processes see a spent
/// one).
const FIRST_PAUSE: Duration = Duration::from_millis(250);
const LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// A fetched token storage has not confirmed keeping, and the stored token it replaces.
#[derive(Clone)]
pub(super) struct Unsaved {
    pub(super) token: Arc<StoredToken>,
    pub(super) replaced: Option<StoredToken>,
    /// Its write went unanswered, and the flight kept the refresh lock to write it again.
    pub(super) lock_kept: bool,
    /// Why storage has not confirmed it: the last write's error.
    pub(super) error: Error,
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
/// asked for, may take it again once a failover ends, or refused this client's credentials (a
/// password changed under a running process): the token is kept and written again, since the
/// one it replaced may be spent.
pub(super) fn write_unconfirmed(error: &Error) -> bool {
    matches!(error, Error::Storage(storage) if matches!(
        storage.kind(),
        StorageErrorKind::Unreachable
            | StorageErrorKind::FailingOver
            | StorageErrorKind::NotReplicated
            | StorageErrorKind::AuthenticationRefused
    ))
}

/// A store error after which the write's fate is unknown and the lock may still be this
/// process's: storage did not answer, or was failing over.
pub(super) fn unanswered(error: &Error) -> bool {
    matches!(error, Error::Storage(e) if matches!(
        e.kind(),
        StorageErrorKind::Unreachable | StorageErrorKind::FailingOver
    ))
}

impl TokenManager {
    fn unsaved_slot(&self) -> MutexGuard<'_, Option<Unsaved>> {
        self.unsaved.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `unsaved` until storage confirms it (replacing an older one).
    pub(super) fn keep_unsaved(&self, unsaved: Unsaved) {
        *self.unsaved_slot() = Some(unsaved);
    }

    /// Whether `token` is the unsaved one whose flight kept the lock to write it again.
    pub(super) fn unsaved_keeps_lock(&self, token: &Arc<StoredToken>) -> bool {
        self.unsaved_slot()
            .as_ref()
            .is_some_and(|u| u.lock_kept && Arc::ptr_eq(&u.token, token))
    }

    /// The unsaved token if storage (`loaded`) lacks it. If storage holds a newer token, the
    /// unsaved one is forgotten.
    pub(super) fn unsaved_missing_from(&self, loaded: Option<&StoredToken>) -> Option<Unsaved> {
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

    /// Records why `unsaved` (if it is still the one kept) is not confirmed yet.
    fn still_unsaved(&self, unsaved: &Unsaved, error: Error) {
        tracing::debug!(error = %error.one_line(), "the unsaved token is still not confirmed");
        let mut slot = self.unsaved_slot();
        if let Some(kept) = slot
            .as_mut()
            .filter(|u| Arc::ptr_eq(&u.token, &unsaved.token))
        {
            kept.error = error;
        }
    }

    /// Writes the unsaved token through `lock`; confirmed, it is no longer unsaved.
    pub(super) async fn write_unsaved(&self, lock: &mut dyn RefreshLock, unsaved: &Unsaved) {
        match lock.store(&unsaved.token).await {
            Ok(()) => {
                self.saved(unsaved);
                tracing::info!("the token storage had lost is stored again");
            }
            Err(error) => self.still_unsaved(unsaved, error),
        }
    }

    /// "Written again": while a token is unsaved, storage is read every [`FIRST_PAUSE`] at first,
    /// then less often. Storage lacks it: it is written under the lock (first through the
    /// flight's own `kept_lock`, if it kept one: nobody refreshed meanwhile). Storage holds it
    /// (it reached the primary, no replica confirmed it): it is watched, without the lock, for a
    /// failover that loses it, for [`UNSAVED_WATCH`] on the manager's clock. Storage holds a
    /// newer token, or the manager's users dropped it: done.
    pub(super) async fn write_unsaved_until_kept(
        tokens: &Weak<Self>,
        mut kept_lock: Option<Box<dyn RefreshLock>>,
    ) {
        let mut pause = FIRST_PAUSE;
        let mut held_since: Option<SystemTime> = None;
        loop {
            let unsaved = tokens
                .upgrade()
                .and_then(|tokens| tokens.unsaved_slot().clone());
            if unsaved.is_none() {
                if let Some(lock) = kept_lock.take() {
                    release(lock).await;
                }
                return;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
            let Some(tokens) = tokens.upgrade() else {
                continue;
            };
            if let Some(mut lock) = kept_lock.take() {
                let Some(unsaved) = tokens.unsaved_slot().clone() else {
                    kept_lock = Some(lock);
                    continue;
                };
                match lock.store(&unsaved.token).await {
                    Ok(()) => {
                        tokens.saved(&unsaved);
                        tracing::info!("the token whose write went unanswered is stored now");
                        release(lock).await;
                    }
                    Err(error) if unanswered(&error) => {
                        tokens.still_unsaved(&unsaved, error);
                        kept_lock = Some(lock);
                    }
                    // Written but not confirmed (watched below), or the lock expired meanwhile
                    // (written again under a new one below).
                    Err(error) => {
                        tokens.still_unsaved(&unsaved, error);
                        release(lock).await;
                    }
                }
                continue;
            }
            let Ok(loaded) = tokens.storage.load().await else {
                continue;
            };
            let Some(unsaved) = tokens.unsaved_missing_from(loaded.as_ref()) else {
                if let Some(unsaved) = tokens.unsaved_slot().clone() {
                    // Storage holds it; after the watch, no failover lost it.
                    let now = tokens.clock.now();
                    let since = *held_since.get_or_insert(now);
                    if now.duration_since(since).unwrap_or_default() >= UNSAVED_WATCH {
                        tokens.saved(&unsaved);
                    }
                }
                continue;
            };
            held_since = None;
            drop(unsaved);
            let Ok(mut lock) = tokens.storage.lock().await else {
                continue;
            };
            if let Ok(loaded) = tokens.storage.load().await
                && let Some(unsaved) = tokens.unsaved_missing_from(loaded.as_ref())
            {
                tokens.write_unsaved(&mut *lock, &unsaved).await;
            }
            release(lock).await;
        }
    }
}

/// How long [`TokenManager::flush`] pauses between attempts at first; doubling up to
/// [`LONGEST_PAUSE`].
const FIRST_FLUSH_PAUSE: Duration = Duration::from_millis(100);

impl TokenManager {
    /// `[flush]`: writes the unsaved token again now, under the lock, until storage confirms
    /// it (with the replicas it asks for), storage holds a newer one, or `within` has passed;
    /// what is still unconfirmed then. `within` bounds the wait for the lock; a write under a
    /// lock already taken finishes (and releases it) even past it: cut short, it would leave
    /// the lock to its TTL, and every other process's refresh waiting on it. `within` zero only
    /// reports.
    pub(crate) async fn flush(&self, within: Duration) -> Result<(), Unconfirmed> {
        let deadline = tokio::time::Instant::now() + within;
        let mut pause = FIRST_FLUSH_PAUSE;
        while tokio::time::Instant::now() < deadline {
            let Some(unsaved) = self.unsaved_slot().clone() else {
                return Ok(());
            };
            let lock = match tokio::time::timeout_at(deadline, self.storage.lock()).await {
                Err(_) => break,
                Ok(Ok(lock)) => lock,
                Ok(Err(error)) => {
                    self.still_unsaved(&unsaved, error);
                    tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + pause))
                        .await;
                    pause = (pause * 2).min(LONGEST_PAUSE);
                    continue;
                }
            };
            if self.confirm(lock, &unsaved).await {
                continue;
            }
            tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + pause)).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
        match self.unsaved_slot().clone() {
            None => Ok(()),
            Some(unsaved) => Err(Unconfirmed {
                refresh_token: unsaved.token.refresh_token.is_some(),
                within,
                error: unsaved.error,
            }),
        }
    }

    /// Whether `unsaved` is still the token kept and storage (`loaded`) holds nothing newer
    /// (which drops it: nothing of this process's is left to confirm).
    fn still_to_confirm(&self, unsaved: &Unsaved, loaded: Option<&StoredToken>) -> bool {
        let mut slot = self.unsaved_slot();
        let Some(kept) = slot
            .as_ref()
            .filter(|kept| Arc::ptr_eq(&kept.token, &unsaved.token))
        else {
            return false;
        };
        if kept.superseded_by(loaded) {
            *slot = None;
            return false;
        }
        true
    }

    /// One attempt of the flush, under `lock`: a re-read, the token written again (or nothing
    /// to do if storage holds a newer one), the lock released. Whether it is done.
    async fn confirm(&self, mut lock: Box<dyn RefreshLock>, unsaved: &Unsaved) -> bool {
        let written = async {
            let loaded = self.storage.load().await?;
            if !self.still_to_confirm(unsaved, loaded.as_ref()) {
                return Ok(());
            }
            lock.store(&unsaved.token).await
        }
        .await;
        release(lock).await;
        match written {
            Ok(()) => {
                self.saved(unsaved);
                tracing::info!("the unconfirmed token is confirmed by storage now");
                true
            }
            Err(error) => {
                self.still_unsaved(unsaved, error);
                false
            }
        }
    }
}

/// A token storage has not confirmed keeping, as
/// [`Authentication::flush`](crate::Authentication::flush) reports it: this process may hold
/// the only copy. Its `source()` is why (the last write's error).
#[derive(Debug, Clone)]
pub struct Unconfirmed {
    refresh_token: bool,
    within: Duration,
    error: Error,
}

impl Unconfirmed {
    /// Whether the token carries a refresh token (OAuth 2.0). The refresh token that bought it
    /// is spent, so if storage loses this one (the Redis primary dies before a replica has it)
    /// once this process has exited, the identity must be authorized again. Without one, a
    /// lost token costs only a new one.
    pub fn holds_refresh_token(&self) -> bool {
        self.refresh_token
    }

    /// Why storage has not confirmed it: the last write's error
    /// ([`StorageErrorKind::NotReplicated`] when the primary holds it and no replica confirmed
    /// it, [`StorageErrorKind::Unreachable`] or [`StorageErrorKind::FailingOver`] when storage
    /// may not hold it at all).
    pub fn error(&self) -> &Error {
        &self.error
    }
}

impl fmt::Display for Unconfirmed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.refresh_token {
            "the new token and its refresh token"
        } else {
            "the new token"
        };
        let verb = if self.refresh_token { "are" } else { "is" };
        write!(
            f,
            "{what} {verb} not confirmed by storage after {} s: this process may hold the only \
             copy",
            self.within.as_secs_f64()
        )
    }
}

impl std::error::Error for Unconfirmed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<Unconfirmed> for Error {
    /// As a storage error of the cause's kind (`NotReplicated` for a cause of another kind),
    /// with the cause as its `source()`.
    fn from(unconfirmed: Unconfirmed) -> Self {
        let kind = unconfirmed
            .error
            .storage_error_kind()
            .unwrap_or(StorageErrorKind::NotReplicated);
        crate::error::StorageError::new(kind, unconfirmed.to_string())
            .with_source(unconfirmed.error)
            .into()
    }
}
