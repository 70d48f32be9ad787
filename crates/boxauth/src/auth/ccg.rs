//! Client Credentials Grant: an app's client ID and secret, for its service account or a user.

use std::sync::Arc;

use super::{AuthOptions, Core, Subject, managed_authentication};
use crate::authorization::{RequestAccessTokenArgs, RequestAccessTokenBoxSubjectType};
use crate::error::Result;
use crate::schemas::AccessToken;
use crate::secret::ClientSecret;
use crate::storage::{BoxFuture, StoredToken};
use crate::token_manager::TokenSource;

/// What Client Credentials Grant needs.
#[derive(Debug, Clone)]
pub struct CcgConfig {
    /// The app's client ID.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: ClientSecret,
    /// The service account of an enterprise, or a user.
    pub subject: Subject,
}

impl CcgConfig {
    /// Tokens for the app's service account in `enterprise_id`.
    pub fn enterprise(
        client_id: impl Into<String>,
        client_secret: impl Into<ClientSecret>,
        enterprise_id: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            subject: Subject::Enterprise(enterprise_id.into()),
        }
    }

    /// Tokens for user `user_id` (needs "Generate user access tokens" at Box).
    pub fn user(
        client_id: impl Into<String>,
        client_secret: impl Into<ClientSecret>,
        user_id: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            subject: Subject::User(user_id.into()),
        }
    }
}

/// Client Credentials Grant auth. Cloning shares the cache and storage.
///
/// ```no_run
/// # async fn run() -> boxauth::Result<()> {
/// use boxauth::{Authentication, CcgAuth, CcgConfig};
///
/// let auth = CcgAuth::new(CcgConfig::enterprise("client-id", "client-secret", "899905961"))?;
/// let token = auth.retrieve_token().await?; // cached until shortly before it expires
/// # let _ = token; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct CcgAuth {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: CcgConfig,
    core: Core,
}

impl TokenSource for Inner {
    fn fetch<'a>(&'a self, _stored: Option<&'a StoredToken>) -> BoxFuture<'a, Result<AccessToken>> {
        let kind = match self.config.subject {
            Subject::Enterprise(_) => RequestAccessTokenBoxSubjectType::Enterprise,
            Subject::User(_) => RequestAccessTokenBoxSubjectType::User,
        };
        let args = RequestAccessTokenArgs::client_credentials(
            self.config.client_id.clone(),
            self.config.client_secret.clone(),
            kind,
            self.config.subject.id(),
        );
        Box::pin(self.core.manager.request_access_token(args))
    }
}

impl CcgAuth {
    /// With default options: Box's URLs, memory storage, a 60 s refresh margin.
    pub fn new(config: CcgConfig) -> Result<Self> {
        Self::with_options(config, AuthOptions::default())
    }

    /// With `options` (session, storage, margin).
    pub fn with_options(config: CcgConfig, options: AuthOptions) -> Result<Self> {
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                core: Core::new(options)?,
            }),
        })
    }

    /// The same app acting as `user_id`, with its own (memory) storage.
    pub fn with_user_subject(&self, user_id: impl Into<String>) -> Result<Self> {
        self.with_subject(Subject::User(user_id.into()))
    }

    /// The same app as the service account of `enterprise_id`, with its own (memory) storage.
    pub fn with_enterprise_subject(&self, enterprise_id: impl Into<String>) -> Result<Self> {
        self.with_subject(Subject::Enterprise(enterprise_id.into()))
    }

    fn with_subject(&self, subject: Subject) -> Result<Self> {
        let config = CcgConfig {
            subject,
            ..self.inner.config.clone()
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                core: self.inner.core.sibling()?,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CcgConfig {
        &self.inner.config
    }
}

managed_authentication!(
    CcgAuth,
    revoke_with = |inner| (
        Some(inner.config.client_id.as_str()),
        Some(&inner.config.client_secret)
    )
);
