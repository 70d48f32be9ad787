//! Where tokens live between requests and between processes, and the lock that makes a refresh
//! happen once however many tasks or processes need it.

mod file;
mod memory;
#[cfg(feature = "redis")]
mod redis_storage;

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub use file::FileStorage;
pub use memory::MemoryStorage;
#[cfg(feature = "redis")]
pub use redis_storage::RedisStorage;

use crate::error::Result;
use crate::schemas::AccessToken;
use crate::secret::Token;

/// A boxed, `Send` future: what the object-safe async traits of this crate return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> i64 {
    unix_seconds(SystemTime::now())
}

pub(crate) fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// An [`AccessToken`] with the moment it expires, as kept in storage. Derefs to the token.
///
/// Serialised as the token's own fields plus `expires_at` (Unix seconds).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredToken {
    /// The token as Box returned it.
    #[serde(flatten)]
    pub token: AccessToken,
    /// When the access token expires, in Unix seconds; `None` when Box did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

impl Deref for StoredToken {
    type Target = AccessToken;

    fn deref(&self) -> &AccessToken {
        &self.token
    }
}

impl StoredToken {
    /// `token` received at `received_at`: it expires `expires_in` seconds later.
    pub fn new(token: AccessToken, received_at: SystemTime) -> Self {
        let expires_at = token
            .expires_in
            .map(|seconds| unix_seconds(received_at).saturating_add(seconds));
        Self { token, expires_at }
    }

    /// Whether the access token is present and still valid `margin_secs` from `now` (Unix seconds).
    pub fn is_valid_at(&self, now: i64, margin_secs: i64) -> bool {
        self.token.access_token.is_some()
            && self
                .expires_at
                .is_none_or(|at| at > now.saturating_add(margin_secs))
    }

    /// Whether this is the same access token as `other`, compared in constant time.
    pub fn has_access_token(&self, other: &Token) -> bool {
        self.token.access_token.as_ref().is_some_and(|mine| {
            aws_lc_rs::constant_time::verify_slices_are_equal(
                mine.secret().as_bytes(),
                other.secret().as_bytes(),
            )
            .is_ok()
        })
    }

    /// Whether the refresh tokens of both are the same (both absent counts as the same).
    pub(crate) fn same_refresh_token(&self, other: &StoredToken) -> bool {
        match (&self.token.refresh_token, &other.token.refresh_token) {
            (Some(a), Some(b)) => aws_lc_rs::constant_time::verify_slices_are_equal(
                a.secret().as_bytes(),
                b.secret().as_bytes(),
            )
            .is_ok(),
            (None, None) => true,
            _ => false,
        }
    }
}

/// Token storage: memory, a file shared by processes on one host, or Redis shared by hosts.
///
/// Implementations must make [`lock`](Self::lock) exclusive across everyone who shares the storage,
/// and a write through the [`RefreshLock`] durable before it returns.
pub trait TokenStorage: Send + Sync + fmt::Debug {
    /// The stored token, if any.
    fn load(&self) -> BoxFuture<'_, Result<Option<StoredToken>>>;
    /// Stores `token` (taking the lock for the write where the storage needs it).
    fn store<'a>(&'a self, token: &'a StoredToken) -> BoxFuture<'a, Result<()>>;
    /// Forgets the stored token.
    fn clear(&self) -> BoxFuture<'_, Result<()>>;
    /// Waits for the refresh lock. While it is held, no one else sharing this storage refreshes.
    fn lock(&self) -> BoxFuture<'_, Result<Box<dyn RefreshLock>>>;
}

/// [`TokenStorage::store`] for a storage whose writes go through its refresh lock: takes the
/// lock, writes through it, releases it (also after a failed write).
pub(crate) async fn store_under_lock(
    storage: &(impl TokenStorage + ?Sized),
    token: &StoredToken,
) -> Result<()> {
    let mut lock = storage.lock().await?;
    let written = lock.store(token).await;
    lock.release().await?;
    written
}

/// The refresh lock, held while one refresh happens.
pub trait RefreshLock: Send {
    /// Stores `token`, but only if this lock is still held (a Redis lock can expire while its
    /// holder is paused): a holder that lost the lock must not overwrite a newer token.
    fn store<'a>(&'a mut self, token: &'a StoredToken) -> BoxFuture<'a, Result<()>>;
    /// Releases the lock.
    fn release(self: Box<Self>) -> BoxFuture<'static, Result<()>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_in: Option<i64>) -> AccessToken {
        AccessToken {
            access_token: Some("a".into()),
            expires_in,
            ..AccessToken::default()
        }
    }

    #[test]
    fn expiry_is_received_at_plus_expires_in_and_the_margin_counts() {
        let at = UNIX_EPOCH + std::time::Duration::from_secs(1_000);
        let stored = StoredToken::new(token(Some(3600)), at);
        assert_eq!(stored.expires_at, Some(4_600));
        assert!(stored.is_valid_at(4_000, 60));
        assert!(!stored.is_valid_at(4_550, 60));
        assert!(
            StoredToken::new(token(None), at).is_valid_at(i64::MAX - 1, 60),
            "no expiry known: valid"
        );
        let json = serde_json::to_value(&stored).unwrap();
        assert_eq!(json["expires_at"], 4_600);
        assert_eq!(json["access_token"], "a");
    }
}
