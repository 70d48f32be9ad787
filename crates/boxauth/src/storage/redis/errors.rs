//! What a Redis failure means for the token storage, told by the error's kind and its typed
//! causes (redis-rs's `ErrorKind` and `ServerErrorKind`, the server's error code, the I/O error's
//! kind, the rustls error under a TLS failure), never by its text: each message names the
//! storage, what happened and what to do.

use std::time::Duration;

use redis::{ErrorKind, RedisError, ServerErrorKind};

use super::RedisStorage;
use super::topology::{Kind, Probe};
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

/// What a failed command or connection says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cause {
    /// The server's TLS certificate was refused.
    Untrusted,
    /// The credentials were refused, or none were given to a server that needs them.
    Credentials(Credentials),
    /// A replica refused a write (`READONLY`): the URL names a replica, or a failover demoted
    /// the primary this connection knew.
    ReadOnly,
    /// A failover, a resharding or a restart under way: the answer may change in seconds.
    Failover(Sign),
    /// A single server's answer that it is a Redis Cluster node (`MOVED`, `ASK`, `CLUSTERDOWN`
    /// to a `redis://` URL).
    ClusterNode,
    /// No answer: refused, reset, timed out.
    Silent,
    /// Any other error answer (out of memory, a command renamed away…).
    Refused,
}

/// Which credentials problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Credentials {
    /// `NOAUTH`: the server needs a password and none was given.
    Missing,
    /// `WRONGPASS` (or a refused `AUTH`): the user or password is wrong.
    Wrong,
    /// `NOPERM`: the user may not run a command boxauth needs.
    NoPermission,
}

/// How the failover showed itself, for the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sign {
    /// `CLUSTERDOWN`: the cluster has no primary for some slot.
    ClusterDown,
    /// `TRYAGAIN`: the slot is being migrated or a multi-key command met a half-moved slot.
    TryAgain,
    /// `MOVED`/`ASK` to a node that could not be reached, or no node known for the slot.
    Redirected,
    /// `MASTERDOWN`: a replica lost its link to the primary.
    MasterDown,
    /// `LOADING`: the server is loading its data from disk.
    Loading,
    /// No Sentinel names a primary that is up (it is flagged down while Sentinels fail over).
    NoPrimaryNamed,
}

impl Sign {
    /// The server's word for it.
    fn word(self) -> &'static str {
        match self {
            Self::ClusterDown => "CLUSTERDOWN",
            Self::TryAgain => "TRYAGAIN",
            Self::Redirected => "MOVED to a node that did not answer",
            Self::MasterDown => "MASTERDOWN",
            Self::Loading => "LOADING",
            Self::NoPrimaryNamed => "the primary flagged down",
        }
    }
}

/// The server error codes in `error` (for a pipeline, each failed command's), typed by
/// redis-rs where it knows them.
fn codes(error: &RedisError) -> Vec<(usize, Option<ServerErrorKind>, String)> {
    error
        .clone()
        .into_server_errors()
        .map(|errors| {
            errors
                .iter()
                .map(|(index, e)| (*index, e.kind(), e.code().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether Redis answered with an error (rather than not answering).
pub(super) fn answered(error: &RedisError) -> bool {
    !(error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal())
}

/// The index of the first failed command of a pipeline (0 for a single command).
pub(super) fn failed_at(error: &RedisError) -> usize {
    codes(error).first().map_or(0, |(index, ..)| *index)
}

/// What `error` says, for a storage on `kind` of Redis.
pub(super) fn cause(kind: Kind, error: &RedisError) -> Cause {
    if crate::network::certificate_refused(error) {
        return Cause::Untrusted;
    }
    match error.kind() {
        ErrorKind::AuthenticationFailed => return Cause::Credentials(Credentials::Wrong),
        ErrorKind::ClusterConnectionNotFound => return Cause::Failover(Sign::Redirected),
        ErrorKind::MasterNameNotFoundBySentinel => return Cause::Failover(Sign::NoPrimaryNamed),
        _ => {}
    }
    if !answered(error) {
        return Cause::Silent;
    }
    let Some((_, server_kind, code)) = codes(error).into_iter().next() else {
        return Cause::Refused;
    };
    let cluster = kind == Kind::Cluster;
    match server_kind {
        Some(ServerErrorKind::ReadOnly) => Cause::ReadOnly,
        Some(ServerErrorKind::BusyLoading) => Cause::Failover(Sign::Loading),
        Some(ServerErrorKind::MasterDown) => Cause::Failover(Sign::MasterDown),
        Some(ServerErrorKind::NoPerm) => Cause::Credentials(Credentials::NoPermission),
        Some(ServerErrorKind::ClusterDown) if cluster => Cause::Failover(Sign::ClusterDown),
        Some(ServerErrorKind::TryAgain) if cluster => Cause::Failover(Sign::TryAgain),
        Some(ServerErrorKind::Moved | ServerErrorKind::Ask) if cluster => {
            Cause::Failover(Sign::Redirected)
        }
        Some(
            ServerErrorKind::ClusterDown
            | ServerErrorKind::TryAgain
            | ServerErrorKind::Moved
            | ServerErrorKind::Ask,
        ) => Cause::ClusterNode,
        // Codes redis-rs has no kind for: the protocol's own words, not message text.
        None if code == "NOAUTH" => Cause::Credentials(Credentials::Missing),
        None if code == "WRONGPASS" => Cause::Credentials(Credentials::Wrong),
        _ => Cause::Refused,
    }
}

impl Cause {
    /// Whether trying again may succeed within a failover's time, on `kind` of Redis. A
    /// silent node is judged by a probe (`others_answer`): in a cluster or behind Sentinel
    /// other nodes answer while a failover replaces a dead one; when none does, nothing is
    /// failing over.
    pub(super) fn passes(self, kind: Kind, others_answer: bool) -> bool {
        match self {
            Self::Failover(_) => true,
            Self::ReadOnly => kind != Kind::Single,
            Self::Silent => kind != Kind::Single && others_answer,
            Self::Untrusted | Self::Credentials(_) | Self::ClusterNode | Self::Refused => false,
        }
    }
}

/// How long a failover was waited out, in whole seconds for messages.
fn seconds(waited: Duration) -> String {
    format!("{:.0} s", waited.as_secs_f64())
}

impl RedisStorage {
    /// `error` (a command or a connection that failed) as boxauth's error. `waited` is how long
    /// the command was retried through a failover; `probe` what the topology answered then.
    pub(super) fn failed(
        &self,
        error: &RedisError,
        cause: Cause,
        waited: Duration,
        probe: &Probe,
    ) -> Error {
        let shown = &self.inner.shown;
        let kind = self.inner.topology.kind();
        let (kind, message) = match cause {
            Cause::Untrusted => (
                StorageErrorKind::UntrustedCertificate,
                format!(
                    "Redis at {shown} has a TLS certificate that could not be trusted; give the CA \
                     that signed it (RedisStorage::with_root_certificates) and connect by a host \
                     name the certificate carries"
                ),
            ),
            Cause::Credentials(Credentials::Missing) => (
                StorageErrorKind::AuthenticationRefused,
                format!(
                    "Redis at {shown} requires a password (it answered NOAUTH) and the URL gives \
                     none; put it in the URL: redis://:PASSWORD@HOST:PORT/DB (or \
                     redis://USER:PASSWORD@… for an ACL user)"
                ),
            ),
            Cause::Credentials(Credentials::Wrong) => (
                StorageErrorKind::AuthenticationRefused,
                format!(
                    "Redis at {shown} refused the user or password in the URL; check them \
                     (requirepass, or the ACL user's password)"
                ),
            ),
            Cause::Credentials(Credentials::NoPermission) => (
                StorageErrorKind::AuthenticationRefused,
                format!(
                    "the Redis user of {shown} may not run a command boxauth needs (NOPERM); allow \
                     it GET, SET, DEL, PTTL, EVAL, PUBLISH, SUBSCRIBE and WAIT on the keys and \
                     channel {{{}}}:* (ACL SETUSER …)",
                    self.inner.namespace
                ),
            ),
            Cause::ReadOnly if kind == Kind::Single => (
                StorageErrorKind::ReadOnlyReplica,
                format!(
                    "Redis at {shown} is a read-only replica (it answered READONLY to a write); \
                     point the URL at the primary, or name the Sentinels (redis-sentinel://…) so \
                     the primary is found, also after a failover"
                ),
            ),
            Cause::ClusterNode => {
                return ConfigError::new(
                    ConfigErrorKind::Invalid,
                    format!(
                        "Redis at {shown} is a node of a Redis Cluster (it redirects to other \
                         nodes); give the nodes as redis-cluster://HOST:PORT[,HOST:PORT…]"
                    ),
                )
                .with_source(RedisCause(error.clone()))
                .into();
            }
            Cause::Refused => (
                StorageErrorKind::Refused,
                format!(
                    "Redis at {shown} refused the command ({}); the server's answer follows",
                    crate::internal::mask::printable(error.code().unwrap_or("an error"), 64)
                ),
            ),
            Cause::Silent if !probe.answered => (StorageErrorKind::Unreachable, self.silent()),
            Cause::ReadOnly | Cause::Failover(_) | Cause::Silent => (
                StorageErrorKind::FailingOver,
                self.failing_over(cause, waited, probe),
            ),
        };
        StorageError::new(kind, message)
            .with_source(RedisCause(error.clone()))
            .into()
    }

    /// Nothing answered.
    fn silent(&self) -> String {
        let shown = &self.inner.shown;
        let what = match self.inner.topology.kind() {
            Kind::Single => format!("Redis at {shown} did not answer"),
            Kind::Cluster => format!("no node of the Redis Cluster at {shown} answered"),
            Kind::Sentinel => format!("no Sentinel at {shown} answered"),
        };
        format!(
            "{what}; check that it runs and that the URL is right (a still-valid token keeps being \
             used meanwhile)"
        )
    }

    /// A failover that did not end within the wait.
    fn failing_over(&self, cause: Cause, waited: Duration, probe: &Probe) -> String {
        let shown = &self.inner.shown;
        let waited = seconds(waited);
        let sign = match cause {
            Cause::Failover(sign) => sign.word(),
            Cause::ReadOnly => "READONLY from a demoted primary",
            _ => "no answer from the primary",
        };
        let meanwhile = "a still-valid token keeps being used meanwhile; \
                         RedisStorage::with_failover_wait sets how long to wait";
        match self.inner.topology.kind() {
            Kind::Cluster => format!(
                "the Redis Cluster at {shown} has no reachable primary for slot {} (the \
                 identity's keys) after {waited} ({sign}): a failover is under way, or the \
                 slot's primary and all its replicas are down; check CLUSTER INFO and CLUSTER \
                 NODES on a node ({meanwhile})",
                key_slot(self.inner.token_key.as_bytes())
            ),
            Kind::Sentinel => {
                let named = match probe.primary.as_deref() {
                    Some(primary) => format!("name {primary} as the primary, and it"),
                    None => "name no primary that".to_owned(),
                };
                format!(
                    "the Sentinels at {shown} {named} has not taken commands for {waited} \
                     ({sign}): a failover is under way, or the primary and its replicas are \
                     down; check SENTINEL MASTER <name> on a Sentinel ({meanwhile})"
                )
            }
            Kind::Single => format!(
                "Redis at {shown} could not take the command after {waited} ({sign}): it is \
                 loading its data or has lost its primary ({meanwhile})"
            ),
        }
    }

    /// No Sentinel knows the master name of the URL.
    pub(super) fn unknown_master(&self, error: &RedisError) -> Error {
        ConfigError::new(
            ConfigErrorKind::Invalid,
            format!(
                "no Sentinel at {} knows a primary by the name this URL ends with; give the name \
                 the Sentinels monitor (sentinel monitor NAME … in their configuration, or \
                 SENTINEL MASTERS)",
                self.inner.shown
            ),
        )
        .with_source(RedisCause(error.clone()))
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

    /// Redis took the write and refused the `WAIT` after it (a service without `WAIT`).
    pub(super) fn wait_refused(&self, error: RedisError) -> Error {
        StorageError::new(
            StorageErrorKind::NotReplicated,
            format!(
                "Redis at {} took the new token's write but refused the WAIT after it ({}): it is \
                 kept in memory and written again; for a Redis that does not offer WAIT, use \
                 RedisStorage::with_replicas(0, …)",
                self.inner.shown,
                crate::internal::mask::printable(error.code().unwrap_or("an error"), 64)
            ),
        )
        .with_source(RedisCause(error))
        .into()
    }
}

/// A Redis error as the cause of a storage error. redis-rs prints an error by printing the
/// error under it (the server's answer, the I/O error), which is also its `source()`: this
/// skips that one, so a report prints each cause once.
#[derive(Debug)]
pub(super) struct RedisCause(pub(super) RedisError);

impl std::fmt::Display for RedisCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for RedisCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0).and_then(std::error::Error::source)
    }
}

/// The Redis Cluster hash slot of `key` (CRC16/XMODEM of its hash tag, mod 16384), for
/// messages: redis-rs computes it too but does not say it.
pub(super) fn key_slot(key: &[u8]) -> u16 {
    let tagged = key
        .iter()
        .position(|b| *b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.iter()
                .position(|b| *b == b'}')
                .filter(|close| *close > 0)
                .map(|close| &rest[..close])
        })
        .unwrap_or(key);
    let mut crc: u16 = 0;
    for byte in tagged {
        crc ^= u16::from(*byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16384
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slot_is_redis_clusters() {
        // The Redis Cluster specification's example: CRC16("123456789") = 0x31C3.
        assert_eq!(key_slot(b"123456789"), 0x31C3);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        // An empty tag does not count: the whole key is hashed.
        assert_ne!(key_slot(b"foo{}{bar}"), key_slot(b"bar"));
        assert_eq!(key_slot(b"{ns}:token"), key_slot(b"{ns}:lock"));
    }

    #[test]
    fn causes_come_from_kinds_and_codes() {
        let server = |code: &str| redis::make_extension_error(code.to_owned(), None);
        let io = |kind| RedisError::from(std::io::Error::new(kind, "x"));
        assert_eq!(
            cause(Kind::Single, &server("NOAUTH")),
            Cause::Credentials(Credentials::Missing)
        );
        assert_eq!(
            cause(Kind::Cluster, &server("WRONGPASS")),
            Cause::Credentials(Credentials::Wrong)
        );
        assert_eq!(cause(Kind::Single, &server("OOM")), Cause::Refused);
        assert_eq!(
            cause(Kind::Cluster, &io(std::io::ErrorKind::ConnectionRefused)),
            Cause::Silent
        );
        let auth = RedisError::from((ErrorKind::AuthenticationFailed, "refused"));
        assert_eq!(
            cause(Kind::Sentinel, &auth),
            Cause::Credentials(Credentials::Wrong)
        );
        assert!(!Cause::Silent.passes(Kind::Single, true));
        assert!(!Cause::Silent.passes(Kind::Cluster, false));
        assert!(Cause::Silent.passes(Kind::Cluster, true));
        assert!(!Cause::ReadOnly.passes(Kind::Single, true));
        assert!(Cause::ReadOnly.passes(Kind::Sentinel, true));
    }
}
