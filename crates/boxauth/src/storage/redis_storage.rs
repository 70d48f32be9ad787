//! Tokens in Redis, shared by processes on many machines (feature `redis`).
//!
//! Keys, under one namespace per identity:
//! - `{ns}:token`: the [`StoredToken`] as JSON.
//! - `{ns}:lock`: the refresh lock: `SET {ns}:lock <owner> NX PX <ttl>`, with a random owner.
//! - `{ns}:changed`: a pub/sub channel told whenever the token is stored or the lock released.
//!
//! A write through the lock is a Lua script that stores only if the lock is still this owner's:
//! a holder that paused past the lock's TTL (a GC pause, a stopped VM) cannot overwrite a newer
//! token. Release is a compare-and-delete. Waiters sleep until the channel speaks or the lock's TTL
//! runs out, never in a tight poll.
//!
//! `rediss://` URLs connect over TLS (rustls), checked against the system's trust store or a CA
//! given with [`RedisStorage::with_root_certificates`].
//!
//! The connection is opened on first use and reconnects on its own after Redis restarts. Redis is
//! only asked near expiry or after a 401 (the token manager's cache serves the rest), and a token
//! that is still valid keeps being served while Redis is unreachable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio::sync::Mutex;

use super::{RefreshLock, TokenStorage};
use crate::error::{ConfigError, ConfigErrorKind, Error, Result, StorageError, StorageErrorKind};
use crate::future::BoxFuture;
use crate::token::StoredToken;

const STORE_IF_OWNER: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('PUBLISH', KEYS[3], 'stored')
  return 1
end
return 0";

const RELEASE_IF_OWNER: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', KEYS[2], 'released')
  return 1
end
return 0";

/// Token storage in Redis. Cloning shares the connection.
#[derive(Clone)]
pub struct RedisStorage {
    inner: Arc<Inner>,
    settings: Settings,
}

#[derive(Clone, Copy)]
struct Settings {
    lock_ttl: Duration,
    lock_timeout: Duration,
}

struct Inner {
    client: redis::Client,
    /// The URL without its password, for messages.
    shown: String,
    namespace: String,
    token_key: String,
    lock_key: String,
    channel: String,
    connection: Mutex<Option<ConnectionManager>>,
    store_script: redis::Script,
    release_script: redis::Script,
}

impl Inner {
    fn new(client: redis::Client, shown: String, namespace: &str) -> Self {
        Self {
            client,
            shown,
            namespace: namespace.to_owned(),
            token_key: format!("{namespace}:token"),
            lock_key: format!("{namespace}:lock"),
            channel: format!("{namespace}:changed"),
            connection: Mutex::new(None),
            store_script: redis::Script::new(STORE_IF_OWNER),
            release_script: redis::Script::new(RELEASE_IF_OWNER),
        }
    }
}

impl std::fmt::Debug for RedisStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStorage")
            .field("url", &self.inner.shown)
            .field("namespace", &self.inner.namespace)
            .finish()
    }
}

impl RedisStorage {
    /// Storage in the Redis at `url` under `namespace`, one per identity (e.g.
    /// `boxauth:<client id>:enterprise:<id>`). Nothing is sent until first use.
    ///
    /// `url` is `redis://[[USER]:PASSWORD@]HOST:PORT/DB`, or `rediss://…` for TLS, where the
    /// server's certificate is checked against the system's trust store (or the CAs given to
    /// [`with_root_certificates`](Self::with_root_certificates)) and must name `HOST`.
    pub fn new(url: &str, namespace: &str) -> Result<Self> {
        let client = redis::Client::open(url).map_err(|e| {
            ConfigError::new(
                ConfigErrorKind::Invalid,
                format!(
                    "{} is not a Redis URL; give one such as redis://127.0.0.1:6379/0 (rediss:// \
                     for TLS)",
                    crate::mask::url_password(url)
                ),
            )
            .with_source(e)
        })?;
        if namespace.is_empty() || namespace.contains(char::is_whitespace) {
            return Err(Error::config(
                "the Redis namespace must be a non-empty word, e.g. boxauth:myapp",
            ));
        }
        Ok(Self {
            inner: Arc::new(Inner::new(
                client,
                crate::mask::url_password(url),
                namespace,
            )),
            settings: Settings {
                lock_ttl: Duration::from_secs(30),
                lock_timeout: Duration::from_secs(60),
            },
        })
    }

    /// Storage in the Redis at `url` under the namespace of `method`'s identity
    /// ([`AuthMethod::identity`](crate::AuthMethod::identity): the app's client ID and the
    /// subject), so every process with the same identity shares one token, and no other does.
    pub fn for_identity(url: &str, method: &crate::AuthMethod) -> Result<Self> {
        Self::new(url, &method.identity()?)
    }

    /// Trusts these CA certificates (PEM, one or more) for a `rediss://` URL, instead of the
    /// system's trust store: for a Redis whose certificate a private CA signed.
    pub fn with_root_certificates(self, pem: &[u8]) -> Result<Self> {
        let info = self.inner.client.get_connection_info().clone();
        if !matches!(info.addr(), redis::ConnectionAddr::TcpTls { .. }) {
            return Err(Error::config(format!(
                "a CA certificate only applies to TLS: {} starts with redis://, use rediss://",
                self.inner.shown
            )));
        }
        let certificates = CertificateDer::pem_slice_iter(pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| {
                ConfigError::new(
                    ConfigErrorKind::Invalid,
                    "the Redis CA certificate is not valid PEM; give the CA's \
                     -----BEGIN CERTIFICATE----- file",
                )
                .with_source(e)
            })?;
        if certificates.is_empty() {
            return Err(Error::config(
                "the Redis CA file holds no certificate; give the CA's -----BEGIN CERTIFICATE----- file",
            ));
        }
        let client = redis::Client::build_with_tls(
            info,
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem.to_vec()),
            },
        )
        .map_err(|e| {
            ConfigError::new(
                ConfigErrorKind::Invalid,
                "the Redis CA certificate was refused",
            )
            .with_source(e)
        })?;
        Ok(Self {
            inner: Arc::new(Inner::new(
                client,
                self.inner.shown.clone(),
                &self.inner.namespace,
            )),
            settings: self.settings,
        })
    }

    /// How long the refresh lock lives if its holder dies without releasing it (default 30 s).
    /// A refresh must finish within it, or its result is refused.
    pub fn with_lock_ttl(mut self, ttl: Duration) -> Self {
        self.settings.lock_ttl = ttl.max(Duration::from_millis(100));
        self
    }

    /// How long [`lock`](TokenStorage::lock) waits for another holder (default 60 s).
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.settings.lock_timeout = timeout;
        self
    }

    /// The namespace of this identity's keys.
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    fn unreachable(&self, error: &redis::RedisError) -> Error {
        let (kind, message) = if error.to_string().contains("invalid peer certificate") {
            (
                StorageErrorKind::UntrustedCertificate,
                format!(
                    "Redis at {} has a TLS certificate that could not be trusted; give the CA that \
                     signed it (RedisStorage::with_root_certificates) and connect by a host name \
                     the certificate carries",
                    self.inner.shown
                ),
            )
        } else {
            (
                StorageErrorKind::Unreachable,
                format!(
                    "Redis at {} did not answer; check that it runs and that the URL is right (a \
                     still-valid token keeps being used meanwhile)",
                    self.inner.shown
                ),
            )
        };
        StorageError::new(kind, message)
            .with_source(error.clone())
            .into()
    }

    /// The shared connection, opened on first use (and again after a failed first attempt).
    async fn connection(&self) -> Result<ConnectionManager> {
        let mut slot = self.inner.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_with_config(self.inner.client.clone(), config)
            .await
            .map_err(|e| self.unreachable(&e))?;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    async fn try_acquire(&self, connection: &mut ConnectionManager, owner: &str) -> Result<bool> {
        let ttl = u64::try_from(self.settings.lock_ttl.as_millis()).unwrap_or(u64::MAX);
        let answer: Option<String> = redis::cmd("SET")
            .arg(&self.inner.lock_key)
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg(ttl)
            .query_async(connection)
            .await
            .map_err(|e| self.unreachable(&e))?;
        Ok(answer.is_some())
    }

    async fn acquire(&self) -> Result<RedisLock> {
        let mut connection = self.connection().await?;
        let owner = {
            let mut bytes = [0u8; 16];
            // No lock can be told apart without randomness: fail loudly.
            aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator failed");
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        let deadline = Instant::now() + self.settings.lock_timeout;
        let mut subscription: Option<redis::aio::PubSub> = None;
        loop {
            if self.try_acquire(&mut connection, &owner).await? {
                return Ok(RedisLock {
                    storage: self.clone(),
                    owner,
                    released: false,
                });
            }
            let Some(pubsub) = subscription.as_mut() else {
                // Subscribe, then try again: a release between the two is not missed.
                let mut pubsub = self
                    .inner
                    .client
                    .get_async_pubsub()
                    .await
                    .map_err(|e| self.unreachable(&e))?;
                pubsub
                    .subscribe(&self.inner.channel)
                    .await
                    .map_err(|e| self.unreachable(&e))?;
                subscription = Some(pubsub);
                continue;
            };
            let left: i64 = redis::cmd("PTTL")
                .arg(&self.inner.lock_key)
                .query_async(&mut connection)
                .await
                .map_err(|e| self.unreachable(&e))?;
            if Instant::now() >= deadline {
                return Err(Error::storage_kind(
                    StorageErrorKind::LockTimeout,
                    format!(
                        "another process has held the refresh lock {} at {} for over {} s",
                        self.inner.lock_key,
                        self.inner.shown,
                        self.settings.lock_timeout.as_secs()
                    ),
                ));
            }
            // Woken by a store or a release; else when the holder's lock runs out.
            let until_expiry = Duration::from_millis(u64::try_from(left.max(1)).unwrap_or(1));
            let wait = until_expiry
                .min(deadline.saturating_duration_since(Instant::now()))
                .min(Duration::from_secs(5));
            let _ = tokio::time::timeout(wait, pubsub.on_message().next()).await;
        }
    }
}

/// The held Redis lock.
struct RedisLock {
    storage: RedisStorage,
    owner: String,
    released: bool,
}

impl RefreshLock for RedisLock {
    fn store<'a>(&'a mut self, token: &'a StoredToken) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let json = zeroize::Zeroizing::new(serde_json::to_string(token).map_err(|_| {
                Error::storage_kind(StorageErrorKind::Corrupt, "cannot encode the token")
            })?);
            let inner = &self.storage.inner;
            let mut connection = self.storage.connection().await?;
            let stored: i64 = inner
                .store_script
                .key(&inner.lock_key)
                .key(&inner.token_key)
                .key(&inner.channel)
                .arg(&self.owner)
                .arg(json.as_str())
                .invoke_async(&mut connection)
                .await
                .map_err(|e| self.storage.unreachable(&e))?;
            if stored == 1 {
                crate::failpoint::reached("redis_storage::stored");
                Ok(())
            } else {
                Err(Error::storage_kind(
                    StorageErrorKind::LockLost,
                    format!(
                        "the refresh lock {} expired before the new token was stored (this process paused for \
                     longer than its {} s TTL): the token was not stored, so a newer one is not overwritten",
                        inner.lock_key,
                        self.storage.settings.lock_ttl.as_secs_f64()
                    ),
                ))
            }
        })
    }

    fn release(mut self: Box<Self>) -> BoxFuture<'static, Result<()>> {
        Box::pin(async move {
            self.released = true;
            let inner = self.storage.inner.clone();
            let mut connection = self.storage.connection().await?;
            let _: i64 = inner
                .release_script
                .key(&inner.lock_key)
                .key(&inner.channel)
                .arg(&self.owner)
                .invoke_async(&mut connection)
                .await
                .map_err(|e| self.storage.unreachable(&e))?;
            Ok(())
        })
    }
}

impl Drop for RedisLock {
    fn drop(&mut self) {
        if !self.released {
            // Dropped without release (a cancelled task): the lock's TTL frees it.
            tracing::debug!(lock = %self.storage.inner.lock_key, "refresh lock dropped; it expires on its own");
        }
    }
}

impl TokenStorage for RedisStorage {
    fn load(&self) -> BoxFuture<'_, Result<Option<StoredToken>>> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let value: Option<String> = redis::cmd("GET")
                .arg(&self.inner.token_key)
                .query_async(&mut connection)
                .await
                .map_err(|e| self.unreachable(&e))?;
            let Some(json) = value.map(zeroize::Zeroizing::new) else {
                return Ok(None);
            };
            serde_json::from_str(&json).map(Some).map_err(|e| {
                Error::storage_kind(StorageErrorKind::Corrupt, format!(
                    "{} at {} is not a token boxauth wrote (JSON error at line {} column {}); delete the key \
                     and log in again",
                    self.inner.token_key,
                    self.inner.shown,
                    e.line(),
                    e.column()
                ))
            })
        })
    }

    fn store<'a>(&'a self, token: &'a StoredToken) -> BoxFuture<'a, Result<()>> {
        Box::pin(super::store_under_lock(self, token))
    }

    fn clear(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            redis::pipe()
                .cmd("DEL")
                .arg(&self.inner.token_key)
                .ignore()
                .cmd("PUBLISH")
                .arg(&self.inner.channel)
                .arg("cleared")
                .ignore()
                .query_async::<()>(&mut connection)
                .await
                .map_err(|e| self.unreachable(&e))
        })
    }

    fn lock(&self) -> BoxFuture<'_, Result<Box<dyn RefreshLock>>> {
        Box::pin(async move { Ok(Box::new(self.acquire().await?) as Box<dyn RefreshLock>) })
    }
}
