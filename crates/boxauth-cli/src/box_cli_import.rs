//! `boxauth env import-box-cli`: the environments of Box's own CLI (`~/.box/box_environments.json`)
//! as boxauth environments. JWT and Client Credentials environments come over whole; an OAuth 2.0
//! one comes over without its tokens (a refresh token works once: two tools cannot share it), so
//! it needs `boxauth login --env NAME`.
//!
//! An environment where Box CLI acts as a user with `As-User` (`useDefaultAsUser` and
//! `defaultAsUserId`, from `box configure:environments:switch-user`) keeps that user: boxauth
//! sends `As-User` where it calls Box itself (`token get --check`) and says, with each token,
//! that it is the service account's and which `As-User` header to send with it.
//!
//! The file, as Box CLI writes it: `{"default": NAME, "environments": {NAME: {"clientId",
//! "clientSecret", "enterpriseId", "boxConfigFilePath", "hasInLinePrivateKey", "privateKeyPath",
//! "authMethod": "ccg" | "oauth20" | absent (JWT), "ccgUser", "defaultAsUserId",
//! "useDefaultAsUser", …}}}`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use boxauth::{AuthConfig, AuthMethod, ConfigError, ConfigErrorKind, Error};
use serde::Deserialize;
use serde_json::Value;

use crate::environments::check_name;

#[derive(Deserialize)]
struct BoxCliFile {
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    environments: BTreeMap<String, BoxCliEnvironment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BoxCliEnvironment {
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<boxauth::ClientSecret>,
    #[serde(default)]
    enterprise_id: Option<Value>,
    #[serde(default)]
    box_config_file_path: Option<PathBuf>,
    #[serde(default)]
    has_in_line_private_key: Option<bool>,
    #[serde(default)]
    private_key_path: Option<PathBuf>,
    #[serde(default)]
    auth_method: Option<String>,
    #[serde(default)]
    ccg_user: Option<Value>,
    #[serde(default)]
    use_default_as_user: Option<bool>,
    #[serde(default)]
    default_as_user_id: Option<Value>,
}

/// One Box CLI environment, as boxauth will save it (or why it cannot be).
pub struct Imported {
    /// Box CLI's name for it.
    pub name: String,
    /// The environment, or what is wrong with it.
    pub environment: boxauth::Result<AuthConfig>,
    /// The user Box CLI acts as in it with `As-User`.
    pub as_user: Option<String>,
    /// Something the user should know (an OAuth environment needs a login).
    pub note: Option<String>,
}

/// `~/.box/box_environments.json`.
pub fn default_file() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(".box/box_environments.json"))
}

/// Box CLI's environments in `path`, and its default one.
pub fn read(path: &Path) -> boxauth::Result<(Vec<Imported>, Option<String>)> {
    let text = boxauth::internal::private_file::read_text(
        path,
        boxauth::internal::private_file::MAX_CONFIG_BYTES,
    )
    .map_err(|e| {
        let message = if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "there is no Box CLI environments file at {}: set Box CLI up first (`box \
                 configure:environments:add`), or give the file's path with --file",
                path.display()
            )
        } else {
            format!("cannot read Box CLI's environments {}", path.display())
        };
        ConfigError::new(ConfigErrorKind::Unreadable, message).with_source(e)
    })?;
    // serde_json's message may quote the file (a secret): only the position is kept.
    let file: BoxCliFile = serde_json::from_str(&text).map_err(|e| {
        Error::config(format!(
            "{} is not Box CLI's environments file (JSON error at line {} column {})",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    let imported = file
        .environments
        .into_iter()
        .map(|(name, env)| {
            let note = (env.auth_method.as_deref() == Some("oauth20")).then(|| {
                format!(
                    "{name}: an OAuth 2.0 environment comes without tokens (a refresh token works \
                     once, so Box CLI and boxauth cannot share one): run `boxauth login --env {name}`"
                )
            });
            let as_user = match env.use_default_as_user {
                Some(true) => self::text(&env.default_as_user_id),
                _ => None,
            };
            Imported {
                environment: check_name(&name).and_then(|()| convert(env)),
                as_user,
                name,
                note,
            }
        })
        .collect();
    Ok((imported, file.default))
}

fn text(value: &Option<Value>) -> Option<String> {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn convert(env: BoxCliEnvironment) -> boxauth::Result<AuthConfig> {
    let auth = match env.auth_method.as_deref() {
        Some("ccg") => AuthMethod::Ccg {
            client_id: env.client_id.ok_or_else(|| missing("clientId"))?,
            client_secret: env.client_secret.ok_or_else(|| missing("clientSecret"))?,
            enterprise_id: text(&env.enterprise_id),
            user_id: text(&env.ccg_user),
        },
        Some("oauth20") => AuthMethod::Oauth {
            client_id: env.client_id.ok_or_else(|| missing("clientId"))?,
            client_secret: env.client_secret.ok_or_else(|| missing("clientSecret"))?,
        },
        None | Some("jwt") => {
            let config_file = env
                .box_config_file_path
                .ok_or_else(|| missing("boxConfigFilePath"))?;
            match (env.has_in_line_private_key, env.private_key_path) {
                // The key is in a file of its own: the config is saved with that key in it.
                (Some(false), Some(key_path)) => AuthMethod::Jwt {
                    config_file: None,
                    config_json: Some(with_key_from(&config_file, &key_path)?.into()),
                    user_id: None,
                },
                _ => {
                    boxauth::JwtConfig::from_config_file(&config_file)?;
                    AuthMethod::Jwt {
                        config_file: Some(config_file),
                        config_json: None,
                        user_id: None,
                    }
                }
            }
        }
        Some(other) => {
            return Err(Error::config(format!(
                "the auth method {other:?} is not one boxauth knows"
            )));
        }
    };
    Ok(AuthConfig::new(auth))
}

/// The config JSON of `config_file` with its private key taken from `key_path`.
fn with_key_from(config_file: &Path, key_path: &Path) -> boxauth::Result<String> {
    let read = |path: &Path| boxauth::internal::private_file::read_config_text(path, "the file");
    let mut config: Value = serde_json::from_str(&read(config_file)?)
        .map_err(|_| Error::config(format!("{} is not JSON", config_file.display())))?;
    let key = read(key_path)?;
    config
        .pointer_mut("/boxAppSettings/appAuth")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| missing_in(config_file, "boxAppSettings.appAuth"))?
        .insert("privateKey".to_owned(), Value::String(key.to_string()));
    let json = config.to_string();
    boxauth::JwtConfig::from_config_json(&json)?;
    Ok(json)
}

/// A Box CLI environment without `field`.
fn missing(field: &str) -> Error {
    ConfigError::new(ConfigErrorKind::Missing, format!("it has no {field}")).into()
}

fn missing_in(file: &Path, field: &str) -> Error {
    ConfigError::new(
        ConfigErrorKind::Missing,
        format!("{} has no {field}", file.display()),
    )
    .into()
}
