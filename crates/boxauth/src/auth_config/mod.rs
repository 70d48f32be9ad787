//! An auth method described as data: what a program's config file, a CLI's saved environment or
//! the process environment ([`AuthConfig::from_env`]) says, turned into an `Arc<dyn
//! Authentication>` by [`AuthConfig::build`].
//!
//! ```
//! let config: boxauth::AuthConfig = serde_json::from_str(r#"{
//!     "method": "ccg",
//!     "client_id": "ly1nj6n11vionaie65emwzk575hnnmrk",
//!     "client_secret": "hOzsTeFlT6ko0dme22uGbQal04SBPYc1",
//!     "enterprise_id": "899905961",
//!     "token_store": "file:/var/lib/myapp/box-token.json"
//! }"#)?;
//! assert!(!format!("{config:?}").contains("hOzsTeFlT6ko0dme22uGbQal04SBPYc1"));
//! let auth = config.build()?;
//! # let _ = auth; Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod env;
mod store;

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use env::from_env;
pub use store::TokenStore;

use crate::auth::jwt::{JwtAuth, JwtConfig};
use crate::auth::{
    AppTokenAuth, AppTokenConfig, AuthOptions, Authentication, CcgAuth, CcgConfig,
    DeveloperTokenAuth, DeveloperTokenConfig, OAuth, OAuthConfig, Subject,
};
use crate::error::{ConfigErrorKind, Error, Result};
use crate::network::{NetworkSession, NetworkSessionBuilder};
use crate::secret::{ClientSecret, ConfigJson, Token};
use crate::storage::TokenStorage;
use crate::urls::BoxUrls;

/// How to authenticate. Serialised with a `method` tag (`developer_token`, `app_token`, `jwt`,
/// `ccg`, `oauth`) and the method's fields; secrets are [`Token`], [`ClientSecret`] and [`ConfigJson`],
/// so `Debug` never shows them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthMethod {
    /// A developer token, and the app's credentials if it is to be revoked (Box needs them).
    DeveloperToken {
        /// The token.
        token: Token,
        /// The app's client ID, for revoking.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        /// The app's client secret, for revoking.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_secret: Option<ClientSecret>,
    },
    /// An app's App Tokens (Box View, limited-access apps): the primary, and the secondary
    /// used once Box refuses the primary.
    AppToken {
        /// The primary App Token.
        primary_token: Token,
        /// The secondary App Token.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secondary_token: Option<Token>,
    },
    /// JWT with Box's app config: a file, or its content; as the service account, or a user.
    Jwt {
        /// The path of Box's app config file (`config.json`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        config_file: Option<PathBuf>,
        /// The file's content, when there is no file (a secret manager, an environment variable).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        config_json: Option<ConfigJson>,
        /// Act as this user instead of the service account.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_id: Option<String>,
    },
    /// Client Credentials Grant, for an enterprise's service account or a user.
    Ccg {
        /// The app's client ID.
        client_id: String,
        /// The app's client secret.
        client_secret: ClientSecret,
        /// The enterprise whose service account acts …
        #[serde(default, skip_serializing_if = "Option::is_none")]
        enterprise_id: Option<String>,
        /// … or the user.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_id: Option<String>,
    },
    /// OAuth 2.0: the tokens come from a login and live in the token store.
    Oauth {
        /// The app's client ID.
        client_id: String,
        /// The app's client secret.
        client_secret: ClientSecret,
    },
}

/// An auth method with where its tokens live and which Box it talks to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthConfig {
    /// How to authenticate.
    #[serde(flatten)]
    pub method: AuthMethod,
    /// Where tokens live (default: this process's memory).
    #[serde(default, skip_serializing_if = "TokenStore::is_memory")]
    pub token_store: TokenStore,
    /// The CA (PEM) that signed a `rediss://` token store's certificate, if not the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis_ca_file: Option<PathBuf>,
    /// The identity's namespace in a shared token store (Redis keys `{namespace}:token`…), if
    /// not [`AuthMethod::identity`] (the app's client ID and subject): a name of your own, such
    /// as `boxauth:myapp:prod`, for processes that must share one token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_namespace: Option<String>,
    /// Box's API host, if not `https://api.box.com` (an emulator, a proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Box's OAuth 2.0 host, if not `https://account.box.com/api/oauth2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2_url: Option<String>,
    /// A CA (PEM) to trust for Box's https as well as the system's (TLS-inspecting proxies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

impl AuthConfig {
    /// `method`, its tokens in memory, talking to Box.
    pub fn new(method: AuthMethod) -> Self {
        Self {
            method,
            token_store: TokenStore::Memory,
            redis_ca_file: None,
            token_namespace: None,
            base_url: None,
            oauth2_url: None,
            ca_file: None,
        }
    }

    /// The same, keeping tokens in `store`.
    pub fn token_store(mut self, store: TokenStore) -> Self {
        self.token_store = store;
        self
    }

    /// The auth this describes, with its session (URLs, CA) and storage.
    pub fn build(&self) -> Result<Arc<dyn Authentication>> {
        self.build_with(AuthOptions::default())
    }

    /// The auth this describes, with `options`: a session or storage given there wins over the
    /// config's URLs, CA and token store (margin, back-off and clock always come from `options`).
    pub fn build_with(&self, mut options: AuthOptions) -> Result<Arc<dyn Authentication>> {
        if options.session.is_none() {
            options.session = Some(self.session()?);
        }
        if options.storage.is_none() {
            options.storage = self.storage()?;
        }
        self.method.build(options)
    }

    /// A session for the config's URLs and CA.
    pub fn session(&self) -> Result<NetworkSession> {
        self.session_builder()?.build()
    }

    /// A session builder with the config's URLs and CA, to add to (headers, retries, a proxy)
    /// before building.
    pub fn session_builder(&self) -> Result<NetworkSessionBuilder> {
        let urls = BoxUrls::from_vars(|name| match name {
            "BOX_BASE_URL" => self.base_url.clone(),
            "BOX_OAUTH2_URL" => self.oauth2_url.clone(),
            _ => None,
        })?;
        let mut builder = NetworkSession::builder().urls(urls);
        if let Some(path) = &self.ca_file {
            builder = builder.add_root_certificates_file(path)?;
        }
        Ok(builder)
    }

    /// The token storage the config names (`None`: this process's memory), under the
    /// identity's namespace.
    pub fn storage(&self) -> Result<Option<Arc<dyn TokenStorage>>> {
        self.token_store.storage(
            || match &self.token_namespace {
                Some(namespace) => Ok(namespace.clone()),
                None => self.method.identity(),
            },
            self.redis_ca_file.as_deref(),
        )
    }
}

impl AuthMethod {
    /// The auth, with `options` (its session and storage already chosen).
    pub fn build(&self, options: AuthOptions) -> Result<Arc<dyn Authentication>> {
        Ok(match self {
            Self::DeveloperToken {
                token,
                client_id,
                client_secret,
            } => {
                let mut config = DeveloperTokenConfig::new(token.clone());
                if let (Some(id), Some(secret)) = (client_id, client_secret) {
                    config = config.client_credentials(id.as_str(), secret.clone());
                }
                Arc::new(DeveloperTokenAuth::with_options(config, options)?)
            }
            Self::AppToken {
                primary_token,
                secondary_token,
            } => {
                let mut config = AppTokenConfig::new(primary_token.clone());
                config.secondary = secondary_token.clone();
                Arc::new(AppTokenAuth::with_options(config, options)?)
            }
            Self::Jwt { user_id, .. } => {
                let mut config = match self.jwt_json()? {
                    (json, Some(path)) => JwtConfig::from_config_text(&json, &path)?,
                    (json, None) => JwtConfig::from_config_json(&json)?,
                };
                if let Some(user) = user_id {
                    config = config.with_subject(Subject::User(user.clone()));
                }
                Arc::new(JwtAuth::with_options(config, options)?)
            }
            Self::Ccg {
                client_id,
                client_secret,
                ..
            } => {
                let subject = self.ccg_subject()?;
                let config = match subject {
                    Subject::User(user) => {
                        CcgConfig::user(client_id.as_str(), client_secret.clone(), user)
                    }
                    subject => CcgConfig::enterprise(
                        client_id.as_str(),
                        client_secret.clone(),
                        subject.id(),
                    ),
                };
                Arc::new(CcgAuth::with_options(config, options)?)
            }
            Self::Oauth {
                client_id,
                client_secret,
            } => {
                if options.storage.is_none() {
                    return Err(Error::config_kind(
                        ConfigErrorKind::Missing,
                        "OAuth 2.0 keeps its tokens in a token store (a file or Redis): give one, \
                         holding the tokens of a login",
                    ));
                }
                Arc::new(OAuth::with_options(
                    OAuthConfig::new(client_id.as_str(), client_secret.clone()),
                    options,
                )?)
            }
        })
    }

    /// `jwt`, `ccg`, `oauth`, `developer-token` or `app-token`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::DeveloperToken { .. } => "developer-token",
            Self::AppToken { .. } => "app-token",
            Self::Jwt { .. } => "jwt",
            Self::Ccg { .. } => "ccg",
            Self::Oauth { .. } => "oauth",
        }
    }

    /// The Redis namespace of this identity: processes anywhere with the same app and subject
    /// share one, and so one token. For JWT the client ID and subject are read from the config
    /// without decrypting its key.
    ///
    /// `boxauth:<client id>:service-account` (JWT), `boxauth:<client id>:enterprise:<id>` (CCG),
    /// `boxauth:<client id>:user:<id>`, `boxauth:<client id>:oauth`, `boxauth:developer-token`,
    /// `boxauth:app-token`.
    pub fn identity(&self) -> Result<String> {
        Ok(match self {
            Self::DeveloperToken { .. } => "boxauth:developer-token".to_owned(),
            Self::AppToken { .. } => "boxauth:app-token".to_owned(),
            Self::Jwt { user_id, .. } => {
                let (json, path) = self.jwt_json()?;
                let origin = path.as_ref().map_or("the Box config JSON".to_owned(), |p| {
                    p.display().to_string()
                });
                let root: Value = serde_json::from_str(&json)
                    .map_err(|_| Error::config(format!("{origin} is not valid JSON")))?;
                let client = root
                    .pointer("/boxAppSettings/clientID")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        Error::config_kind(
                            ConfigErrorKind::Missing,
                            format!("{origin}: boxAppSettings.clientID is missing"),
                        )
                    })?;
                match user_id {
                    Some(user) => format!("boxauth:{client}:user:{user}"),
                    None => format!("boxauth:{client}:service-account"),
                }
            }
            Self::Ccg { client_id, .. } => match self.ccg_subject()? {
                Subject::User(user) => format!("boxauth:{client_id}:user:{user}"),
                subject => format!("boxauth:{client_id}:enterprise:{}", subject.id()),
            },
            Self::Oauth { client_id, .. } => format!("boxauth:{client_id}:oauth"),
        })
    }

    /// The JWT config's text, and the file it came from.
    fn jwt_json(&self) -> Result<(zeroize::Zeroizing<String>, Option<PathBuf>)> {
        let Self::Jwt {
            config_file,
            config_json,
            ..
        } = self
        else {
            return Err(Error::config("not a JWT method"));
        };
        match (config_file, config_json) {
            (Some(_), Some(_)) => Err(Error::config_kind(
                ConfigErrorKind::Conflict,
                "a JWT method takes config_file or config_json, not both",
            )),
            (Some(path), None) => {
                let text =
                    crate::internal::private_file::read_config_text(path, "the Box config file")?;
                Ok((text, Some(path.clone())))
            }
            (None, Some(json)) => Ok((zeroize::Zeroizing::new(json.secret().to_owned()), None)),
            (None, None) => Err(Error::config_kind(
                ConfigErrorKind::Missing,
                "a JWT method needs config_file (Box's config.json) or config_json (its content)",
            )),
        }
    }

    /// A CCG method's subject: its user, else its enterprise.
    fn ccg_subject(&self) -> Result<Subject> {
        match self {
            Self::Ccg {
                user_id: Some(user),
                ..
            } => Ok(Subject::User(user.clone())),
            Self::Ccg {
                enterprise_id: Some(enterprise),
                ..
            } => Ok(Subject::Enterprise(enterprise.clone())),
            _ => Err(Error::config_kind(
                ConfigErrorKind::Missing,
                "Client Credentials needs an enterprise_id (the service account) or a user_id",
            )),
        }
    }
}

/// The bytes of a file a config names, or an error naming it.
#[cfg(feature = "redis")]
fn read_file(path: &std::path::Path, what: &str) -> Result<Vec<u8>> {
    crate::internal::private_file::read_config(path, &format!("the {what} file"))
}
