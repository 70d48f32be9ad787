//! Saved environments: an auth method, where its tokens live, and which Box (or emulator) it talks
//! to. Kept in the platform config directory; every file that holds a secret is mode 0600.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use boxauth::{AuthMethod, Error};
use serde::{Deserialize, Serialize};

/// One saved environment.
#[derive(Clone, Serialize, Deserialize)]
pub struct Environment {
    /// How it authenticates (the library's description of a method: the same JSON as ever).
    #[serde(flatten)]
    pub auth: AuthMethod,
    /// `file` (the default: a token file in the config directory) or a `redis://` URL.
    #[serde(default = "file_store")]
    pub token_store: String,
    /// The CA certificate (PEM) trusted for a `rediss://` token store, if not the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis_ca_file: Option<PathBuf>,
    /// Box's API host, if not Box's own (an emulator, a proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Box's OAuth 2.0 host, if not Box's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2_url: Option<String>,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("auth", &self.auth)
            .field(
                "token_store",
                &boxauth::internal::mask::url_password(&self.token_store),
            )
            .field("redis_ca_file", &self.redis_ca_file)
            .field("base_url", &self.base_url)
            .field("oauth2_url", &self.oauth2_url)
            .finish()
    }
}

fn file_store() -> String {
    "file".to_owned()
}

/// Every saved environment, and the current one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Environments {
    /// The environment used when a command names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// By name.
    #[serde(default)]
    pub environments: BTreeMap<String, Environment>,
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
    Error::config(format!("cannot {what} {}: {error}", path.display()))
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
        let environments: Environments = serde_json::from_str(&text).map_err(|e| {
            Error::config(format!(
                "{} is damaged (JSON error at line {} column {}); fix it or move it away and \
                 add the environments again",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        // A hand-edited name like `../../outside` would put its token file outside this directory.
        for name in environments
            .environments
            .keys()
            .chain(environments.current.iter())
        {
            check_name(name).map_err(|e| {
                Error::config(format!(
                    "{} holds an environment name that is not allowed: {e}; rename it in the file",
                    path.display()
                ))
            })?;
        }
        Ok(environments)
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
        let json =
            serde_json::to_vec_pretty(environments).map_err(|e| Error::config(e.to_string()))?;
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
