//! Which identity a command acts as: auth flags on the command line, or a saved environment.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use boxauth::{
    AuthMethod, AuthOptions, Authentication, ConfigError, ConfigErrorKind, FileStorage, JwtConfig,
    NetworkSession, RedisStorage,
};
use clap::{ArgGroup, Args};

use crate::connection::ConnectionArgs;
use crate::environments::{Environment, Store};

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

/// Where a scheme keeps its tokens.
pub enum TokenPlace<'a> {
    /// In memory, for this process.
    Memory,
    /// In a file.
    File(&'a Path),
    /// In Redis at this URL (trusting this CA for TLS), under this namespace.
    Redis(&'a str, Option<&'a Path>, String),
}

/// Storage in the Redis at `url`, trusting the CA in `ca_file` (for `rediss://`) if given.
pub fn redis_storage(
    url: &str,
    ca_file: Option<&Path>,
    namespace: &str,
) -> boxauth::Result<RedisStorage> {
    let storage = RedisStorage::new(url, namespace)?;
    let Some(path) = ca_file else {
        return Ok(storage);
    };
    let pem = boxauth::internal::private_file::read_regular(
        path,
        boxauth::internal::private_file::MAX_CONFIG_BYTES,
    )
    .map_err(|e| {
        boxauth::Error::config(format!(
            "cannot read the Redis CA file {}: {e}",
            path.display()
        ))
    })?;
    storage
        .with_root_certificates(&pem)
        .map_err(|e| boxauth::Error::config(format!("{}: {e}", path.display())))
}

/// The Redis namespace of an environment's tokens, or of an identity given by flags: processes
/// anywhere with the same app and subject share it.
fn namespace(auth: &AuthMethod, environment: Option<&str>) -> boxauth::Result<String> {
    match environment {
        Some(name) => Ok(format!("boxauth:env:{name}")),
        None => auth.identity(),
    }
}

/// The URL schemes `--token-store` takes besides `file`.
const REDIS_SCHEMES: [&str; 6] = [
    "redis://",
    "rediss://",
    "redis-cluster://",
    "rediss-cluster://",
    "redis-sentinel://",
    "rediss-sentinel://",
];

/// `file` or a Redis URL (one server, a cluster, or Sentinel), as `--token-store` and
/// environments take it; the URL's form is checked too, so a bad one fails before it is saved.
pub fn check_token_store(store: &str) -> boxauth::Result<()> {
    if store == "file" {
        return Ok(());
    }
    if REDIS_SCHEMES.iter().any(|scheme| store.starts_with(scheme)) {
        return RedisStorage::new(store, "boxauth:check").map(drop);
    }
    Err(boxauth::Error::config(format!(
        "--token-store {:?} must be `file` or a Redis URL such as redis://127.0.0.1:6379/0, \
         redis-cluster://10.0.0.1:7000,10.0.0.2:7000 or \
         redis-sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster (rediss… for TLS)",
        shown_token_store(store)
    )))
}

/// A token store as it may be shown: a Redis URL's password replaced by `***`.
pub fn shown_token_store(store: &str) -> String {
    boxauth::internal::mask::url_password(store)
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

    /// The method the flags describe, as an environment would save it.
    pub fn to_env_auth(&self) -> boxauth::Result<AuthMethod> {
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

    /// The scheme: from the flags if any were given, else from environment `env` (or the
    /// current one).
    pub fn resolve(
        &self,
        env: Option<&str>,
        connection: &ConnectionArgs,
    ) -> boxauth::Result<Arc<dyn Authentication>> {
        if self.given() {
            let session = connection.session()?;
            let auth = self.to_env_auth()?;
            let store = match (&self.token_file, &self.token_store) {
                (Some(path), _) => TokenPlace::File(path),
                (None, Some(url)) if url != "file" => {
                    check_token_store(url)?;
                    TokenPlace::Redis(url, self.redis_ca_file.as_deref(), namespace(&auth, None)?)
                }
                _ => TokenPlace::Memory,
            };
            if matches!(auth, AuthMethod::Oauth { .. }) && matches!(store, TokenPlace::Memory) {
                return Err(boxauth::Error::config(
                    "--oauth keeps its tokens in --token-file PATH or --token-store redis://… (or log in once with \
                     `boxauth login`, which saves an environment)",
                ));
            }
            return build(&auth, session, store);
        }
        let store = Store::locate()?;
        if env.is_none() && store.load()?.current.is_none() {
            // No flag, no saved environment: the process environment (BOX_JWT_CONFIG_JSON, …).
            return from_process_environment(connection);
        }
        let (name, environment) = store.resolve(env)?;
        from_environment(&store, &name, &environment, connection)
    }
}

/// The scheme of a saved environment.
pub fn from_environment(
    store: &Store,
    name: &str,
    environment: &Environment,
    connection: &ConnectionArgs,
) -> boxauth::Result<Arc<dyn Authentication>> {
    let urls = connection.urls(
        environment.base_url.as_deref(),
        environment.oauth2_url.as_deref(),
    )?;
    let session = connection.session_for(urls)?;
    let file = store.token_file(name);
    let tokens = if environment.token_store == "file" {
        TokenPlace::File(&file)
    } else {
        TokenPlace::Redis(
            &environment.token_store,
            environment.redis_ca_file.as_deref(),
            namespace(&environment.auth, Some(name))?,
        )
    };
    build(&environment.auth, session, tokens)
}

/// The auth `boxauth::AuthConfig::from_env` finds in the process environment, sent through this
/// command's connection (its URLs, headers and CA; the variables' URLs when no flag is given).
fn from_process_environment(
    connection: &ConnectionArgs,
) -> boxauth::Result<Arc<dyn Authentication>> {
    let config = boxauth::AuthConfig::from_env().map_err(|error| match error {
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
    })?;
    let urls = connection.urls(config.base_url.as_deref(), config.oauth2_url.as_deref())?;
    let options = AuthOptions::default().session(connection.session_for(urls)?);
    config.build_with(options)
}

fn build(
    auth: &AuthMethod,
    session: NetworkSession,
    store: TokenPlace<'_>,
) -> boxauth::Result<Arc<dyn Authentication>> {
    let mut options = AuthOptions::default().session(session);
    match store {
        TokenPlace::Memory => {}
        TokenPlace::File(path) => options = options.storage(FileStorage::new(path)),
        TokenPlace::Redis(url, ca_file, namespace) => {
            options = options.storage(redis_storage(url, ca_file, &namespace)?)
        }
    }
    auth.build(options)
}
