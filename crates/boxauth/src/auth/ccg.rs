//! Client Credentials Grant: an app's client ID and secret, for its service account or a user.

use super::{AuthOptions, CachedAuth, Subject};
use crate::authorization::{RequestAccessTokenArgs, RequestAccessTokenBoxSubjectType};
use crate::error::Result;
use crate::future::BoxFuture;
use crate::secret::ClientSecret;
use crate::source::{FetchContext, TokenSource};
use crate::token::StoredToken;

/// What Client Credentials Grant needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
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

/// Client Credentials Grant auth: the cache layer over a [`CcgConfig`]. Cloning shares the cache
/// and storage.
///
/// ```no_run
/// # async fn run() -> boxauth::Result<()> {
/// use boxauth::{Authentication, CcgAuth, CcgConfig};
///
/// let auth = CcgAuth::new(CcgConfig::enterprise("client-id", "client-secret", "899905961"))?;
/// let token = auth.retrieve_token().await?; // cached until shortly before it expires
/// # let _ = token; Ok(()) }
/// ```
pub type CcgAuth = CachedAuth<CcgConfig>;

impl TokenSource for CcgConfig {
    fn scopes_follow_the_app(&self) -> bool {
        true
    }

    fn fetch<'a>(&'a self, context: FetchContext<'a>) -> BoxFuture<'a, Result<StoredToken>> {
        let kind = match self.subject {
            Subject::Enterprise(_) => RequestAccessTokenBoxSubjectType::Enterprise,
            Subject::User(_) => RequestAccessTokenBoxSubjectType::User,
        };
        let args = RequestAccessTokenArgs::client_credentials(
            self.client_id.clone(),
            self.client_secret.clone(),
            kind,
            self.subject.id(),
        );
        Box::pin(async move {
            let answer = context
                .authorization_manager()
                .request_access_token(args)
                .await?;
            StoredToken::from_access_token(answer, context.now())
        })
    }

    fn client_credentials(&self) -> Option<(&str, &ClientSecret)> {
        Some((&self.client_id, &self.client_secret))
    }
}

impl CachedAuth<CcgConfig> {
    /// With default options: Box's URLs, memory storage, a 60 s refresh margin.
    pub fn new(config: CcgConfig) -> Result<Self> {
        Self::with_options(config, AuthOptions::default())
    }

    /// With `options` (session, storage, margin, clock).
    pub fn with_options(config: CcgConfig, options: AuthOptions) -> Result<Self> {
        Self::from_source(config, options)
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
        self.sibling(CcgConfig {
            subject,
            ..self.config().clone()
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CcgConfig {
        self.source()
    }
}
