//! Tokens in Redis, shared by processes on many machines (feature `redis`): one server, a Redis
//! Cluster, or a primary behind Sentinel ([`topology`] has the URL forms).
//!
//! Keys, under one namespace per identity, all in one hash slot (the namespace is the hash tag),
//! so a Redis Cluster keeps them on one node and the Lua scripts may touch them together:
//! - `{ns}:token`: the [`StoredToken`] as JSON.
//! - `{ns}:lock`: the refresh lock: `SET {ns}:lock <owner> NX PX <ttl>`, with a random owner.
//! - `{ns}:changed`: a pub/sub channel told whenever the token is stored or the lock released.
//!
//! Earlier versions kept the keys as `ns:token` and `ns:lock`, without the braces. A token under the old
//! name is read when the new one is absent and deleted once the new one is written, so an upgrade
//! keeps its login; upgrade every process of an identity together, as old and new versions do not
//! share a lock.
//!
//! A write through the lock is a Lua script that stores only if the lock is still this owner's:
//! a holder that paused past the lock's TTL (a GC pause, a stopped VM) cannot overwrite a newer
//! token. Release is a compare-and-delete. Waiters sleep until the channel speaks or the lock's TTL
//! runs out, never in a tight poll.
//!
//! Replication-safe writes ([`RedisStorage::with_replicas`], on by default for a cluster and for
//! Sentinel): the write is followed, in the same pipeline on the same connection, by `WAIT`, and
//! a write fewer replicas confirmed in time is reported as [`StorageErrorKind::NotReplicated`].
//! The token manager then keeps the new token in memory, serves it, and writes it again until
//! storage holds it, so a primary that dies before replicating cannot lose a single-use refresh
//! token.
//!
//! `rediss://` URLs connect over TLS (rustls), checked against the system's trust store or a CA
//! given with [`RedisStorage::with_root_certificates`].
//!
//! The connection is opened on first use and reconnects on its own after Redis restarts (through
//! Sentinel: to whichever server Sentinel names as primary now). Redis is only asked near expiry
//! or after a 401 (the token manager's cache serves the rest), and a token that is still valid
//! keeps being served while Redis is unreachable.

mod topology;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio::sync::Mutex;

use super::{RefreshLock, TokenStorage};
use crate::error::{ConfigError, ConfigErrorKind, Error, Result, StorageError, StorageErrorKind};
use crate::future::BoxFuture;
use crate::token::StoredToken;
use topology::{Connection, Kind, Nodes, Topology};

/// KEYS: lock, token, channel. ARGV: owner, token JSON.
const STORE_IF_OWNER: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('PUBLISH', KEYS[3], 'stored')
  return 1
end
return 0";

/// KEYS: lock, channel. ARGV: owner.
const RELEASE_IF_OWNER: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', KEYS[2], 'released')
  return 1
end
return 0";

/// How many replicas must confirm a new token, and how long a write waits for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Replicas {
    count: u32,
    timeout: Duration,
}

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
    replicas: Replicas,
}

/// What the URL named, kept to open it again with other CAs.
#[derive(Clone)]
enum Source {
    Single(redis::ConnectionInfo),
    Nodes(Nodes),
}

struct Inner {
    source: Source,
    topology: Topology,
    /// The URL without its password, for messages.
    shown: String,
    namespace: String,
    token_key: String,
    lock_key: String,
    channel: String,
    /// Where a token was kept before the keys were hash-tagged.
    legacy_token_key: String,
    /// The legacy key is known to be gone (deleted, or never there for this process's writes).
    legacy_gone: AtomicBool,
    connection: Mutex<Option<Connection>>,
}

impl Inner {
    fn new(source: Source, topology: Topology, shown: String, namespace: &str) -> Self {
        Self {
            source,
            topology,
            shown,
            namespace: namespace.to_owned(),
            token_key: format!("{{{namespace}}}:token"),
            lock_key: format!("{{{namespace}}}:lock"),
            channel: format!("{{{namespace}}}:changed"),
            legacy_token_key: format!("{namespace}:token"),
            legacy_gone: AtomicBool::new(false),
            connection: Mutex::new(None),
        }
    }
}

impl std::fmt::Debug for RedisStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStorage")
            .field("url", &self.inner.shown)
            .field("namespace", &self.inner.namespace)
            .field("replicas", &self.settings.replicas.count)
            .finish()
    }
}

fn invalid_url(shown: &str, what: &str) -> ConfigError {
    ConfigError::new(
        ConfigErrorKind::Invalid,
        format!(
            "{shown} is not a Redis URL boxauth can use ({what}); give one such as \
             redis://127.0.0.1:6379/0 (rediss:// for TLS), \
             redis-cluster://10.0.0.1:7000,10.0.0.2:7000 or \
             redis-sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster"
        ),
    )
}

impl RedisStorage {
    /// Storage in the Redis at `url` under `namespace`, one per identity (e.g.
    /// `boxauth:<client id>:enterprise:<id>`). Nothing is sent until first use.
    ///
    /// `url` is one of:
    /// - `redis://[[USER]:PASSWORD@]HOST:PORT/DB`, or `rediss://…` for TLS, where the server's
    ///   certificate is checked against the system's trust store (or the CAs given to
    ///   [`with_root_certificates`](Self::with_root_certificates)) and must name `HOST`;
    /// - `redis-cluster://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT…]` (`rediss-cluster://` for
    ///   TLS): a Redis Cluster, found from any of the nodes given;
    /// - `redis-sentinel://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT…]/MASTER_NAME[/DB]`
    ///   (`rediss-sentinel://`): the primary that these Sentinels name for `MASTER_NAME`,
    ///   followed through failovers. The credentials are the data nodes'.
    ///
    /// A cluster or Sentinel URL turns on replication-safe writes (one replica, 1 s; see
    /// [`with_replicas`](Self::with_replicas)).
    pub fn new(url: &str, namespace: &str) -> Result<Self> {
        let shown = crate::mask::url_password(url);
        let (source, topology) = match topology::kind_of(url) {
            Kind::Single => {
                let client = redis::Client::open(url).map_err(|e| {
                    invalid_url(&shown, "not a redis:// or rediss:// URL").with_source(e)
                })?;
                let info = client.get_connection_info().clone();
                (Source::Single(info), Topology::Single(client))
            }
            Kind::Cluster | Kind::Sentinel => {
                let nodes = Nodes::parse(url).map_err(|what| invalid_url(&shown, &what))?;
                let topology = nodes
                    .open(None)
                    .map_err(|e| invalid_url(&shown, "refused by redis").with_source(e))?;
                (Source::Nodes(nodes), topology)
            }
        };
        if namespace.is_empty()
            || namespace.contains(char::is_whitespace)
            || namespace.contains(['{', '}'])
        {
            return Err(Error::config(
                "the Redis namespace must be a non-empty word without braces (it becomes the \
                 keys' hash tag, {namespace}:token), e.g. boxauth:myapp",
            ));
        }
        let replicas = match topology.kind() {
            Kind::Single => Replicas {
                count: 0,
                timeout: Duration::ZERO,
            },
            Kind::Cluster | Kind::Sentinel => Replicas {
                count: 1,
                timeout: Duration::from_secs(1),
            },
        };
        Ok(Self {
            inner: Arc::new(Inner::new(source, topology, shown, namespace)),
            settings: Settings {
                lock_ttl: Duration::from_secs(30),
                lock_timeout: Duration::from_secs(60),
                replicas,
            },
        })
    }

    /// Storage in the Redis at `url` under the namespace of `method`'s identity
    /// ([`AuthMethod::identity`](crate::AuthMethod::identity): the app's client ID and the
    /// subject), so every process with the same identity shares one token, and no other does.
    pub fn for_identity(url: &str, method: &crate::AuthMethod) -> Result<Self> {
        Self::new(url, &method.identity()?)
    }

    /// Trusts these CA certificates (PEM, one or more) for a `rediss://` (or
    /// `rediss-cluster://`, `rediss-sentinel://`) URL, instead of the system's trust store: for a
    /// Redis whose certificate a private CA signed.
    pub fn with_root_certificates(self, pem: &[u8]) -> Result<Self> {
        let tls = match &self.inner.source {
            Source::Single(info) => matches!(info.addr(), redis::ConnectionAddr::TcpTls { .. }),
            Source::Nodes(nodes) => nodes.tls,
        };
        if !tls {
            return Err(Error::config(format!(
                "a CA certificate only applies to TLS: {} does not start with rediss:// (or \
                 rediss-cluster://, rediss-sentinel://)",
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
        let refused = |e: redis::RedisError| {
            ConfigError::new(
                ConfigErrorKind::Invalid,
                "the Redis CA certificate was refused",
            )
            .with_source(e)
        };
        let topology = match &self.inner.source {
            Source::Single(info) => Topology::Single(
                redis::Client::build_with_tls(
                    info.clone(),
                    redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(pem.to_vec()),
                    },
                )
                .map_err(refused)?,
            ),
            Source::Nodes(nodes) => nodes.open(Some(pem)).map_err(refused)?,
        };
        Ok(Self {
            inner: Arc::new(Inner::new(
                self.inner.source.clone(),
                topology,
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

    /// Replication-safe writes: a new token counts as stored only once `count` replicas have
    /// confirmed it (Redis `WAIT`), waiting at most `timeout` (at least 1 ms). A write fewer
    /// replicas confirmed is reported as [`StorageErrorKind::NotReplicated`]; the token manager
    /// keeps that token in memory, serves it and writes it again until storage holds it.
    ///
    /// The default is one replica within 1 s for a cluster or Sentinel URL, and none (off) for
    /// one server. `count` 0 turns it off: each refresh is one round trip faster, and a primary
    /// that dies in the moment between a write and its replication loses that token (for OAuth,
    /// the single-use refresh token: the identity must log in again).
    pub fn with_replicas(mut self, count: u32, timeout: Duration) -> Self {
        self.settings.replicas = Replicas {
            count,
            timeout: timeout.max(Duration::from_millis(1)),
        };
        self
    }

    /// The namespace of this identity's keys.
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    /// The key the token is kept under: `{namespace}:token`.
    pub fn token_key(&self) -> &str {
        &self.inner.token_key
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

    /// `result` as boxauth's error. Through Sentinel a failed command forgets the connection,
    /// so the next one asks Sentinel again which server is primary now.
    async fn checked<T>(&self, result: redis::RedisResult<T>) -> Result<T> {
        match result {
            Ok(value) => Ok(value),
            Err(error) => {
                if self.inner.topology.kind() == Kind::Sentinel {
                    *self.inner.connection.lock().await = None;
                }
                Err(self.unreachable(&error))
            }
        }
    }

    /// The shared connection, opened on first use (and again after a failed first attempt).
    async fn connection(&self) -> Result<Connection> {
        let mut slot = self.inner.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let connection = self
            .inner
            .topology
            .connect()
            .await
            .map_err(|e| self.unreachable(&e))?;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    async fn try_acquire(&self, connection: &mut Connection, owner: &str) -> Result<bool> {
        let ttl = u64::try_from(self.settings.lock_ttl.as_millis()).unwrap_or(u64::MAX);
        let answer: redis::RedisResult<Option<String>> = redis::cmd("SET")
            .arg(&self.inner.lock_key)
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg(ttl)
            .query_async(connection)
            .await;
        Ok(self.checked(answer).await?.is_some())
    }

    /// A subscription to the identity's channel, through the first node that takes it.
    async fn subscribe(&self) -> Option<redis::aio::PubSub> {
        let clients = self.inner.topology.pubsub_clients().await.ok()?;
        for client in clients {
            // A node that takes connections but does not answer (a frozen process) is skipped.
            let subscribed = tokio::time::timeout(Duration::from_secs(2), async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&self.inner.channel).await?;
                redis::RedisResult::Ok(pubsub)
            })
            .await;
            if let Ok(Ok(pubsub)) = subscribed {
                return Some(pubsub);
            }
        }
        None
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
        let mut subscribed_once = false;
        loop {
            if self.try_acquire(&mut connection, &owner).await? {
                return Ok(RedisLock {
                    storage: self.clone(),
                    owner,
                    released: false,
                });
            }
            if !subscribed_once {
                // Subscribe, then try again: a release between the two is not missed. With no
                // node taking the subscription, waiters poll the lock's TTL instead.
                subscribed_once = true;
                subscription = self.subscribe().await;
                continue;
            }
            let left: redis::RedisResult<i64> = redis::cmd("PTTL")
                .arg(&self.inner.lock_key)
                .query_async(&mut connection)
                .await;
            let left = self.checked(left).await?;
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
            let gone = match subscription.as_mut() {
                Some(pubsub) => {
                    let mut messages = pubsub.on_message();
                    matches!(tokio::time::timeout(wait, messages.next()).await, Ok(None))
                }
                None => {
                    tokio::time::sleep(wait.min(Duration::from_millis(100))).await;
                    false
                }
            };
            if gone {
                // The node listened on went away: poll from now on.
                subscription = None;
            }
        }
    }

    /// Reads the token kept under the key name without braces, if the new one is absent.
    async fn load_legacy(&self, connection: &mut Connection) -> Result<Option<String>> {
        if self.inner.legacy_gone.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let value: redis::RedisResult<Option<String>> = redis::cmd("GET")
            .arg(&self.inner.legacy_token_key)
            .query_async(connection)
            .await;
        let value = self.checked(value).await?;
        if value.is_some() {
            tracing::info!(
                key = %self.inner.legacy_token_key,
                "read the token from its key without braces (an earlier version's); it moves to {} on the next write",
                self.inner.token_key
            );
        } else {
            self.inner.legacy_gone.store(true, Ordering::Relaxed);
        }
        Ok(value)
    }

    /// After a write under the new key: the old key goes (best effort, once per storage).
    async fn drop_legacy(&self, connection: &mut Connection) {
        if self.inner.legacy_gone.swap(true, Ordering::Relaxed) {
            return;
        }
        let deleted: redis::RedisResult<i64> = redis::cmd("DEL")
            .arg(&self.inner.legacy_token_key)
            .query_async(connection)
            .await;
        if deleted.is_err() {
            self.inner.legacy_gone.store(false, Ordering::Relaxed);
        }
    }
}

/// The held Redis lock.
struct RedisLock {
    storage: RedisStorage,
    owner: String,
    released: bool,
}

impl RedisLock {
    fn lock_lost(&self) -> Error {
        let storage = &self.storage;
        Error::storage_kind(
            StorageErrorKind::LockLost,
            format!(
                "the refresh lock {} expired before the new token was stored (this process paused for \
                 longer than its {} s TTL): the token was not stored, so a newer one is not overwritten",
                storage.inner.lock_key,
                storage.settings.lock_ttl.as_secs_f64()
            ),
        )
    }

    fn not_replicated(&self, confirmed: i64) -> Error {
        let storage = &self.storage;
        let replicas = storage.settings.replicas;
        Error::storage_kind(
            StorageErrorKind::NotReplicated,
            format!(
                "the new token reached the Redis primary at {} but {confirmed} of the {} replicas \
                 required confirmed it within {} ms: a failover now could lose it, so it is kept \
                 in memory and written again (RedisStorage::with_replicas sets how many; 0 for a \
                 Redis without replicas)",
                storage.inner.shown,
                replicas.count,
                replicas.timeout.as_millis()
            ),
        )
    }
}

/// Whether Redis answered with an error (rather than not answering).
fn refused(error: &redis::RedisError) -> bool {
    !(error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal())
}

impl RedisLock {
    fn wait_refused(&self, error: redis::RedisError) -> Error {
        StorageError::new(
            StorageErrorKind::NotReplicated,
            format!(
                "Redis at {} refused the new token's write or the WAIT after it ({}): it is kept \
                 in memory and written again; for a Redis that does not offer WAIT, use \
                 RedisStorage::with_replicas(0, …)",
                self.storage.inner.shown,
                crate::mask::printable(error.code().unwrap_or("an error"), 64)
            ),
        )
        .with_source(error)
        .into()
    }
}

impl RefreshLock for RedisLock {
    fn store<'a>(&'a mut self, token: &'a StoredToken) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let json = zeroize::Zeroizing::new(serde_json::to_string(token).map_err(|_| {
                Error::storage_kind(StorageErrorKind::Corrupt, "cannot encode the token")
            })?);
            let storage = &self.storage;
            let inner = &storage.inner;
            let replicas = storage.settings.replicas;
            let mut connection = storage.connection().await?;
            // One pipeline, so the WAIT runs on the connection (and, in a cluster, the node)
            // that made the write.
            let mut pipeline = redis::pipe();
            pipeline
                .cmd("EVAL")
                .arg(STORE_IF_OWNER)
                .arg(3)
                .arg(&inner.lock_key)
                .arg(&inner.token_key)
                .arg(&inner.channel)
                .arg(&self.owner)
                .arg(json.as_str());
            if replicas.count > 0 {
                let timeout = u64::try_from(replicas.timeout.as_millis()).unwrap_or(u64::MAX);
                pipeline.cmd("WAIT").arg(replicas.count).arg(timeout);
            }
            let answer: redis::RedisResult<Vec<i64>> = pipeline.query_async(&mut connection).await;
            let answer = match answer {
                // Redis answered, refusing a command: WAIT on a service that does not offer it,
                // or the write itself (out of memory). The write may have happened; whether it
                // did, storage shows the token manager, which keeps the token meanwhile.
                Err(error) if replicas.count > 0 && refused(&error) => {
                    return Err(self.wait_refused(error));
                }
                answer => storage.checked(answer).await?,
            };
            if answer.first() != Some(&1) {
                return Err(self.lock_lost());
            }
            crate::failpoint::reached("redis_storage::stored");
            storage.drop_legacy(&mut connection).await;
            match answer.get(1) {
                Some(&confirmed) if confirmed < i64::from(replicas.count) => {
                    Err(self.not_replicated(confirmed))
                }
                _ => Ok(()),
            }
        })
    }

    fn release(mut self: Box<Self>) -> BoxFuture<'static, Result<()>> {
        Box::pin(async move {
            self.released = true;
            let inner = self.storage.inner.clone();
            let mut connection = self.storage.connection().await?;
            let released: redis::RedisResult<i64> = redis::cmd("EVAL")
                .arg(RELEASE_IF_OWNER)
                .arg(2)
                .arg(&inner.lock_key)
                .arg(&inner.channel)
                .arg(&self.owner)
                .query_async(&mut connection)
                .await;
            self.storage.checked(released).await?;
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
            let value: redis::RedisResult<Option<String>> = redis::cmd("GET")
                .arg(&self.inner.token_key)
                .query_async(&mut connection)
                .await;
            let value = match self.checked(value).await? {
                Some(value) => Some(value),
                None => self.load_legacy(&mut connection).await?,
            };
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
            // Separate commands: in a cluster the old key may live in another slot.
            for key in [&self.inner.token_key, &self.inner.legacy_token_key] {
                let deleted: redis::RedisResult<i64> = redis::cmd("DEL")
                    .arg(key)
                    .query_async(&mut connection)
                    .await;
                self.checked(deleted).await?;
            }
            let told: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                .arg(&self.inner.channel)
                .arg("cleared")
                .query_async(&mut connection)
                .await;
            self.checked(told).await?;
            Ok(())
        })
    }

    fn lock(&self) -> BoxFuture<'_, Result<Box<dyn RefreshLock>>> {
        Box::pin(async move { Ok(Box::new(self.acquire().await?) as Box<dyn RefreshLock>) })
    }
}
