//! Tokens in Redis, shared by processes on many machines (feature `redis`): one server, a Redis
//! Cluster, or a primary behind Sentinel ([`topology`] has the URL forms).
//!
//! Keys, under one namespace per identity, all in one hash slot (the namespace is the hash tag),
//! so a Redis Cluster keeps them on one node and the Lua scripts may touch them together:
//! - `{ns}:token`: the [`StoredToken`] as JSON.
//! - `{ns}:lock`: the refresh lock: `SET {ns}:lock <owner> NX PX <ttl>`, with a random owner.
//! - `{ns}:changed`: a pub/sub channel told whenever the token is stored or the lock released.
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
//! token; a process about to exit asks for it now with
//! [`Authentication::flush`](crate::Authentication::flush).
//!
//! `rediss://` URLs connect over TLS (rustls), checked against the system's trust store or a CA
//! given with [`RedisStorage::with_root_certificates`].
//!
//! The connection is opened on first use and reconnects on its own after Redis restarts (through
//! Sentinel: to whichever server Sentinel names as primary now). Redis is only asked near expiry
//! or after a 401 (the token manager's cache serves the rest), and a token that is still valid
//! keeps being served while Redis is unreachable.
//!
//! A command that meets a failover (a cluster or Sentinel replacing a primary, a server loading
//! its data) is tried again until the failover wait runs out ([`failover`]); an error says
//! which it met, as a [`StorageErrorKind`] ([`errors`]).

mod errors;
mod failover;
mod lock;
mod topology;

use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio::sync::Mutex;

use super::{RefreshLock, TokenStorage};
use crate::error::{ConfigError, ConfigErrorKind, Error, Result, StorageErrorKind};
use crate::future::BoxFuture;
use crate::token::StoredToken;
use errors::invalid_url;
use topology::{Connection, Kind, Nodes, Topology};

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
    failover_wait: Duration,
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
    /// [`with_replicas`](Self::with_replicas)). Every command waits out a failover (see
    /// [`with_failover_wait`](Self::with_failover_wait)).
    pub fn new(url: &str, namespace: &str) -> Result<Self> {
        let shown = crate::internal::mask::url_password(url);
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
        let failover_wait = match topology.kind() {
            Kind::Single | Kind::Cluster => failover::DEFAULT_FAILOVER_WAIT,
            Kind::Sentinel => failover::DEFAULT_SENTINEL_FAILOVER_WAIT,
        };
        Ok(Self {
            inner: Arc::new(Inner::new(source, topology, shown, namespace)),
            settings: Settings {
                lock_ttl: Duration::from_secs(30),
                lock_timeout: Duration::from_secs(60),
                replicas,
                failover_wait,
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

    /// How long a command waits out a failover before it fails (default 20 s for one server or
    /// a cluster, above Redis Cluster's default `cluster-node-timeout` of 15 s; 40 s behind
    /// Sentinel, above its default `down-after-milliseconds` of 30 s). Meanwhile it is tried
    /// again, from 50 ms apart up to 1 s apart, on a fresh connection: the cluster's slots read
    /// again, Sentinel asked again. What counts as a failover: `CLUSTERDOWN`, `TRYAGAIN`,
    /// `MOVED` or `ASK` to a node that does not answer, `MASTERDOWN`, `LOADING`, `READONLY` from
    /// a demoted primary (a cluster or Sentinel URL), and a primary that does not answer while
    /// other nodes or the Sentinels do. A refused password, a replica named as the server, or
    /// nothing answering at all fails at once.
    ///
    /// A still-valid token keeps being served from memory meanwhile; only a process that has
    /// none (one just started) waits. `Duration::ZERO` fails at the first error, as
    /// [`StorageErrorKind::FailingOver`] when it was a failover.
    pub fn with_failover_wait(mut self, wait: Duration) -> Self {
        self.settings.failover_wait = wait;
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

    /// The shared connection, opened on first use (and again after a failed first attempt, or
    /// after [`forget_connection`](Self::forget_connection)).
    /// The shared connection, and whether it was opened for this call (not kept from before).
    async fn connection(&self) -> redis::RedisResult<(Connection, bool)> {
        let mut slot = self.inner.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok((connection.clone(), false));
        }
        let connection = self.inner.topology.connect().await?;
        *slot = Some(connection.clone());
        Ok((connection, true))
    }

    /// The next command opens a new connection (users of the old one finish with it).
    async fn forget_connection(&self) {
        *self.inner.connection.lock().await = None;
    }
}

impl TokenStorage for RedisStorage {
    fn load(&self) -> BoxFuture<'_, Result<Option<StoredToken>>> {
        Box::pin(async move {
            let mut get = redis::cmd("GET");
            get.arg(&self.inner.token_key);
            let value: Option<String> = self.query(&get).await?;
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
            let mut delete = redis::cmd("DEL");
            delete.arg(&self.inner.token_key);
            let _: i64 = self.query(&delete).await?;
            let mut tell = redis::cmd("PUBLISH");
            tell.arg(&self.inner.channel).arg("cleared");
            let _: i64 = self.query(&tell).await?;
            Ok(())
        })
    }

    fn lock(&self) -> BoxFuture<'_, Result<Box<dyn RefreshLock>>> {
        Box::pin(async move { Ok(Box::new(self.acquire().await?) as Box<dyn RefreshLock>) })
    }
}
