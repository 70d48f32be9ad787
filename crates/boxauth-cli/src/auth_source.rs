//! Which identity a command acts as: auth flags on the command line, or a saved environment.

use std::path::PathBuf;
use std::sync::Arc;

use boxauth::{
    AuthConfig, AuthMethod, Authentication, ConfigError, ConfigErrorKind, JwtConfig, TokenStore,
};
use clap::{ArgGroup, Args};

use crate::connection::ConnectionArgs;
use crate::environments::Store;

/// One auth source per call (or none, to use an environment).
#[derive(Clone, Args)]
#[command(next_help_heading = "Auth source (one of; default: the current environment)")]
#[command(group(ArgGroup::new("source").args(["developer_token", "jwt_config", "ccg", "oauth"])))]
pub struct AuthSource {
    /// A developer token (60 minutes, from the Developer Console).
    #[arg(
        long,
        env = "BOX_DEVELOPER_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        value_parser = crate::secret::<boxauth::Token>
    )]
    pub developer_token: Option<boxauth::Token>,

    /// Box's JWT app config file (config.json from the Developer Console); - reads it from
    /// standard input.
    #[arg(long, value_name = "FILE")]
    pub jwt_config: Option<PathBuf>,

    /// Client Credentials Grant with --client-id, --client-secret and --enterprise-id or --user-id.
    #[arg(long)]
    pub ccg: bool,

    /// OAuth 2.0 with --client-id, --client-secret and the tokens in --token-file.
    #[arg(long)]
    pub oauth: bool,

    /// The app's client ID (CCG, OAuth 2.0; with --developer-token, Box needs it to revoke the
    /// token).
    #[arg(long, env = "BOX_CLIENT_ID")]
    pub client_id: Option<String>,

    /// The app's client secret (CCG, OAuth 2.0; with --developer-token, to revoke it).
    #[arg(long, env = "BOX_CLIENT_SECRET", hide_env_values = true, value_parser = crate::secret::<boxauth::ClientSecret>)]
    pub client_secret: Option<boxauth::ClientSecret>,

    /// The enterprise whose service account acts (CCG; JWT takes it from the config file).
    #[arg(long, conflicts_with = "user_id", value_name = "ID")]
    pub enterprise_id: Option<String>,

    /// Act as this user (CCG, JWT).
    #[arg(long, value_name = "ID")]
    pub user_id: Option<String>,

    /// Keep tokens in this file (mode 0600, shared safely by processes on this host).
    #[arg(long, value_name = "PATH", conflicts_with = "token_store")]
    pub token_file: Option<PathBuf>,

    /// Keep tokens in Redis, shared by processes on many hosts (one namespace per identity):
    /// redis://HOST:PORT/DB, redis-cluster://HOST:PORT[,HOST:PORT…] for a Redis Cluster, or
    /// redis-sentinel://HOST:PORT[,HOST:PORT…]/MASTER_NAME for a primary behind Sentinel;
    /// rediss… for TLS.
    #[arg(long, value_name = "URL")]
    pub token_store: Option<String>,

    /// The CA certificate (PEM) that signed a rediss:// server's certificate, when the system
    /// does not trust it already.
    #[arg(long, value_name = "FILE", requires = "token_store")]
    pub redis_ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for AuthSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are newtypes that print [redacted]; a Redis URL's password is masked.
        f.debug_struct("AuthSource")
            .field("developer_token", &self.developer_token)
            .field("jwt_config", &self.jwt_config)
            .field("ccg", &self.ccg)
            .field("oauth", &self.oauth)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("enterprise_id", &self.enterprise_id)
            .field("user_id", &self.user_id)
            .field("token_file", &self.token_file)
            .field(
                "token_store",
                &self
                    .token_store
                    .as_deref()
                    .map(boxauth::internal::mask::url_password),
            )
            .field("redis_ca_file", &self.redis_ca_file)
            .finish()
    }
}

fn required_secret(
    value: &Option<boxauth::ClientSecret>,
    source: &str,
) -> boxauth::Result<boxauth::ClientSecret> {
    value
        .clone()
        .filter(|v| !v.secret().is_empty())
        .ok_or_else(|| {
            boxauth::Error::config(format!(
                "{source} needs --client-secret (or BOX_CLIENT_SECRET)"
            ))
        })
}

fn required(value: &Option<String>, flag: &str, source: &str) -> boxauth::Result<String> {
    value
        .clone()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| boxauth::Error::config(format!("{source} needs {flag}")))
}

impl AuthSource {
    /// Whether an auth method was given on the command line.
    pub fn given(&self) -> bool {
        self.developer_token.is_some() || self.jwt_config.is_some() || self.ccg || self.oauth
    }

    /// The method the flags describe.
    pub fn method(&self) -> boxauth::Result<AuthMethod> {
        if let Some(token) = &self.developer_token {
            // Box needs the app's credentials to revoke a developer token.
            return Ok(AuthMethod::DeveloperToken {
                token: token.clone(),
                client_id: self.client_id.clone().filter(|v| !v.is_empty()),
                client_secret: self
                    .client_secret
                    .clone()
                    .filter(|v| !v.secret().is_empty()),
            });
        }
        if let Some(path) = &self.jwt_config {
            if path.as_os_str() == "-" {
                let unreadable = |e: std::io::Error| {
                    ConfigError::new(
                        ConfigErrorKind::Unreadable,
                        "cannot read the Box config JSON from standard input (--jwt-config -)",
                    )
                    .with_source(e)
                };
                let bytes = boxauth::internal::private_file::read_limited(
                    std::io::stdin().lock(),
                    boxauth::internal::private_file::MAX_CONFIG_BYTES,
                )
                .map_err(unreadable)?;
                let json = String::from_utf8(bytes).map_err(|_| {
                    unreadable(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "it is not UTF-8 text",
                    ))
                })?;
                JwtConfig::from_config_json(&json)?;
                return Ok(AuthMethod::Jwt {
                    config_file: None,
                    config_json: Some(json.into()),
                    user_id: self.user_id.clone(),
                });
            }
            // Checked now, so a wrong file is reported when it is saved, not when it is used.
            JwtConfig::from_config_file(path)?;
            let config_file = std::fs::canonicalize(path).map_err(|e| {
                ConfigError::new(
                    ConfigErrorKind::Unreadable,
                    format!("cannot resolve {}", path.display()),
                )
                .with_source(e)
            })?;
            return Ok(AuthMethod::Jwt {
                config_file: Some(config_file),
                config_json: None,
                user_id: self.user_id.clone(),
            });
        }
        if self.ccg {
            if self.enterprise_id.is_none() && self.user_id.is_none() {
                return Err(boxauth::Error::config(
                    "--ccg needs --enterprise-id ID or --user-id ID",
                ));
            }
            return Ok(AuthMethod::Ccg {
                client_id: required(&self.client_id, "--client-id", "--ccg")?,
                client_secret: required_secret(&self.client_secret, "--ccg")?,
                enterprise_id: self.enterprise_id.clone(),
                user_id: self.user_id.clone(),
            });
        }
        if self.oauth {
            return Ok(AuthMethod::Oauth {
                client_id: required(&self.client_id, "--client-id", "--oauth")?,
                client_secret: required_secret(&self.client_secret, "--oauth")?,
            });
        }
        Err(boxauth::Error::config(
            "give one auth method: --jwt-config FILE, --ccg …, --oauth … or --developer-token T",
        ))
    }

    /// The `AuthConfig` the flags describe: the method, and where its tokens live
    /// (`--token-file`, `--token-store`; `--token-store file` and no flag: memory).
    pub fn config(&self) -> boxauth::Result<AuthConfig> {
        let mut config = AuthConfig::new(self.method()?);
        config.token_store = match (&self.token_file, &self.token_store) {
            (Some(path), _) => TokenStore::File(path.clone()),
            (None, Some(store)) if store != "file" => store.parse().map_err(|e| {
                ConfigError::new(
                    ConfigErrorKind::Invalid,
                    format!(
                        "--token-store {:?} must be `file` or a Redis URL",
                        boxauth::internal::mask::url_password(store)
                    ),
                )
                .with_source(e)
            })?,
            _ => TokenStore::Memory,
        };
        config.redis_ca_file = self.redis_ca_file.clone();
        Ok(config)
    }

    /// The scheme: from the flags if any were given, else from environment `env` (or the
    /// current one), else from the process environment (`BOX_*` variables).
    pub fn resolve(
        &self,
        env: Option<&str>,
        connection: &ConnectionArgs,
    ) -> boxauth::Result<Arc<dyn Authentication>> {
        connection.build(self.choose(env)?)
    }

    /// The `AuthConfig` this command acts with.
    fn choose(&self, env: Option<&str>) -> boxauth::Result<AuthConfig> {
        if self.given() {
            let config = self.config()?;
            if matches!(config.method, AuthMethod::Oauth { .. }) && config.token_store.is_memory() {
                return Err(boxauth::Error::config(
                    "--oauth keeps its tokens in --token-file PATH or --token-store redis://… (or log in once with \
                     `boxauth login`, which saves an environment)",
                ));
            }
            return Ok(config);
        }
        let store = Store::locate()?;
        if env.is_none() && store.load()?.current.is_none() {
            return from_process_environment();
        }
        Ok(store.resolve(env)?.1.config)
    }
}

/// The auth method `boxauth::AuthConfig::from_env` finds in the process environment.
fn from_process_environment() -> boxauth::Result<AuthConfig> {
    AuthConfig::from_env().map_err(|error| match error {
        boxauth::Error::Config(config) if config.kind() == ConfigErrorKind::Missing => {
            ConfigError::new(
                ConfigErrorKind::Missing,
                format!(
                    "{}; or pass an auth method (--ccg, --jwt-config, --oauth, --developer-token), \
                     or save one with `boxauth env add NAME …` (or log in: `boxauth login`)",
                    config.message()
                ),
            )
            .into()
        }
        error => error,
    })
}
