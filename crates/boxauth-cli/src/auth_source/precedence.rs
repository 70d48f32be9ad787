//! The one rule for which identity a command acts as (see the parent module's docs): each level
//! is asked in turn, the first that names an identity is used, two at one level are refused, and
//! what the levels below named goes into a note.

use std::sync::Arc;

use boxauth::{AuthConfig, AuthMethod, Authentication, ConfigError, ConfigErrorKind};

use super::{AuthSource, var};
use crate::connection::ConnectionArgs;
use crate::environments::Store;
use crate::output::Output;

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
    pub(crate) fn choose(
        &self,
        env: Option<&str>,
        out: &Output,
    ) -> boxauth::Result<(AuthConfig, Source)> {
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
                     --developer-token, --app-token); an environment or BOX_* variables carry their own"
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
        AuthMethod::AppToken { .. } => "BOX_APP_TOKEN".to_owned(),
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
        "no auth method given and no current environment: pass --ccg, --jwt-config, --oauth, \
         --developer-token or --app-token; or set BOX_DEVELOPER_TOKEN, BOX_APP_TOKEN, BOX_JWT_CONFIG (the path of Box's \
         config.json) or BOX_JWT_CONFIG_JSON (its content), or BOX_CLIENT_ID, BOX_CLIENT_SECRET \
         and BOX_ENTERPRISE_ID (or BOX_USER_ID); or save one with `boxauth env add NAME …` (or \
         log in: `boxauth login`)",
    );
    match AuthConfig::from_env() {
        Err(boxauth::Error::Config(lacking)) if partial => error.with_source(lacking).into(),
        _ => error.into(),
    }
}
