//! `[unconfirmed-write]`: a token fetched whose write storage did not confirm (storage stopped
//! answering mid-write, or kept it without the replicas it was asked for) is served from memory
//! and written again until storage holds it. The token is already fetched, and for OAuth the
//! refresh token that bought it is spent: refusing it would lose the identity.

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
/// asked for, or may take it again once a failover ends: the token is kept and written again.
pub(super) fn write_unconfirmed(error: &Error) -> bool {
    matches!(error, Error::Storage(storage) if matches!(
        storage.kind(),
        StorageErrorKind::Unreachable
            | StorageErrorKind::FailingOver
            | StorageErrorKind::NotReplicated
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

    /// Writes the unsaved token through `lock`; confirmed, it is no longer unsaved.
    pub(super) async fn write_unsaved(&self, lock: &mut dyn RefreshLock, unsaved: &Unsaved) {
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
                    Err(error) if unanswered(&error) => kept_lock = Some(lock),
                    // Written but not confirmed (watched below), or the lock expired meanwhile
                    // (written again under a new one below).
                    Err(_) => release(lock).await,
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
