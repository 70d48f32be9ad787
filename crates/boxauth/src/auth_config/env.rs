//! The auth method from environment variables, as aws-config's `from_env()` does for AWS: what
//! CI jobs, containers and servers have.

use std::path::PathBuf;
use std::sync::Arc;

use super::{AuthConfig, AuthMethod, TokenStore};
use crate::auth::Authentication;
use crate::error::{ConfigError, ConfigErrorKind, Error, Result};

/// The auth the environment describes ([`AuthConfig::from_env`]), built.
pub fn from_env() -> Result<Arc<dyn Authentication>> {
    AuthConfig::from_env()?.build()
}

impl AuthConfig {
    /// The auth method the process environment describes, or an error naming the variables to
    /// set when none or more than one method is there.
    ///
    /// | variables | method |
    /// |---|---|
    /// | `BOX_DEVELOPER_TOKEN` (`BOX_CLIENT_ID` + `BOX_CLIENT_SECRET` to revoke it) | developer token |
    /// | `BOX_APP_TOKEN` (and `BOX_APP_TOKEN_SECONDARY`, to fall back on) | App Tokens |
    /// | `BOX_JWT_CONFIG` (a path) or `BOX_JWT_CONFIG_JSON` (the file's content), `BOX_USER_ID` to act as a user | JWT |
    /// | `BOX_CLIENT_ID` + `BOX_CLIENT_SECRET` + `BOX_ENTERPRISE_ID` or `BOX_USER_ID` | Client Credentials |
    ///
    /// And for any method: `BOX_BASE_URL`, `BOX_OAUTH2_URL`, `BOX_CA_FILE` (a CA to trust for Box),
    /// `BOX_TOKEN_STORE` (`memory`, `file:PATH`, or a Redis URL: `redis://…`, `redis-cluster://…`,
    /// `redis-sentinel://…`, `rediss…` for TLS) and `BOX_REDIS_CA_FILE`.
    /// An empty variable counts as unset. OAuth 2.0 is not read from the environment: its tokens
    /// come from a login.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables looked up by `var` (for tests, or another
    /// source of settings).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let developer = var("BOX_DEVELOPER_TOKEN");
        let app_token = var("BOX_APP_TOKEN");
        let app_token_secondary = var("BOX_APP_TOKEN_SECONDARY");
        if app_token_secondary.is_some() && app_token.is_none() {
            return Err(Error::config_kind(
                ConfigErrorKind::Missing,
                "BOX_APP_TOKEN_SECONDARY is the fallback of BOX_APP_TOKEN: set BOX_APP_TOKEN (the \
                 primary App Token) too",
            ));
        }
        let jwt_file = var("BOX_JWT_CONFIG");
        let jwt_json = var("BOX_JWT_CONFIG_JSON");
        let client_id = var("BOX_CLIENT_ID");
        let client_secret = var("BOX_CLIENT_SECRET");
        let enterprise = var("BOX_ENTERPRISE_ID");
        let user = var("BOX_USER_ID");
        let ccg_subject = enterprise.is_some() || user.is_some();
        let ccg = client_id.is_some() && client_secret.is_some() && ccg_subject;

        if jwt_file.is_some() && jwt_json.is_some() {
            return Err(conflict("BOX_JWT_CONFIG and BOX_JWT_CONFIG_JSON"));
        }
        let jwt = jwt_file.is_some() || jwt_json.is_some();
        let mut given = Vec::new();
        if developer.is_some() {
            given.push("a developer token (BOX_DEVELOPER_TOKEN)");
        }
        if app_token.is_some() {
            given.push("App Tokens (BOX_APP_TOKEN)");
        }
        if jwt {
            given.push("JWT (BOX_JWT_CONFIG or BOX_JWT_CONFIG_JSON)");
        }
        // BOX_USER_ID alone names the user a JWT app acts as, and a client ID and secret alone
        // are a developer token's revoke credentials: only all three are Client Credentials.
        if ccg {
            given.push("Client Credentials (BOX_CLIENT_ID, BOX_CLIENT_SECRET, BOX_ENTERPRISE_ID or BOX_USER_ID)");
        }
        if given.len() > 1 {
            return Err(conflict(&given.join(" and ")));
        }

        let method = if let Some(token) = developer {
            AuthMethod::DeveloperToken {
                token: token.into(),
                client_id,
                client_secret: client_secret.map(Into::into),
            }
        } else if let Some(primary) = app_token {
            AuthMethod::AppToken {
                primary_token: primary.into(),
                secondary_token: app_token_secondary.map(Into::into),
            }
        } else if jwt {
            AuthMethod::Jwt {
                config_file: jwt_file.map(PathBuf::from),
                config_json: jwt_json.map(Into::into),
                user_id: user,
            }
        } else if ccg {
            AuthMethod::Ccg {
                client_id: client_id.unwrap_or_default(),
                client_secret: client_secret.unwrap_or_default().into(),
                enterprise_id: if user.is_some() { None } else { enterprise },
                user_id: user,
            }
        } else {
            return Err(missing(
                client_id.is_some(),
                client_secret.is_some(),
                ccg_subject,
            ));
        };

        let mut config = AuthConfig::new(method);
        if let Some(store) = var("BOX_TOKEN_STORE") {
            config.token_store = store.parse::<TokenStore>().map_err(|e| {
                ConfigError::new(
                    e.config_error_kind().unwrap_or(ConfigErrorKind::Invalid),
                    "BOX_TOKEN_STORE names no token store boxauth can use",
                )
                .with_source(e)
            })?;
        }
        config.redis_ca_file = var("BOX_REDIS_CA_FILE").map(PathBuf::from);
        config.base_url = var("BOX_BASE_URL");
        config.oauth2_url = var("BOX_OAUTH2_URL");
        config.ca_file = var("BOX_CA_FILE").map(PathBuf::from);
        Ok(config)
    }
}

fn conflict(what: &str) -> Error {
    Error::config_kind(
        ConfigErrorKind::Conflict,
        format!("the environment describes {what}: keep the variables of one auth method"),
    )
}

/// What to set when no method is complete, naming what a half-given CCG lacks.
fn missing(client_id: bool, client_secret: bool, subject: bool) -> Error {
    let lacking: Vec<&str> = [
        (!client_id, "BOX_CLIENT_ID"),
        (!client_secret, "BOX_CLIENT_SECRET"),
        (!subject, "BOX_ENTERPRISE_ID or BOX_USER_ID"),
    ]
    .into_iter()
    .filter_map(|(lacks, name)| lacks.then_some(name))
    .collect();
    let message = if client_id || client_secret || subject {
        format!(
            "the environment has part of a Client Credentials setup: set {} too",
            lacking.join(" and ")
        )
    } else {
        "no Box credentials in the environment: set BOX_DEVELOPER_TOKEN; or BOX_APP_TOKEN (and \
         BOX_APP_TOKEN_SECONDARY); or BOX_JWT_CONFIG (the path of Box's config.json) or BOX_JWT_CONFIG_JSON (its content); or BOX_CLIENT_ID, \
         BOX_CLIENT_SECRET and BOX_ENTERPRISE_ID (or BOX_USER_ID) for Client Credentials"
            .to_owned()
    };
    Error::config_kind(ConfigErrorKind::Missing, message)
}
