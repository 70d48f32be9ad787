//! The auth schemes, one trait: a developer token, App Tokens, OAuth 2.0, Client Credentials
//! Grant, JWT.
//!
//! Every scheme hands out tokens through the same token manager: cached,
//! refreshed inside a margin before expiry, refreshed once however many tasks or processes ask, and
//! kept in the [`TokenStorage`] you choose.

mod annotator;
mod app_token;
mod cached;
mod ccg;
mod developer_token;
pub(crate) mod jwt;
pub(crate) mod oauth;

use std::sync::Arc;
use std::time::Duration;

pub use annotator::ActorToken;
pub use app_token::{AppTokenAuth, AppTokenConfig};
pub use cached::CachedAuth;
pub use ccg::{CcgAuth, CcgConfig};
pub use developer_token::{DeveloperTokenAuth, DeveloperTokenConfig};
pub use oauth::{AuthorizationRequest, AuthorizeOptions, OAuth, OAuthConfig};

use crate::authorization::{AuthorizationManager, RequestAccessTokenArgs};
use crate::error::{ConfigErrorKind, Error, Result};
use crate::future::{BoxFuture, TokenFuture};
use crate::network::NetworkSession;
use crate::schemas::AccessToken;
use crate::secret::{AuthorizationHeader, Token};
use crate::storage::TokenStorage;
use crate::time::{SharedTimeSource, TimeSource};
use crate::token::StoredToken;
use crate::token_manager::{DEFAULT_REFRESH_BACKOFF, DEFAULT_REFRESH_MARGIN, Unconfirmed};

/// What every auth scheme does: hand out a valid token, refresh it, revoke it, downscope it.
///
/// The methods return boxed futures so the trait can be used as `dyn Authentication`.
pub trait Authentication: Send + Sync + std::fmt::Debug {
    /// A valid access token: the cached one while it has not expired (inside the refresh margin
    /// a refresh starts in the background, and nobody waits for it), else the outcome of the one
    /// refresh all callers share. The cached path is ready at once and allocates nothing.
    fn retrieve_token(&self) -> TokenFuture<'_>;

    /// The cached token, if it is valid beyond the refresh margin: no I/O, no lock, no allocation
    /// beyond an `Arc` clone. `None` means [`retrieve_token`](Self::retrieve_token) has work to do.
    fn cached_token(&self) -> Option<Arc<StoredToken>> {
        None
    }

    /// A new access token now, unless another task or process replaced the current one already.
    /// Joins a refresh in flight; ignores the back-off after a failure, and reports a failure
    /// even while a valid token remains.
    fn refresh_token(&self) -> BoxFuture<'_, Result<Arc<StoredToken>>>;

    /// `Bearer <access token>`, for an `Authorization` header.
    fn authorization_header(&self) -> BoxFuture<'_, Result<AuthorizationHeader>> {
        Box::pin(async move {
            let token = self.retrieve_token().await?;
            Ok(AuthorizationHeader::new(format!(
                "Bearer {}",
                token.access_token.secret()
            )))
        })
    }

    /// Revokes the token at Box and forgets it.
    fn revoke_token(&self) -> BoxFuture<'_, Result<()>>;

    /// A new token limited to `scopes`, and to one file or folder (`resource`, its API URL such as
    /// `https://api.box.com/2.0/files/123`) or one shared link. The current token is unchanged.
    fn downscope_token<'a>(
        &'a self,
        scopes: &'a [&'a str],
        resource: Option<&'a str>,
        shared_link: Option<&'a str>,
    ) -> BoxFuture<'a, Result<AccessToken>>;

    /// An API call was answered 401 for `rejected`: forget it if it is still the current token,
    /// so the next [`retrieve_token`](Self::retrieve_token) gets a new one.
    fn invalidate_token(&self, rejected: &Token);

    /// An API call was answered `403 insufficient_scope` for `rejected`: drop it, if a new
    /// token may carry scopes the app gained since (JWT and CCG), once (`[insufficient-scope]`
    /// on [`CachedAuth`]). Returns whether it was dropped, so the call is worth sending again
    /// with a new token. Default: no.
    fn invalidate_for_scope(&self, rejected: &Token) -> bool {
        let _ = rejected;
        false
    }

    /// The session (URLs, retries, headers) this auth talks through.
    fn network_session(&self) -> &NetworkSession;

    /// Writes again, now, a token this process fetched whose write storage has not confirmed
    /// (`[unconfirmed-write]` on [`CachedAuth`]: Redis did not answer, was failing over, or no
    /// replica confirmed the write), until storage confirms it or `within` has passed; `Err`
    /// says what is still unconfirmed, and whether it carries a refresh token. `within` bounds
    /// the wait for the refresh lock; a write already under way then finishes and releases it
    /// (Redis: its `WAIT`, 1 s by default), so the lock is never left to its TTL.
    ///
    /// Call it before the process exits: a CLI, a cron job, a serverless handler, a server
    /// shutting down. A token only this process holds leaves with it, and for OAuth 2.0 the
    /// refresh token that bought it is already spent. With nothing unconfirmed (memory or file
    /// storage, a Redis write its replicas confirmed) it returns at once; with `within` zero it
    /// writes nothing and only reports.
    fn flush(&self, within: Duration) -> BoxFuture<'_, std::result::Result<(), Unconfirmed>> {
        let _ = within;
        Box::pin(std::future::ready(Ok(())))
    }
}

/// Whose token a server-side scheme (JWT, CCG) gets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Subject {
    /// The app's service account in this enterprise (`box_subject_type=enterprise`).
    Enterprise(String),
    /// This user: a managed user or an app user (`box_subject_type=user`).
    User(String),
}

impl Subject {
    /// `enterprise` or `user`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Enterprise(_) => "enterprise",
            Self::User(_) => "user",
        }
    }

    /// The enterprise or user ID.
    pub fn id(&self) -> &str {
        match self {
            Self::Enterprise(id) | Self::User(id) => id,
        }
    }
}

/// Settings every scheme shares: where to send requests, where to keep tokens, when to refresh,
/// which clock decides.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthOptions {
    /// The session (default: Box's URLs and retry policy).
    pub session: Option<NetworkSession>,
    /// The storage (default: memory).
    pub storage: Option<Arc<dyn TokenStorage>>,
    /// Refresh when less than this is left (default 60 s; never before half a token's lifetime).
    pub refresh_margin: Duration,
    /// The clock every expiry is decided on (default: the system clock).
    pub time_source: SharedTimeSource,
    /// After a failed refresh, no new one for this long while a valid token exists (default 30 s,
    /// lengthened at random by up to half, and to Box's `Retry-After` if longer).
    pub refresh_backoff: Duration,
}

impl Default for AuthOptions {
    fn default() -> Self {
        Self {
            session: None,
            storage: None,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            time_source: crate::time::system(),
            refresh_backoff: DEFAULT_REFRESH_BACKOFF,
        }
    }
}

impl AuthOptions {
    /// Sends through `session`.
    pub fn session(mut self, session: NetworkSession) -> Self {
        self.session = Some(session);
        self
    }

    /// Keeps tokens in `storage`.
    pub fn storage(mut self, storage: impl TokenStorage + 'static) -> Self {
        self.storage = Some(Arc::new(storage));
        self
    }

    /// Keeps tokens in a shared `storage`.
    pub fn shared_storage(mut self, storage: Arc<dyn TokenStorage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Refreshes when less than `margin` is left.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// After a failed refresh, starts no new one for `interval` while a valid token exists
    /// (default 30 s; jittered, and lengthened by Box's `Retry-After`). Without a valid token
    /// the wait starts at 1 s and doubles up to `interval`.
    pub fn refresh_backoff(mut self, interval: Duration) -> Self {
        self.refresh_backoff = interval;
        self
    }

    /// Decides expiries on `clock` (the emulator's `Clock` in tests: one `advance()` moves Box
    /// and boxauth together).
    pub fn time_source(self, clock: impl TimeSource + 'static) -> Self {
        self.shared_time_source(Arc::new(clock))
    }

    /// Decides expiries on a shared `clock`.
    pub fn shared_time_source(mut self, clock: SharedTimeSource) -> Self {
        self.time_source = clock;
        self
    }

    /// The session to send through: the one given, or Box's defaults.
    pub(crate) fn session_or_default(&self) -> Result<NetworkSession> {
        match &self.session {
            Some(session) => Ok(session.clone()),
            None => NetworkSession::new(),
        }
    }
}

/// A token exchange of `token` for one limited to `scopes`, and to one `resource` or
/// `shared_link`: what every scheme's `downscope_token` sends.
pub(crate) async fn downscope(
    manager: &AuthorizationManager,
    token: &Token,
    scopes: &[&str],
    resource: Option<&str>,
    shared_link: Option<&str>,
) -> Result<AccessToken> {
    if scopes.is_empty() {
        return Err(Error::config_kind(
            ConfigErrorKind::Missing,
            "downscoping needs at least one scope, e.g. item_preview",
        ));
    }
    if resource.is_some() && shared_link.is_some() {
        return Err(Error::config_kind(
            ConfigErrorKind::Conflict,
            "downscope to a resource or to a shared link, not both",
        ));
    }
    let mut args = RequestAccessTokenArgs::token_exchange(token.clone(), scopes.join(" "));
    args.resource = resource.map(str::to_owned);
    args.box_shared_link = shared_link.map(str::to_owned);
    manager.request_access_token(args).await
}
