//! Box JWT auth: an app signs a short-lived assertion with its RSA private key.

pub(crate) mod assertion;
mod config;
/// The RSA private key: every PEM format Box and OpenSSL write, parsed once.
pub(crate) mod key;
mod pem;

use std::sync::atomic::{AtomicI64, Ordering};

pub use config::{DEFAULT_ASSERTION_LIFETIME, JwtConfig, MAX_ASSERTION_LIFETIME};

use super::{AuthOptions, CachedAuth, Subject};
use crate::authorization::RequestAccessTokenArgs;
use crate::error::{ApiError, Error, Result, TokenRefusal};
use crate::future::BoxFuture;
use crate::secret::ClientSecret;
use crate::source::{FetchContext, TokenSource};
use crate::time::unix_seconds;
use crate::token::StoredToken;

/// JWT auth: the cache layer over a [`JwtSource`]. Cloning shares the cache and storage.
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
pub type JwtAuth = CachedAuth<JwtSource>;

/// How JWT auth fetches a token: a new assertion signed with the app's key for each one, its
/// `exp` on the auth's clock corrected by the offset to Box's clock learned from a refusal.
#[derive(Debug)]
pub struct JwtSource {
    config: JwtConfig,
    /// Box's clock minus ours, in seconds, learned from a refusal.
    skew: AtomicI64,
}

/// Whether Box refused the assertion for its time or its ID: what a wrong clock causes.
fn refused_for_clock(error: &ApiError) -> bool {
    matches!(
        error.refusal(),
        Some(TokenRefusal::Clock | TokenRefusal::JwtId)
    )
}

impl TokenSource for JwtSource {
    fn scopes_follow_the_app(&self) -> bool {
        true
    }

    fn fetch<'a>(&'a self, context: FetchContext<'a>) -> BoxFuture<'a, Result<StoredToken>> {
        Box::pin(async move {
            let now = unix_seconds(context.now());
            let first = self
                .request(&context, now + self.skew.load(Ordering::Relaxed))
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
                    let skew = unix_seconds(box_now) - unix_seconds(context.now());
                    tracing::info!(
                        skew_seconds = skew,
                        "Box refused the assertion's time: retrying with Box's clock"
                    );
                    self.skew.store(skew, Ordering::Relaxed);
                    self.request(&context, unix_seconds(box_now)).await
                }
                _ => first,
            }
        })
    }

    fn client_credentials(&self) -> Option<(&str, &ClientSecret)> {
        Some((&self.config.client_id, &self.config.client_secret))
    }
}

impl JwtSource {
    /// A source for `config`, assuming no clock offset to Box yet.
    pub fn new(config: JwtConfig) -> Self {
        Self {
            config,
            skew: AtomicI64::new(0),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &JwtConfig {
        &self.config
    }

    async fn request(&self, context: &FetchContext<'_>, now: i64) -> Result<StoredToken> {
        let assertion = assertion::build(&self.config, now)?;
        let args = RequestAccessTokenArgs::jwt_bearer(
            self.config.client_id.clone(),
            self.config.client_secret.clone(),
            assertion,
        );
        let answer = context
            .authorization_manager()
            .request_access_token(args)
            .await?;
        StoredToken::from_access_token(answer, context.now())
    }
}

impl CachedAuth<JwtSource> {
    /// With default options: Box's URLs, memory storage, a 60 s refresh margin.
    pub fn new(config: JwtConfig) -> Result<Self> {
        Self::with_options(config, AuthOptions::default())
    }

    /// With `options` (session, storage, margin, clock).
    pub fn with_options(config: JwtConfig, options: AuthOptions) -> Result<Self> {
        Self::from_source(JwtSource::new(config), options)
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
        let source = self.source();
        self.sibling(JwtSource {
            config: source.config.clone().with_subject(subject),
            skew: AtomicI64::new(source.skew.load(Ordering::Relaxed)),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &JwtConfig {
        &self.source().config
    }

    /// A freshly signed assertion for this app and subject, issued now on the auth's clock (skew
    /// corrected). For callers who send it themselves;
    /// [`retrieve_token`](crate::Authentication::retrieve_token) does all of this.
    pub fn create_assertion(&self) -> Result<crate::Assertion> {
        let now = unix_seconds(self.tokens().clock().now());
        assertion::build(
            &self.source().config,
            now + self.source().skew.load(Ordering::Relaxed),
        )
    }
}
