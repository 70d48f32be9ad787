//! What a Redis failure means for the token storage, told by the error's kind and its typed
//! causes, never by its text: each message names the storage and what to do.

use super::RedisStorage;
use crate::error::{ConfigError, ConfigErrorKind, Error, StorageError, StorageErrorKind};

/// A URL `RedisStorage` cannot use, and the forms it takes.
pub(super) fn invalid_url(shown: &str, what: &str) -> ConfigError {
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

/// Whether Redis answered with an error (rather than not answering).
pub(super) fn answered(error: &redis::RedisError) -> bool {
    !(error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal())
}

/// Whether Redis answered, refusing the client's credentials or permissions: a wrong password
/// (`WRONGPASS`), none given (`NOAUTH`), or an ACL user without the command (`NOPERM`).
fn refused(error: &redis::RedisError) -> bool {
    matches!(
        error.kind(),
        redis::ErrorKind::AuthenticationFailed
            | redis::ErrorKind::Server(redis::ServerErrorKind::NoPerm)
    ) || matches!(error.code(), Some("NOAUTH" | "WRONGPASS"))
}

impl RedisStorage {
    /// `error` (a command or a connection that failed) as boxauth's error.
    pub(super) fn failed(&self, error: &redis::RedisError) -> Error {
        let (kind, message) = if crate::network::certificate_refused(error) {
            (
                StorageErrorKind::UntrustedCertificate,
                format!(
                    "Redis at {} has a TLS certificate that could not be trusted; give the CA that \
                     signed it (RedisStorage::with_root_certificates) and connect by a host name \
                     the certificate carries",
                    self.inner.shown
                ),
            )
        } else if refused(error) {
            (
                StorageErrorKind::Refused,
                format!(
                    "Redis at {} answered and refused boxauth's credentials (authentication \
                     failed, or the user may not run the command); check the user name and \
                     password in the URL",
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

    /// The refresh lock expired before the write that needed it.
    pub(super) fn lock_lost(&self) -> Error {
        Error::storage_kind(
            StorageErrorKind::LockLost,
            format!(
                "the refresh lock {} expired before the new token was stored (this process paused for \
                 longer than its {} s TTL): the token was not stored, so a newer one is not overwritten",
                self.inner.lock_key,
                self.settings.lock_ttl.as_secs_f64()
            ),
        )
    }

    /// The write reached the primary; `confirmed` replicas (too few) acknowledged it in time.
    pub(super) fn not_replicated(&self, confirmed: i64) -> Error {
        let replicas = self.settings.replicas;
        Error::storage_kind(
            StorageErrorKind::NotReplicated,
            format!(
                "the new token reached the Redis primary at {} but {confirmed} of the {} replicas \
                 required confirmed it within {} ms: a failover now could lose it, so it is kept \
                 in memory and written again (RedisStorage::with_replicas sets how many; 0 for a \
                 Redis without replicas)",
                self.inner.shown,
                replicas.count,
                replicas.timeout.as_millis()
            ),
        )
    }

    /// Redis refused the write or the `WAIT` after it (a service without `WAIT`, out of memory).
    pub(super) fn wait_refused(&self, error: redis::RedisError) -> Error {
        StorageError::new(
            StorageErrorKind::NotReplicated,
            format!(
                "Redis at {} refused the new token's write or the WAIT after it ({}): it is kept \
                 in memory and written again; for a Redis that does not offer WAIT, use \
                 RedisStorage::with_replicas(0, …)",
                self.inner.shown,
                crate::internal::mask::printable(error.code().unwrap_or("an error"), 64)
            ),
        )
        .with_source(error)
        .into()
    }
}
