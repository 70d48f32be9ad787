//! Where tokens live between requests and between processes, and the lock that makes a refresh
//! happen once however many tasks or processes need it.

mod file;
mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::fmt;

#[cfg(feature = "redis")]
pub use self::redis::RedisStorage;
pub use file::FileStorage;
pub use memory::MemoryStorage;

use crate::error::Result;
use crate::future::BoxFuture;
use crate::token::StoredToken;

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
