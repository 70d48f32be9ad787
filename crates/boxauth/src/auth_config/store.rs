//! Where an [`AuthConfig`](super::AuthConfig)'s tokens live, written as one string:
//! `memory`, `file:PATH`, or a Redis URL in any form `RedisStorage` takes (one server, a
//! cluster, Sentinel; TLS or not).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::storage::{FileStorage, TokenStorage};

/// Where tokens live. `Debug` and [`shown`](Self::shown) never print a Redis password.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenStore {
    /// This process's memory (`memory`).
    #[default]
    Memory,
    /// A token file shared by the processes of one host (`file:PATH`).
    File(PathBuf),
    /// Redis, shared by hosts (feature `redis`): `redis://…`, `rediss://…`, `redis-cluster://…`,
    /// `redis-sentinel://…` (and their `rediss-` forms), one namespace per identity
    /// ([`AuthMethod::identity`](crate::AuthMethod::identity), unless [`AuthConfig::token_namespace`](super::AuthConfig::token_namespace)
    /// names another).
    Redis(String),
}

impl TokenStore {
    /// Whether tokens stay in memory.
    pub fn is_memory(&self) -> bool {
        matches!(self, Self::Memory)
    }

    /// The store as it may be shown: a Redis password replaced by `***`.
    pub fn shown(&self) -> String {
        match self {
            Self::Memory => "memory".to_owned(),
            Self::File(path) => format!("file:{}", path.display()),
            Self::Redis(url) => crate::internal::mask::url_password(url),
        }
    }

    /// The storage for tokens under `namespace` (`None`: memory), trusting `redis_ca` for TLS.
    pub(super) fn storage(
        &self,
        namespace: impl FnOnce() -> Result<String>,
        redis_ca: Option<&Path>,
    ) -> Result<Option<Arc<dyn TokenStorage>>> {
        match self {
            Self::Memory => Ok(None),
            Self::File(path) => Ok(Some(Arc::new(FileStorage::new(path)))),
            Self::Redis(url) => redis(url, &namespace()?, redis_ca),
        }
    }
}

/// The URL schemes of Redis token stores.
const REDIS_SCHEMES: [&str; 6] = [
    "redis://",
    "rediss://",
    "redis-cluster://",
    "rediss-cluster://",
    "redis-sentinel://",
    "rediss-sentinel://",
];

#[cfg(feature = "redis")]
fn redis(url: &str, namespace: &str, ca: Option<&Path>) -> Result<Option<Arc<dyn TokenStorage>>> {
    let mut storage = crate::storage::RedisStorage::new(url, namespace)?;
    if let Some(path) = ca {
        storage = storage.with_root_certificates(&super::read_file(path, "Redis CA")?)?;
    }
    Ok(Some(Arc::new(storage)))
}

#[cfg(not(feature = "redis"))]
fn redis(url: &str, _: &str, _: Option<&Path>) -> Result<Option<Arc<dyn TokenStorage>>> {
    Err(Error::config(format!(
        "the token store {} is Redis, and this build of boxauth has no Redis support: enable the \
         `redis` feature",
        crate::internal::mask::url_password(url)
    )))
}

/// Whether `RedisStorage` takes `url` (its form is checked without connecting).
#[cfg(feature = "redis")]
fn check_redis_url(url: &str) -> Result<()> {
    crate::storage::RedisStorage::new(url, "boxauth:check").map(drop)
}

/// Without Redis support the URL is kept as written; using it says what to enable.
#[cfg(not(feature = "redis"))]
fn check_redis_url(_: &str) -> Result<()> {
    Ok(())
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenStore({})", self.shown())
    }
}

impl FromStr for TokenStore {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        if text == "memory" {
            return Ok(Self::Memory);
        }
        if let Some(path) = text.strip_prefix("file:") {
            if path.is_empty() {
                return Err(Error::config(
                    "a file token store needs a path: file:/var/lib/myapp/box-token.json",
                ));
            }
            return Ok(Self::File(PathBuf::from(path)));
        }
        if REDIS_SCHEMES.iter().any(|scheme| text.starts_with(scheme)) {
            check_redis_url(text)?;
            return Ok(Self::Redis(text.to_owned()));
        }
        Err(Error::config(format!(
            "{:?} is not a token store: give memory, file:PATH, or a Redis URL such as \
             redis://HOST:PORT/DB, redis-cluster://HOST:PORT,HOST:PORT or \
             redis-sentinel://HOST:PORT,HOST:PORT/MASTER_NAME (rediss… for TLS)",
            crate::internal::mask::url_password(text)
        )))
    }
}

impl Serialize for TokenStore {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Self::Memory => serializer.serialize_str("memory"),
            Self::File(path) => serializer.serialize_str(&format!("file:{}", path.display())),
            Self::Redis(url) => serializer.serialize_str(url),
        }
    }
}

impl<'de> Deserialize<'de> for TokenStore {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = zeroize::Zeroizing::new(String::deserialize(deserializer)?);
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_read_as_written_and_never_show_a_password() {
        for text in [
            "memory",
            "file:/var/lib/app/t.json",
            "redis://:pw@h:6379/0",
            "rediss://h:6380/1",
            "redis-cluster://:pw@10.0.0.1:7000,10.0.0.2:7000",
            "rediss-sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster",
        ] {
            let store: TokenStore = text.parse().unwrap();
            assert_eq!(serde_json::to_value(&store).unwrap(), text);
        }
        let redis: TokenStore = "redis://user:hunter2@h:6379/0".parse().unwrap();
        assert!(!format!("{redis:?} {}", redis.shown()).contains("hunter2"));
        let wrong = "postgres://user:hunter2@h/db"
            .parse::<TokenStore>()
            .unwrap_err();
        assert!(!wrong.to_string().contains("hunter2"), "{wrong}");
        assert!("file:".parse::<TokenStore>().is_err());
    }

    #[cfg(feature = "redis")]
    #[test]
    fn a_redis_url_is_checked_by_the_redis_storage() {
        let malformed = "redis-cluster://:hunter2@10.0.0.1"
            .parse::<TokenStore>()
            .unwrap_err();
        assert_eq!(
            malformed.config_error_kind(),
            Some(crate::ConfigErrorKind::Invalid)
        );
        assert!(!malformed.to_string().contains("hunter2"), "{malformed}");
    }
}
