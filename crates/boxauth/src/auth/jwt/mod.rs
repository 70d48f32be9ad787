//! Box JWT auth: an app signs a short-lived assertion with its RSA private key.

mod assertion;
mod config;
/// The RSA private key: every PEM format Box and OpenSSL write, parsed once.
pub mod key;
mod pem;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::SystemTime;

pub use assertion::AUDIENCE;
pub use config::{DEFAULT_ASSERTION_LIFETIME, JwtConfig, MAX_ASSERTION_LIFETIME};

use super::{AuthOptions, Core, Subject, managed_authentication};
use crate::authorization::RequestAccessTokenArgs;
use crate::error::{ApiError, Error, Result};
use crate::schemas::AccessToken;
use crate::storage::{BoxFuture, StoredToken, unix_now, unix_seconds};
use crate::token_manager::TokenSource;

/// JWT auth. Cloning shares the cache and storage.
///
/// ```no_run
/// # async fn run() -> boxauth::Result<()> {
/// use boxauth::{Authentication, JwtAuth, JwtConfig};
///
/// let auth = JwtAuth::new(JwtConfig::from_config_file("box_config.json")?)?;
/// let token = auth.retrieve_token().await?;
/// # let _ = token; Ok(()) }
/// ```
///
/// When Box refuses an assertion over its `exp` or `jti` (this machine's clock is off), a new one
/// is built from the time in Box's `Date` header and sent once more; the measured offset is kept
/// for the assertions that follow.
#[derive(Debug, Clone)]
pub struct JwtAuth {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: JwtConfig,
    core: Core,
    /// Box's clock minus ours, in seconds, learned from a refusal.
    skew: AtomicI64,
}

/// Whether Box refused the assertion for its time or its ID: what a wrong clock causes.
fn refused_for_clock(error: &ApiError) -> bool {
    let description = error.error_description.as_deref().unwrap_or_default();
    error.is("invalid_grant")
        && ["'exp'", "'jti'", "expiration"]
            .iter()
            .any(|word| description.contains(word))
}

impl TokenSource for Inner {
    fn fetch<'a>(&'a self, _stored: Option<&'a StoredToken>) -> BoxFuture<'a, Result<AccessToken>> {
        Box::pin(async move {
            let first = self
                .request(unix_now() + self.skew.load(Ordering::Relaxed))
                .await;
            let Err(Error::Api(api)) = &first else {
                return first;
            };
            let box_now = api
                .date
                .as_deref()
                .and_then(|date| httpdate::parse_http_date(date).ok());
            match box_now {
                Some(box_now) if refused_for_clock(api) => {
                    let skew = unix_seconds(box_now) - unix_seconds(SystemTime::now());
                    tracing::info!(
                        skew_seconds = skew,
                        "Box refused the assertion's time: retrying with Box's clock"
                    );
                    self.skew.store(skew, Ordering::Relaxed);
                    self.request(unix_seconds(box_now)).await
                }
                _ => first,
            }
        })
    }
}

impl Inner {
    async fn request(&self, now: i64) -> Result<AccessToken> {
        let assertion = assertion::build(&self.config, now)?;
        let args = RequestAccessTokenArgs::jwt_bearer(
            self.config.client_id.clone(),
            self.config.client_secret.clone(),
            assertion,
        );
        self.core.manager.request_access_token(args).await
    }
}

impl JwtAuth {
    /// With default options: Box's URLs, memory storage, a 60 s refresh margin.
    pub fn new(config: JwtConfig) -> Result<Self> {
        Self::with_options(config, AuthOptions::default())
    }

    /// With `options` (session, storage, margin).
    pub fn with_options(config: JwtConfig, options: AuthOptions) -> Result<Self> {
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                core: Core::new(options)?,
                skew: AtomicI64::new(0),
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
        let inner = Inner {
            config: self.inner.config.clone().with_subject(subject),
            core: self.inner.core.sibling()?,
            skew: AtomicI64::new(self.inner.skew.load(Ordering::Relaxed)),
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &JwtConfig {
        &self.inner.config
    }

    /// A freshly signed assertion for this app and subject, issued now (skew corrected). For
    /// callers who send it themselves; [`retrieve_token`](crate::Authentication::retrieve_token)
    /// does all of this.
    pub fn create_assertion(&self) -> Result<crate::Assertion> {
        assertion::build(
            &self.inner.config,
            unix_now() + self.inner.skew.load(Ordering::Relaxed),
        )
    }
}

managed_authentication!(
    JwtAuth,
    revoke_with = |inner| (
        Some(inner.config.client_id.as_str()),
        Some(&inner.config.client_secret)
    )
);
