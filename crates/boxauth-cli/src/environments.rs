//! Saved environments: the library's `AuthConfig` (an auth method, where its tokens live, which
//! Box it talks to) under a name, kept in the platform config directory; every file that holds a
//! secret is mode 0600.
//!
//! On disk an environment is the `AuthConfig`'s JSON, except for the settings that are the
//! CLI's own: `"token_store": "file"` (the default) keeps its tokens in `tokens/NAME.json` beside
//! the environments, and a Redis store keeps them under the namespace `boxauth:env:NAME`. Both
//! are made full `AuthConfig` settings when the file is read, so every command builds its auth
//! the library's way, from the `AuthConfig`. `"as_user"` is the user Box CLI acted as in an
//! imported environment (`As-User`): the token stays the service account's, and the CLI sends
//! the header where it calls Box itself.
//!
//! An environment with `"secrets": "keychain"` has its secret fields in the OS keychain instead
//! of the file (`crate::secrets`); they are put back when the file is read, so the rest of the
//! CLI sees the same `AuthConfig`. Files written before the keychain (no `"secrets"`) read as
//! before.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use boxauth::{AuthConfig, ConfigError, ConfigErrorKind, Error, TokenStore};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::secrets::{self, Home, take_secrets};

/// The token store an environment keeps its tokens in when it names none: its own file.
const FILE: &str = "file";

/// One saved environment, ready to build: its token store is a full path or URL, and a Redis
/// store has the environment's own namespace.
#[derive(Debug, Clone)]
pub struct Environment {
    /// How it authenticates, where its tokens live, which Box.
    pub config: AuthConfig,
    /// The user its calls act as with `As-User`, as Box CLI's `defaultAsUserId` (a CLI setting:
    /// the token stays the service account's).
    pub as_user: Option<String>,
    /// Its tokens are in its own file in the config directory (`"token_store": "file"`).
    own_file: bool,
    /// Where its secrets are kept.
    pub secrets: Home,
}

/// An environment as the file holds it: the `AuthConfig`, with the token store as the CLI writes
/// it (`file`, or the store's URL).
#[derive(Serialize, Deserialize)]
struct Saved {
    #[serde(flatten)]
    config: AuthConfig,
    /// `file`, or a token store URL (the `AuthConfig`'s own field stays at its default).
    #[serde(default = "file_store")]
    token_store: String,
    /// The user calls act as with `As-User`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    as_user: Option<String>,
    /// `keychain` when the secret fields are in the OS keychain (absent: in this file).
    #[serde(default, skip_serializing_if = "Home::is_file")]
    secrets: Home,
}

fn file_store() -> String {
    FILE.to_owned()
}

/// The Redis namespace of environment `name`'s tokens.
pub fn namespace(name: &str) -> String {
    format!("boxauth:env:{name}")
}

impl Environment {
    /// `config` saved as environment `name` of `store`: with no token store of its own (memory),
    /// its tokens go in its file; a Redis store gets the environment's namespace.
    pub fn new(store: &Store, name: &str, mut config: AuthConfig) -> Self {
        let own_file = config.token_store.is_memory();
        if own_file {
            config.token_store = TokenStore::File(store.token_file(name));
        } else {
            config.token_namespace = Some(namespace(name));
        }
        Self {
            config,
            as_user: None,
            own_file,
            secrets: Home::File,
        }
    }

    /// The token store as it may be shown: `file`, or its URL with the password masked.
    pub fn shown_token_store(&self) -> String {
        if self.own_file {
            FILE.to_owned()
        } else {
            self.config.token_store.shown()
        }
    }

    /// Where its tokens are kept, for a note.
    pub fn kept_in(&self) -> String {
        match (&self.config.token_store, &self.config.token_namespace) {
            (TokenStore::File(path), _) => path.display().to_string(),
            (_, Some(namespace)) => format!("{namespace} in {}", self.config.token_store.shown()),
            (store, None) => store.shown(),
        }
    }

    /// Keeps its secrets in `home`; in the keychain, its own token file's token goes there too.
    pub fn set_secrets(&mut self, store: &Store, name: &str, home: Home) {
        self.secrets = home;
        if home == Home::Keychain && self.own_file {
            crate::keychain_tokens::register(&store.token_file(name), store.token_account(name));
        }
    }

    /// Whether its tokens are in its own token file (or, with its secrets in the keychain, the
    /// keychain item standing for that file).
    pub fn own_file(&self) -> bool {
        self.own_file
    }

    fn read(store: &Store, name: &str, saved: Saved) -> Result<Self, Error> {
        let mut config = saved.config;
        if saved.token_store != FILE {
            config.token_store = saved.token_store.parse()?;
        }
        let mut environment = Self::new(store, name, config);
        environment.as_user = saved.as_user;
        environment.set_secrets(store, name, saved.secrets);
        Ok(environment)
    }

    fn saved(&self) -> Saved {
        let mut config = self.config.clone();
        let token_store = if self.own_file {
            FILE.to_owned()
        } else {
            // Written out in full: a URL's password is part of the store.
            serde_json::to_value(&config.token_store)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(file_store)
        };
        config.token_store = TokenStore::Memory;
        config.token_namespace = None;
        Saved {
            config,
            token_store,
            as_user: self.as_user.clone(),
            secrets: self.secrets,
        }
    }
}

/// Every saved environment, and the current one.
#[derive(Clone, Default)]
pub struct Environments {
    /// The environment used when a command names none.
    pub current: Option<String>,
    /// By name.
    pub environments: BTreeMap<String, Environment>,
    /// Environments whose secrets the keychain did not give (locked, not running, the item
    /// gone), as the file holds them: written back unchanged, so the others stay usable and
    /// nothing is lost.
    pub locked: BTreeMap<String, Value>,
}

impl std::fmt::Debug for Environments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A hand-edited file may hold secrets beside "secrets": "keychain": names only.
        f.debug_struct("Environments")
            .field("current", &self.current)
            .field("environments", &self.environments)
            .field("locked", &self.locked.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Environments {
    /// Whether any environment is saved.
    pub fn has_any(&self) -> bool {
        !self.environments.is_empty() || !self.locked.is_empty()
    }

    /// Whether environment `name` is saved, readable or not.
    pub fn has(&self, name: &str) -> bool {
        self.environments.contains_key(name) || self.locked.contains_key(name)
    }
}

/// The file's shape; each environment a [`Saved`] (without its secret fields when they are in the
/// keychain).
#[derive(Default, Serialize, Deserialize)]
struct File {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    current: Option<String>,
    #[serde(default)]
    environments: BTreeMap<String, Value>,
}

/// The config directory and its files.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// `BOXAUTH_CONFIG_DIR`, else the platform's config directory + `boxauth`.
fn config_dir() -> Result<PathBuf, Error> {
    if let Some(dir) = std::env::var_os("BOXAUTH_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = || {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(target_os = "macos") {
        home().map(|h| h.join("Library/Application Support"))
    } else if cfg!(windows) {
        std::env::var_os("APPDATA").map(PathBuf::from)
    } else {
        std::env::var_os("XDG_CONFIG_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| home().map(|h| h.join(".config")))
    };
    base.map(|b| b.join("boxauth")).ok_or_else(|| {
        Error::config("cannot find a config directory: set HOME, or BOXAUTH_CONFIG_DIR to a directory for boxauth's files")
    })
}

/// Whether `name` can name an environment (and its token file).
pub fn check_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(Error::config(format!(
            "{name:?} is not a valid environment name: use letters, digits, '-', '_' and '.' (up to 64)"
        )))
    }
}

fn io(what: &str, path: &Path, error: std::io::Error) -> Error {
    ConfigError::new(
        ConfigErrorKind::Unreadable,
        format!("cannot {what} {}", path.display()),
    )
    .with_source(error)
    .into()
}

impl Store {
    /// The store in the platform config directory (or `BOXAUTH_CONFIG_DIR`).
    pub fn locate() -> Result<Self, Error> {
        Ok(Self { dir: config_dir()? })
    }

    fn file(&self) -> PathBuf {
        self.dir.join("environments.json")
    }

    /// The token file of environment `name`.
    pub fn token_file(&self, name: &str) -> PathBuf {
        self.dir.join("tokens").join(format!("{name}.json"))
    }

    /// Every environment (none when the file does not exist yet).
    pub fn load(&self) -> Result<Environments, Error> {
        let path = self.file();
        let text = match boxauth::internal::private_file::read_text(
            &path,
            boxauth::internal::private_file::MAX_CONFIG_BYTES,
        ) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Environments::default());
            }
            Err(e) => return Err(io("read", &path, e)),
        };
        // serde's message may quote the file (a client secret): only the position is kept.
        let file: File = serde_json::from_str(&text).map_err(|e| {
            Error::config(format!(
                "{} is damaged (JSON error at line {} column {}); fix it or move it away and \
                 add the environments again",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        // A hand-edited name like `../../outside` would put its token file outside this directory.
        for name in file.environments.keys().chain(file.current.iter()) {
            check_name(name).map_err(|e| {
                ConfigError::new(
                    ConfigErrorKind::Invalid,
                    format!(
                        "{} holds an environment name that is not allowed; rename it in the file",
                        path.display()
                    ),
                )
                .with_source(e)
            })?;
        }
        let mut environments = BTreeMap::new();
        let mut locked = BTreeMap::new();
        for (name, mut value) in file.environments {
            if value.get("secrets").and_then(Value::as_str) == Some(Home::Keychain.name()) {
                let as_saved = value.clone();
                if self.put_back_secrets(&name, &mut value).is_err() {
                    locked.insert(name, as_saved);
                    continue;
                }
            }
            // serde's message may quote a secret: only its category is kept.
            let saved: Saved = serde_json::from_value(value).map_err(|e| {
                Error::config(format!(
                    "environment {name:?} in {} is damaged ({:?} error: a field is missing or \
                     of the wrong kind); fix it in the file or add it again",
                    path.display(),
                    e.classify()
                ))
            })?;
            let environment = Environment::read(self, &name, saved).map_err(|e| {
                ConfigError::new(
                    ConfigErrorKind::Invalid,
                    format!(
                        "environment {name:?} in {} cannot be used; fix it in the file or add it again",
                        path.display()
                    ),
                )
                .with_source(e)
            })?;
            environments.insert(name, environment);
        }
        Ok(Environments {
            current: file.current,
            environments,
            locked,
        })
    }

    /// The keychain account of environment `name`'s cached token: its token file's path.
    pub fn token_account(&self, name: &str) -> String {
        self.token_file(name).display().to_string()
    }

    /// The keychain account of environment `name`'s secrets.
    pub fn account(&self, name: &str) -> String {
        secrets::account(&self.file(), name)
    }

    /// Merges environment `name`'s secret fields from the keychain into `value`.
    fn put_back_secrets(&self, name: &str, value: &mut Value) -> Result<(), Error> {
        let kept = secrets::get(&self.account(name))?;
        let fields: Option<serde_json::Map<String, Value>> =
            kept.as_deref().and_then(|k| serde_json::from_str(k).ok());
        let (Some(fields), Some(object)) = (fields, value.as_object_mut()) else {
            return Err(ConfigError::new(
                ConfigErrorKind::Missing,
                format!(
                    "environment {name:?}'s secrets are not in the OS keychain (item {}); add \
                     the environment again (`boxauth env add {name} … --force`)",
                    self.account(name)
                ),
            )
            .into());
        };
        if !secrets::put_back(object, fields) {
            return Err(ConfigError::new(
                ConfigErrorKind::Invalid,
                format!(
                    "environment {name:?}'s token store in environments.json is not the one \
                     whose password its keychain item holds (was the file edited?); add the \
                     environment again with its store's URL (`boxauth env add {name} … \
                     --token-store URL --force`)"
                ),
            )
            .into());
        }
        Ok(())
    }

    /// Why environment `name` (one of [`Environments::locked`], as the file holds it) cannot be
    /// used.
    pub fn unreadable(&self, name: &str, value: &Value) -> Error {
        let why = match self.put_back_secrets(name, &mut value.clone()) {
            Err(why) => why,
            // The keychain answered since: the next command can use it.
            Ok(()) => Error::config("the OS keychain did not answer a moment ago; try again"),
        };
        ConfigError::new(
            ConfigErrorKind::Unreadable,
            format!("environment {name:?} keeps its secrets in the OS keychain"),
        )
        .with_source(why)
        .into()
    }

    /// Saves every environment (mode 0600: the file may hold client secrets). Secrets kept in
    /// the keychain are written there first, so a crash leaves them in both places, never in
    /// neither.
    pub fn save(&self, environments: &Environments) -> Result<(), Error> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&self.dir)
            .map_err(|e| io("create", &self.dir, e))?;
        let mut saved = BTreeMap::new();
        for (name, environment) in &environments.environments {
            let mut value = serde_json::to_value(environment.saved()).map_err(|e| {
                ConfigError::new(ConfigErrorKind::Invalid, "cannot write the environments")
                    .with_source(e)
            })?;
            if environment.secrets == Home::Keychain
                && let Some(fields) = take_secrets(&mut value)
            {
                secrets::set(&self.account(name), &fields)?;
            }
            saved.insert(name.clone(), value);
        }
        for (name, value) in &environments.locked {
            saved.entry(name.clone()).or_insert_with(|| value.clone());
        }
        let file = File {
            current: environments.current.clone(),
            environments: saved,
        };
        let json = serde_json::to_vec_pretty(&file).map_err(|e| {
            ConfigError::new(ConfigErrorKind::Invalid, "cannot write the environments")
                .with_source(e)
        })?;
        let path = self.file();
        boxauth::internal::private_file::write_private(&path, &json)
            .map_err(|e| io("write", &path, e))
    }

    /// Environment `name`, or the current one; with its name.
    pub fn resolve(&self, name: Option<&str>) -> Result<(String, Environment), Error> {
        let environments = self.load()?;
        let name = match name {
            Some(name) => name.to_owned(),
            None => environments.current.clone().ok_or_else(|| {
                Error::config(
                    "no auth source given and no current environment: pass --ccg, --jwt-config, --oauth or \
                     --developer-token, or save one with `boxauth env add NAME …` (or log in: `boxauth login`)",
                )
            })?,
        };
        if let Some(value) = environments.locked.get(&name) {
            return Err(self.unreadable(&name, value));
        }
        let environment = environments.environments.get(&name).cloned().ok_or_else(|| {
            let known: Vec<&str> = environments.environments.keys().map(String::as_str).collect();
            Error::config(format!(
                "there is no environment {name:?} (known: {}); add it with `boxauth env add {name} …`",
                if known.is_empty() { "none".to_owned() } else { known.join(", ") }
            ))
        })?;
        Ok((name, environment))
    }
}
