//! The errors that carry a kind and their cause: configuration, storage, reauthorization. Each
//! prints its own layer; the cause is its `source()`, so an error report prints every cause once.

use std::fmt;
use std::sync::Arc;

use super::Error;

/// A cause kept behind an error: shared, so errors stay cheap to clone.
type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// The caller's input or configuration is wrong; the message says what to change.
#[derive(Debug, Clone)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    message: String,
    source: Option<Cause>,
}

/// What kind of [`ConfigError`] it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// A value is malformed or out of range: a URL, a header, a scope list, a certificate, a
    /// config file's content.
    Invalid,
    /// A value that is needed was not given.
    Missing,
    /// Two settings that exclude each other were both given.
    Conflict,
    /// A file could not be read (the cause is its `source()`).
    Unreadable,
    /// There is no Tokio runtime to refresh a token on.
    NoRuntime,
}

impl ConfigError {
    /// An error of `kind` with a message that says what to change.
    pub fn new(kind: ConfigErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The same error, caused by `source`.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// What kind of error it is.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The message (this layer only).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// Token storage failed: a file could not be read, written or locked, Redis did not answer, or
/// what is stored is not a token. The message names the storage and what to check.
#[derive(Debug, Clone)]
pub struct StorageError {
    kind: StorageErrorKind,
    message: String,
    source: Option<Cause>,
}

/// What kind of [`StorageError`] it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StorageErrorKind {
    /// Reading, writing, renaming or syncing a file failed (the cause is its `source()`).
    Io,
    /// Another holder kept the refresh lock for longer than the wait allows.
    LockTimeout,
    /// The refresh lock expired before the new token was stored: it was not stored.
    LockLost,
    /// What storage holds is not a token boxauth wrote.
    Corrupt,
    /// The storage server did not answer (a write may or may not have been kept): for Redis
    /// Cluster or Sentinel, no node or Sentinel answered at all.
    Unreachable,
    /// Redis answered, but no primary took the command within the failover wait
    /// (`RedisStorage::with_failover_wait`): a Redis Cluster or Sentinel failover still under
    /// way (`CLUSTERDOWN`, `TRYAGAIN`, `MOVED` to a node that is gone, `READONLY` from a demoted
    /// primary, a primary that does not answer while the others do), every copy of the
    /// identity's slot down, or a server still loading its data (`LOADING`). It may pass on its
    /// own; a write may or may not have been kept.
    FailingOver,
    /// A write reached the Redis primary but fewer replicas than required confirmed it in time
    /// (`RedisStorage::with_replicas`): a failover now could lose it.
    NotReplicated,
    /// The storage server refused the credentials (`WRONGPASS`), needs some and none were given
    /// (`NOAUTH`), or does not let the user run a command boxauth needs (`NOPERM`).
    AuthenticationRefused,
    /// The server is a read-only replica: it refused a write (`READONLY`) for a URL that names
    /// one server.
    ReadOnlyReplica,
    /// The storage server answered with an error of another kind (out of memory, a command
    /// renamed away): its answer is the `source()`.
    Refused,
    /// The storage server's TLS certificate could not be trusted.
    UntrustedCertificate,
    /// A token file or its directory is not private to this user.
    Unsafe,
    /// An error of a storage of the user's own.
    Other,
}

impl StorageError {
    /// An error of `kind` with a message that names the storage and what to check.
    pub fn new(kind: StorageErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The same error, caused by `source`.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// What kind of error it is.
    pub fn kind(&self) -> StorageErrorKind {
        self.kind
    }

    /// The message (this layer only).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token storage: {}", self.message)
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// The stored credentials can no longer produce a token: the user must authorize the app
/// again. When Box refused the refresh, its [`ApiError`](crate::ApiError) (with the request id
/// to quote to Box) is the `source()`.
#[derive(Debug, Clone)]
pub struct ReauthorizationError {
    kind: ReauthorizationKind,
    reason: String,
    source: Option<Box<Error>>,
}

/// Why authorization must happen again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReauthorizationKind {
    /// No refresh token is stored (no login yet, or it was revoked and forgotten).
    NoRefreshToken,
    /// Box refused the refresh token (`invalid_grant`: spent, revoked, or older than 60 days).
    RefreshTokenRefused,
    /// The refresh failed in another way, after a refusal made the stored token unusable.
    RefreshFailed,
    /// A refresh was under way when the process doing it stopped, after Box had spent the
    /// refresh token and before the new one was stored: nobody holds a usable one (a token vault
    /// tells this apart from a refusal).
    LostInFlight,
    /// The identity was disconnected (its tokens revoked and forgotten).
    Disconnected,
}

impl ReauthorizationError {
    /// An error of `kind`, for `reason`.
    pub fn new(kind: ReauthorizationKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
            source: None,
        }
    }

    /// The same error, caused by `source`.
    pub fn with_source(mut self, source: Error) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Why authorization must happen again.
    pub fn kind(&self) -> ReauthorizationKind {
        self.kind
    }

    /// The error that caused it, if any (Box's refusal, with its request id).
    pub fn cause(&self) -> Option<&Error> {
        self.source.as_deref()
    }
}

impl fmt::Display for ReauthorizationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for ReauthorizationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}
