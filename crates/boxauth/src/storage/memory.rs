//! Tokens in this process's memory: for one process (its tasks share one refresh).

use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use super::{RefreshLock, TokenStorage};
use crate::error::Result;
use crate::future::BoxFuture;
use crate::token::StoredToken;

/// In-memory storage. Clones share the same token and lock.
#[derive(Clone, Default)]
pub struct MemoryStorage {
    token: Arc<Mutex<Option<StoredToken>>>,
    lock: Arc<AsyncMutex<()>>,
}

impl std::fmt::Debug for MemoryStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let has_token = self.slot().is_some();
        f.debug_struct("MemoryStorage")
            .field("has_token", &has_token)
            .finish()
    }
}

impl MemoryStorage {
    /// Empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<StoredToken>> {
        self.token
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

struct MemoryLock {
    storage: MemoryStorage,
    _guard: OwnedMutexGuard<()>,
}

impl RefreshLock for MemoryLock {
    fn store<'a>(&'a mut self, token: &'a StoredToken) -> BoxFuture<'a, Result<()>> {
        *self.storage.slot() = Some(token.clone());
        Box::pin(async { Ok(()) })
    }

    fn release(self: Box<Self>) -> BoxFuture<'static, Result<()>> {
        drop(self);
        Box::pin(async { Ok(()) })
    }
}

impl TokenStorage for MemoryStorage {
    fn load(&self) -> BoxFuture<'_, Result<Option<StoredToken>>> {
        let token = self.slot().clone();
        Box::pin(async move { Ok(token) })
    }

    fn store<'a>(&'a self, token: &'a StoredToken) -> BoxFuture<'a, Result<()>> {
        *self.slot() = Some(token.clone());
        Box::pin(async { Ok(()) })
    }

    fn clear(&self) -> BoxFuture<'_, Result<()>> {
        *self.slot() = None;
        Box::pin(async { Ok(()) })
    }

    fn lock(&self) -> BoxFuture<'_, Result<Box<dyn RefreshLock>>> {
        Box::pin(async move {
            let guard = self.lock.clone().lock_owned().await;
            Ok(Box::new(MemoryLock {
                storage: self.clone(),
                _guard: guard,
            }) as Box<dyn RefreshLock>)
        })
    }
}
