//! Which identity a command acts as, by one rule applied the same way to every source: auth
//! flags on the command line (a method, or `--env NAME`), then credentials in the process
//! environment (`BOX_*` variables, or `BOXAUTH_ENV=NAME`), then the current saved environment.
//! Two identities at one level are refused, naming both; a lower level that is shadowed is named
//! in a note on stderr (`--quiet` silences it).

use std::path::PathBuf;

use boxauth::{AuthConfig, AuthMethod, ConfigError, ConfigErrorKind, JwtConfig, TokenStore};
use clap::{ArgGroup, Args};

mod precedence;

pub use precedence::{Acting, Level, Source};

/// One auth source per call (or none: the `BOX_*` variables, else the current environment).
#[derive(Clone, Debug, Args)]
#[command(
    next_help_heading = "Auth source (one of; default: BOX_* variables, else the current environment)"
)]
#[command(group(ArgGroup::new("source").args(["developer_token", "app_token", "jwt_config", "ccg", "oauth"])))]
pub struct AuthSource {
    /// A developer token (60 minutes, from the Developer Console; BOX_DEVELOPER_TOKEN without
    /// this flag).
    #[arg(
        long,
        value_name = "TOKEN",
        value_parser = crate::secret::<boxauth::Token>
    )]
    pub developer_token: Option<boxauth::Token>,

    /// An App Token (Box View and other limited-access apps, from the Developer Console's App
    /// Tokens; BOX_APP_TOKEN without this flag).
    #[arg(
        long,
        value_name = "TOKEN",
        value_parser = crate::secret::<boxauth::Token>
    )]
    pub app_token: Option<boxauth::Token>,

    /// The secondary App Token, used once Box refuses the primary (BOX_APP_TOKEN_SECONDARY
    /// without --app-token).
    #[arg(
        long,
        value_name = "TOKEN",
        requires = "app_token",
        value_parser = crate::secret::<boxauth::Token>
    )]
    pub app_token_secondary: Option<boxauth::Token>,

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
    /// token) [default: BOX_CLIENT_ID].
    #[arg(long)]
    pub client_id: Option<String>,

    /// The app's client secret (CCG, OAuth 2.0; with --developer-token, to revoke it) [default:
    /// BOX_CLIENT_SECRET, which keeps it out of the shell's history].
    #[arg(long, value_parser = crate::secret::<boxauth::ClientSecret>)]
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
    pub token_store: Option<crate::UrlArg>,

    /// The CA certificate (PEM) that signed a rediss:// server's certificate, when the system
    /// does not trust it already.
    #[arg(long, value_name = "FILE", requires = "token_store")]
    pub redis_ca_file: Option<PathBuf>,
}

/// A variable's value; an empty one counts as unset, as `AuthConfig::from_env` has it.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn required_secret(
    value: Option<boxauth::ClientSecret>,
    source: &str,
) -> boxauth::Result<boxauth::ClientSecret> {
    value.ok_or_else(|| {
        boxauth::Error::config(format!(
            "{source} needs --client-secret (or BOX_CLIENT_SECRET)"
        ))
    })
}

fn required(value: Option<String>, flag: &str, source: &str) -> boxauth::Result<String> {
    value.ok_or_else(|| boxauth::Error::config(format!("{source} needs {flag}")))
}

impl AuthSource {
    /// Whether an auth method was given on the command line.
    pub fn given(&self) -> bool {
        self.developer_token.is_some()
            || self.app_token.is_some()
            || self.jwt_config.is_some()
            || self.ccg
            || self.oauth
    }

    /// The method flag given, as typed.
    fn flag(&self) -> &'static str {
        if self.developer_token.is_some() {
            "--developer-token"
        } else if self.app_token.is_some() {
            "--app-token"
        } else if self.jwt_config.is_some() {
            "--jwt-config"
        } else if self.ccg {
            "--ccg"
        } else {
            "--oauth"
        }
    }

    /// The app's client ID: `--client-id`, else `BOX_CLIENT_ID`.
    fn client_id(&self) -> Option<String> {
        self.client_id
            .clone()
            .filter(|v| !v.is_empty())
            .or_else(|| var("BOX_CLIENT_ID"))
    }

    /// The app's client secret: `--client-secret`, else `BOX_CLIENT_SECRET`.
    fn client_secret(&self) -> Option<boxauth::ClientSecret> {
        self.client_secret
            .clone()
            .filter(|v| !v.secret().is_empty())
            .or_else(|| var("BOX_CLIENT_SECRET").map(Into::into))
    }

    /// The method the flags describe.
    pub fn method(&self) -> boxauth::Result<AuthMethod> {
        if let Some(token) = &self.developer_token {
            // Box needs the app's credentials to revoke a developer token.
            return Ok(AuthMethod::DeveloperToken {
                token: token.clone(),
                client_id: self.client_id(),
                client_secret: self.client_secret(),
            });
        }
        if let Some(primary) = &self.app_token {
            return Ok(AuthMethod::AppToken {
                primary_token: primary.clone(),
                secondary_token: self.app_token_secondary.clone(),
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
            crate::output::context(|c| c.jwt_config = Some(path.clone()));
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
                client_id: required(self.client_id(), "--client-id (or BOX_CLIENT_ID)", "--ccg")?,
                client_secret: required_secret(self.client_secret(), "--ccg")?,
                enterprise_id: self.enterprise_id.clone(),
                user_id: self.user_id.clone(),
            });
        }
        if self.oauth {
            return Ok(AuthMethod::Oauth {
                client_id: required(
                    self.client_id(),
                    "--client-id (or BOX_CLIENT_ID)",
                    "--oauth",
                )?,
                client_secret: required_secret(self.client_secret(), "--oauth")?,
            });
        }
        Err(boxauth::Error::config(
            "give one auth method: --jwt-config FILE, --ccg …, --oauth …, --developer-token T or \
             --app-token T",
        ))
    }

    /// Whether a flag says where tokens live.
    fn store_given(&self) -> bool {
        self.token_file.is_some() || self.token_store.is_some() || self.redis_ca_file.is_some()
    }

    /// `config` keeping its tokens where `--token-file`, `--token-store` and `--redis-ca-file`
    /// say (`--token-store file` and no flag: where `config` keeps them).
    fn with_store_flags(&self, mut config: AuthConfig) -> boxauth::Result<AuthConfig> {
        match (&self.token_file, &self.token_store) {
            (Some(path), _) => config.token_store = TokenStore::File(path.clone()),
            (None, Some(crate::UrlArg(store))) if store != "file" => {
                config.token_store = store.parse().map_err(|e| {
                    ConfigError::new(
                        ConfigErrorKind::Invalid,
                        format!(
                            "--token-store {:?} must be `file` or a Redis URL",
                            boxauth::internal::mask::url_password(store)
                        ),
                    )
                    .with_source(e)
                })?;
            }
            _ => {}
        }
        if let Some(path) = &self.redis_ca_file {
            config.redis_ca_file = Some(path.clone());
        }
        Ok(config)
    }

    /// The `AuthConfig` the flags describe: the method, and where its tokens live
    /// (`--token-file`, `--token-store`; `--token-store file` and no flag: memory).
    pub fn config(&self) -> boxauth::Result<AuthConfig> {
        self.with_store_flags(AuthConfig::new(self.method()?))
    }
}
