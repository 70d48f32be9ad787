//! The cached tokens of an environment whose secrets are in the OS keychain: a `TokenStorage`
//! keeping the token (as the token file would hold it) in a keychain item of its own, so no token
//! is written under the config directory either. The refresh lock is the same `flock` on
//! `tokens/NAME.json.lock` as the file store's (the lock file holds nothing), so two `boxauth`
//! processes of one environment still refresh one at a time.
//!
//! An environment's `AuthConfig` names its token file (`tokens/NAME.json`); [`register`] records
//! that a keychain environment's token file stands for its keychain item, and [`storage_for`]
//! (what every command builds its auth with) gives the keychain storage for it.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use boxauth::{
    AuthConfig, BoxFuture, Error, RefreshLock, StorageError, StorageErrorKind, StoredToken,
    TokenStorage, TokenStore,
};

use crate::secrets::{KeychainError, platform};

/// How long a command waits for another one's refresh.
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// Token file -> keychain account, for the keychain environments this process loaded.
static KEYCHAIN: Mutex<BTreeMap<PathBuf, String>> = Mutex::new(BTreeMap::new());

/// Records that the environment with token file `token_file` keeps its tokens under `account`.
pub fn register(token_file: &Path, account: String) {
    if let Ok(mut map) = KEYCHAIN.lock() {
        map.insert(token_file.to_owned(), account);
    }
}

/// The token storage `config` is built with: the keychain's for a keychain environment's token
/// file, else the one the config names.
pub fn storage_for(config: &AuthConfig) -> boxauth::Result<Option<Arc<dyn TokenStorage>>> {
    if let TokenStore::File(path) = &config.token_store {
        let account = KEYCHAIN.lock().ok().and_then(|map| map.get(path).cloned());
        if let Some(account) = account {
            return Ok(Some(Arc::new(KeychainTokens::new(account, path))));
        }
    }
    config.storage()
}

/// A token in a keychain item, with the token file's lock.
#[derive(Debug, Clone)]
pub struct KeychainTokens {
    account: String,
    lock_file: PathBuf,
}

fn failed(what: &str, kind: StorageErrorKind, why: KeychainError) -> Error {
    StorageError::new(
        kind,
        format!(
            "cannot {what} the environment's token in the OS keychain: unlock it (or start it: on \
             Linux a Secret Service, with DBUS_SESSION_BUS_ADDRESS set)"
        ),
    )
    .with_source(why)
    .into()
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> boxauth::Result<T> + Send + 'static,
) -> boxauth::Result<T> {
    // The keychain and flock calls block: off the runtime's threads.
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        Error::from(
            StorageError::new(StorageErrorKind::Io, "a keychain operation was interrupted")
                .with_source(e),
        )
    })?
}

impl KeychainTokens {
    /// The token under `account`, locked with `token_file`'s lock file.
    pub fn new(account: String, token_file: &Path) -> Self {
        Self {
            account,
            lock_file: token_file.with_extension("json.lock"),
        }
    }
}

impl TokenStorage for KeychainTokens {
    fn load(&self) -> BoxFuture<'_, boxauth::Result<Option<StoredToken>>> {
        let account = self.account.clone();
        Box::pin(blocking(move || {
            let Some(text) = platform::get(&account)
                .map_err(|why| failed("read", StorageErrorKind::Unreachable, why))?
            else {
                return Ok(None);
            };
            // serde's message may quote the token: not kept.
            serde_json::from_str(&text).map(Some).map_err(|_| {
                StorageError::new(
                    StorageErrorKind::Corrupt,
                    "the environment's token in the OS keychain is not one boxauth wrote: \
                     `boxauth token revoke` or remove and add the environment again",
                )
                .into()
            })
        }))
    }

    fn store<'a>(&'a self, token: &'a StoredToken) -> BoxFuture<'a, boxauth::Result<()>> {
        Box::pin(async move {
            let mut lock = self.lock().await?;
            let written = lock.store(token).await;
            lock.release().await?;
            written
        })
    }

    fn clear(&self) -> BoxFuture<'_, boxauth::Result<()>> {
        Box::pin(async move {
            let lock = self.lock().await?;
            let account = self.account.clone();
            let cleared = blocking(move || {
                platform::delete(&account)
                    .map_err(|why| failed("remove", StorageErrorKind::Unreachable, why))
            })
            .await;
            lock.release().await?;
            cleared
        })
    }

    fn lock(&self) -> BoxFuture<'_, boxauth::Result<Box<dyn RefreshLock>>> {
        let path = self.lock_file.clone();
        let account = self.account.clone();
        Box::pin(async move {
            let waiting = blocking(move || {
                let io = |e: std::io::Error| {
                    Error::from(
                        StorageError::new(
                            StorageErrorKind::Io,
                            format!("cannot lock {}", path.display()),
                        )
                        .with_source(e),
                    )
                };
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io)?;
                }
                let file = File::options()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .map_err(io)?;
                file.lock().map_err(io)?;
                Ok(file)
            });
            let file = tokio::time::timeout(LOCK_WAIT, waiting)
                .await
                .map_err(|_| {
                    Error::from(StorageError::new(
                        StorageErrorKind::LockTimeout,
                        "another boxauth kept the environment's refresh lock for a minute",
                    ))
                })??;
            Ok(Box::new(KeychainLock {
                account,
                file: Some(file),
            }) as Box<dyn RefreshLock>)
        })
    }
}

struct KeychainLock {
    account: String,
    file: Option<File>,
}

impl RefreshLock for KeychainLock {
    fn store<'a>(&'a mut self, token: &'a StoredToken) -> BoxFuture<'a, boxauth::Result<()>> {
        let account = self.account.clone();
        let token = token.clone();
        Box::pin(blocking(move || {
            let text = serde_json::to_string(&token).map_err(|e| {
                Error::from(
                    StorageError::new(StorageErrorKind::Io, "cannot write the token")
                        .with_source(e),
                )
            })?;
            platform::set(&account, &text)
                .map_err(|why| failed("write", StorageErrorKind::Unreachable, why))
        }))
    }

    fn release(mut self: Box<Self>) -> BoxFuture<'static, boxauth::Result<()>> {
        if let Some(file) = self.file.take() {
            let _ = file.unlock();
        }
        Box::pin(async { Ok(()) })
    }
}

impl Drop for KeychainLock {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            let _ = file.unlock();
        }
    }
}
