//! Which identity a command acts as, by one rule applied the same way to every source: auth
//! flags on the command line (a method, or `--env NAME`), then credentials in the process
//! environment (`BOX_*` variables, or `BOXAUTH_ENV=NAME`), then the current saved environment.
//! Two identities at one level are refused, naming both; a lower level that is shadowed is named
//! in a note on stderr (`--quiet` silences it).

use std::path::PathBuf;
use std::sync::Arc;

use boxauth::{
    AuthConfig, AuthMethod, Authentication, ConfigError, ConfigErrorKind, JwtConfig, TokenStore,
};
use clap::{ArgGroup, Args};

use crate::connection::ConnectionArgs;
use crate::environments::Store;
use crate::output::Output;

/// One auth source per call (or none: the `BOX_*` variables, else the current environment).
#[derive(Clone, Args)]
#[command(
    next_help_heading = "Auth source (one of; default: BOX_* variables, else the current environment)"
)]
#[command(group(ArgGroup::new("source").args(["developer_token", "jwt_config", "ccg", "oauth"])))]
pub struct AuthSource {
    /// A developer token (60 minutes, from the Developer Console; BOX_DEVELOPER_TOKEN without
    /// this flag).
    #[arg(
        long,
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

/// The levels of the precedence rule, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Auth flags on the command line: a method, or `--env NAME`.
    Flags,
    /// The process environment: `BOX_*` credentials, or `BOXAUTH_ENV=NAME`.
    Variables,
    /// The current saved environment.
    Saved,
}

impl Level {
    fn describe(self) -> &'static str {
        match self {
            Self::Flags => "flags",
            Self::Variables => "environment variables",
            Self::Saved => "the saved environment",
        }
    }
}

/// Where the identity a command acts as came from.
#[derive(Debug, Clone)]
pub struct Source {
    /// Its level.
    pub level: Level,
    /// What named it: `--jwt-config`, `BOX_DEVELOPER_TOKEN`, `environment "prod"`, …
    pub label: String,
    /// The saved environment, when it is one.
    pub environment: Option<String>,
    /// The user the saved environment acts as with `As-User` (imported from Box CLI).
    pub as_user: Option<String>,
}

/// An identity found at one level: where, and what it describes (or why it cannot be used).
struct Found {
    source: Source,
    config: boxauth::Result<AuthConfig>,
}

impl Found {
    fn saved(level: Level, label: String, name: &str, store: &Store) -> Self {
        let environment = store.resolve(Some(name)).map(|(_, env)| env);
        Self {
            source: Source {
                level,
                label,
                environment: Some(name.to_owned()),
                as_user: environment.as_ref().ok().and_then(|e| e.as_user.clone()),
            },
            config: environment.map(|env| env.config),
        }
    }
}

/// What a command acts with: its auth, the config it was built from, and where that came from.
pub struct Acting {
    /// The auth, ready to use.
    pub auth: Arc<dyn Authentication>,
    /// The config it was built from, as sent (URLs and CA settled).
    pub config: AuthConfig,
    /// Where the identity came from.
    pub source: Source,
}

impl AuthSource {
    /// Whether an auth method was given on the command line.
    pub fn given(&self) -> bool {
        self.developer_token.is_some() || self.jwt_config.is_some() || self.ccg || self.oauth
    }

    /// The method flag given, as typed.
    fn flag(&self) -> &'static str {
        if self.developer_token.is_some() {
            "--developer-token"
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
            "give one auth method: --jwt-config FILE, --ccg …, --oauth … or --developer-token T",
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
            (None, Some(store)) if store != "file" => {
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

    /// The auth this command acts with, by the precedence rule (see the module's docs), built
    /// with the command line's connection settings. `env` is `--env NAME`.
    pub fn resolve(
        &self,
        env: Option<&str>,
        connection: &ConnectionArgs,
        out: &Output,
    ) -> boxauth::Result<Acting> {
        let (mut config, source) = self.choose(env, out)?;
        let saved_base_url = config.base_url.clone();
        let auth = connection.build(&mut config)?;
        if let (Some(name), Some(saved), Some(given)) =
            (&source.environment, saved_base_url, connection.base_url())
            && saved != given.value
        {
            out.note(&format!(
                "{} {} is used instead of environment {name:?}'s base URL {}",
                given.from, given.value, saved
            ));
        }
        Ok(Acting {
            auth,
            config,
            source,
        })
    }

    /// The `AuthConfig` this command acts with, and where it came from.
    fn choose(&self, env: Option<&str>, out: &Output) -> boxauth::Result<(AuthConfig, Source)> {
        self.parts_need_a_method()?;
        let store = Store::locate()?;
        let levels: [&dyn Fn() -> boxauth::Result<Vec<Found>>; 3] = [
            &|| self.at_flags(env, &store),
            &|| Ok(at_variables(&store)),
            &|| at_saved(&store),
        ];
        let mut chosen = None;
        let mut shadowed = Vec::new();
        for level in levels {
            if chosen.is_none() {
                let mut found = level()?;
                match found.len() {
                    0 => continue,
                    1 => chosen = found.pop(),
                    _ => return Err(two_at_one_level(&found)),
                }
            } else if let Ok(found) = level() {
                // Only named in the note: a lower level that cannot be read stops nothing.
                shadowed.extend(found);
            }
        }
        let Some(chosen) = chosen else {
            return Err(nothing_found());
        };
        let mut config = chosen.config?;
        match chosen.source.level {
            Level::Flags if self.given() => oauth_has_a_store(&config)?,
            Level::Variables if chosen.source.environment.is_none() => {
                config = self.with_store_flags(config)?;
            }
            _ if self.store_given() => {
                return Err(boxauth::Error::config(format!(
                    "{} keeps its tokens in its own store: leave out --token-file, --token-store \
                     and --redis-ca-file, or give the auth method with flags",
                    chosen.source.label
                )));
            }
            _ => {}
        }
        let shadowed: Vec<String> = shadowed
            .into_iter()
            .filter(|found| {
                !found
                    .config
                    .as_ref()
                    .is_ok_and(|other| crate::identity::same(&config.method, &other.method))
            })
            .map(|found| found.source.label)
            .collect();
        if !shadowed.is_empty() {
            out.note(&format!(
                "using {} ({}); not {}: flags come first, then BOX_* variables, then the saved \
                 environment",
                chosen.source.label,
                chosen.source.level.describe(),
                shadowed.join(", nor ")
            ));
        }
        crate::output::context(|c| {
            c.environment = chosen.source.environment.clone();
            if let AuthMethod::Jwt {
                config_file: Some(path),
                ..
            } = &config.method
            {
                c.jwt_config = Some(path.clone());
            }
        });
        Ok((config, chosen.source))
    }

    /// `--client-id`, `--user-id` and the like belong to a method flag: without one they would
    /// be dropped without a word.
    fn parts_need_a_method(&self) -> boxauth::Result<()> {
        if self.given() {
            return Ok(());
        }
        let parts = [
            (self.client_id.is_some(), "--client-id"),
            (self.client_secret.is_some(), "--client-secret"),
            (self.enterprise_id.is_some(), "--enterprise-id"),
            (self.user_id.is_some(), "--user-id"),
        ];
        match parts.iter().find(|(given, _)| *given) {
            Some((_, flag)) => Err(ConfigError::new(
                ConfigErrorKind::Missing,
                format!(
                    "{flag} goes with an auth method flag (--ccg, --jwt-config, --oauth, \
                     --developer-token); an environment or BOX_* variables carry their own"
                ),
            )
            .into()),
            None => Ok(()),
        }
    }

    /// The identities the command line names: a method, `--env NAME`.
    fn at_flags(&self, env: Option<&str>, store: &Store) -> boxauth::Result<Vec<Found>> {
        let mut found = Vec::new();
        if self.given() {
            found.push(Found {
                source: Source {
                    level: Level::Flags,
                    label: self.flag().to_owned(),
                    environment: None,
                    as_user: None,
                },
                config: self.config(),
            });
        }
        if let Some(name) = env {
            found.push(Found::saved(
                Level::Flags,
                format!("--env {name}"),
                name,
                store,
            ));
        }
        Ok(found)
    }
}

/// OAuth 2.0 tokens come from a login, so flags giving the method must say where they are.
fn oauth_has_a_store(config: &AuthConfig) -> boxauth::Result<()> {
    if matches!(config.method, AuthMethod::Oauth { .. }) && config.token_store.is_memory() {
        return Err(boxauth::Error::config(
            "--oauth keeps its tokens in --token-file PATH or --token-store redis://… (or log in \
             once with `boxauth login`, which saves an environment)",
        ));
    }
    Ok(())
}

/// The identities the process environment names: `BOX_*` credentials (`AuthConfig::from_env`,
/// whose own conflicts are reported as one), `BOXAUTH_ENV=NAME`.
fn at_variables(store: &Store) -> Vec<Found> {
    let mut found = Vec::new();
    let from_env = AuthConfig::from_env();
    let missing =
        matches!(&from_env, Err(e) if e.config_error_kind() == Some(ConfigErrorKind::Missing));
    if !missing {
        let label = match &from_env {
            Ok(config) => variables_of(&config.method),
            Err(_) => "the BOX_* variables".to_owned(),
        };
        found.push(Found {
            source: Source {
                level: Level::Variables,
                label,
                environment: None,
                as_user: None,
            },
            config: from_env,
        });
    }
    if let Some(name) = var("BOXAUTH_ENV") {
        found.push(Found::saved(
            Level::Variables,
            format!("BOXAUTH_ENV={name}"),
            &name,
            store,
        ));
    }
    found
}

/// The current saved environment, if there is one.
fn at_saved(store: &Store) -> boxauth::Result<Vec<Found>> {
    Ok(match store.load()?.current {
        Some(name) => vec![Found::saved(
            Level::Saved,
            format!("the current environment {name:?}"),
            &name,
            store,
        )],
        None => Vec::new(),
    })
}

/// The variables that gave `method`.
fn variables_of(method: &AuthMethod) -> String {
    match method {
        AuthMethod::DeveloperToken { .. } => "BOX_DEVELOPER_TOKEN".to_owned(),
        AuthMethod::Jwt {
            config_file: Some(_),
            ..
        } => "BOX_JWT_CONFIG".to_owned(),
        AuthMethod::Jwt { .. } => "BOX_JWT_CONFIG_JSON".to_owned(),
        AuthMethod::Ccg {
            user_id: Some(_), ..
        } => "BOX_CLIENT_ID, BOX_CLIENT_SECRET and BOX_USER_ID".to_owned(),
        _ => "BOX_CLIENT_ID, BOX_CLIENT_SECRET and BOX_ENTERPRISE_ID".to_owned(),
    }
}

/// Two identities at one level: refused, naming both.
fn two_at_one_level(found: &[Found]) -> boxauth::Error {
    let names: Vec<&str> = found.iter().map(|f| f.source.label.as_str()).collect();
    let level = found.first().map_or(Level::Flags, |f| f.source.level);
    ConfigError::new(
        ConfigErrorKind::Conflict,
        format!(
            "{} both name an identity ({}): keep one",
            names.join(" and "),
            level.describe()
        ),
    )
    .into()
}

/// No identity anywhere: every way to give one (and what a half-set Client Credentials in the
/// variables lacks).
fn nothing_found() -> boxauth::Error {
    let partial = [
        "BOX_CLIENT_ID",
        "BOX_CLIENT_SECRET",
        "BOX_ENTERPRISE_ID",
        "BOX_USER_ID",
    ]
    .iter()
    .any(|name| var(name).is_some());
    let error = ConfigError::new(
        ConfigErrorKind::Missing,
        "no auth method given and no current environment: pass --ccg, --jwt-config, --oauth or \
         --developer-token; or set BOX_DEVELOPER_TOKEN, BOX_JWT_CONFIG (the path of Box's \
         config.json) or BOX_JWT_CONFIG_JSON (its content), or BOX_CLIENT_ID, BOX_CLIENT_SECRET \
         and BOX_ENTERPRISE_ID (or BOX_USER_ID); or save one with `boxauth env add NAME …` (or \
         log in: `boxauth login`)",
    );
    match AuthConfig::from_env() {
        Err(boxauth::Error::Config(lacking)) if partial => error.with_source(lacking).into(),
        _ => error.into(),
    }
}
