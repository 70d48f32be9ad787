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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use boxauth::{AuthConfig, ConfigError, ConfigErrorKind, Error, TokenStore};
use serde::{Deserialize, Serialize};

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

    fn read(store: &Store, name: &str, saved: Saved) -> Result<Self, Error> {
        let mut config = saved.config;
        if saved.token_store != FILE {
            config.token_store = saved.token_store.parse()?;
        }
        let mut environment = Self::new(store, name, config);
        environment.as_user = saved.as_user;
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
        }
    }
}

/// Every saved environment, and the current one.
#[derive(Debug, Clone, Default)]
pub struct Environments {
    /// The environment used when a command names none.
    pub current: Option<String>,
    /// By name.
    pub environments: BTreeMap<String, Environment>,
}

/// The file's shape.
#[derive(Default, Serialize, Deserialize)]
struct File {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    current: Option<String>,
    #[serde(default)]
    environments: BTreeMap<String, Saved>,
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
        for (name, saved) in file.environments {
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
        })
    }

    /// Saves every environment (mode 0600: the file holds client secrets).
    pub fn save(&self, environments: &Environments) -> Result<(), Error> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&self.dir)
            .map_err(|e| io("create", &self.dir, e))?;
        let file = File {
            current: environments.current.clone(),
            environments: environments
                .environments
                .iter()
                .map(|(name, environment)| (name.clone(), environment.saved()))
                .collect(),
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
