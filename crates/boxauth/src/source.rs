//! The public fetch trait: how a scheme gets a fresh token. Everything else (the cache, the
//! margin, one refresh for all callers, back-off after a failure, storage, 401s) is the token
//! manager's, written once.

use std::fmt;
use std::time::SystemTime;

use crate::authorization::AuthorizationManager;
use crate::error::Result;
use crate::future::BoxFuture;
use crate::secret::ClientSecret;
use crate::time::TimeSource;
use crate::token::StoredToken;

/// How to get a fresh token: the one thing an auth scheme must say. Wrap it in a
/// [`CachedAuth`](crate::CachedAuth) and it gets caching, refresh before expiry, one refresh for
/// every caller (and every process sharing its storage), back-off while Box fails, and storage.
///
/// Box's schemes are sources too: `CcgAuth` is `CachedAuth<CcgConfig>`, `OAuth` is
/// `CachedAuth<OAuthConfig>`, `JwtAuth` is `CachedAuth<JwtSource>`.
///
/// ```
/// use std::time::Duration;
/// use boxauth::{BoxFuture, CachedAuth, FetchContext, StoredToken, TokenSource};
///
/// /// A token another system mints (a vault, a sidecar): here, a fixed one for an hour.
/// #[derive(Debug)]
/// struct FromVault;
///
/// impl TokenSource for FromVault {
///     fn fetch<'a>(&'a self, context: FetchContext<'a>) -> BoxFuture<'a, boxauth::Result<StoredToken>> {
///         Box::pin(async move {
///             Ok(StoredToken::new("token-from-the-vault", context.now() + Duration::from_secs(3600)))
///         })
///     }
/// }
///
/// # async fn run() -> boxauth::Result<()> {
/// use boxauth::Authentication;
/// let auth = CachedAuth::from_source(FromVault, boxauth::AuthOptions::default())?;
/// assert_eq!(auth.retrieve_token().await?.access_token.secret(), "token-from-the-vault");
/// # Ok(()) }
/// ```
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// A fresh token. Called by one task at a time per identity (the token manager's flight),
    /// never while a usable token is cached. Errors are shared with every caller waiting for this
    /// refresh, and start the back-off.
    fn fetch<'a>(&'a self, context: FetchContext<'a>) -> BoxFuture<'a, Result<StoredToken>>;

    /// Whether fetching spends a single-use credential kept in storage (an OAuth 2.0 refresh
    /// token), so that `invalid_grant` may mean another process spent it already: the token
    /// manager then re-reads storage once before giving up. Default: no.
    fn spends_stored_token(&self) -> bool {
        false
    }

    /// Whether a fresh token carries the app's scopes as they are now (JWT and CCG tokens are
    /// minted from the app's configuration each time), so that a `403 insufficient_scope` may
    /// be cured by a new token after the scopes were changed in the Developer Console
    /// (`[insufficient-scope]` on [`CachedAuth`](crate::CachedAuth)). Default: no.
    fn scopes_follow_the_app(&self) -> bool {
        false
    }

    /// The app's client ID and secret, which Box needs to revoke a token. Default: none (the
    /// revoke request goes without them, and Box decides).
    fn client_credentials(&self) -> Option<(&str, &ClientSecret)> {
        None
    }
}

/// What a [`TokenSource`] may use while fetching.
#[derive(Clone, Copy)]
pub struct FetchContext<'a> {
    pub(crate) stored: Option<&'a StoredToken>,
    pub(crate) manager: &'a AuthorizationManager,
    pub(crate) clock: &'a dyn TimeSource,
}

impl<'a> FetchContext<'a> {
    /// What storage holds now, if anything (a refresh grant spends its refresh token).
    pub fn stored(&self) -> Option<&'a StoredToken> {
        self.stored
    }

    /// Box's `AuthorizationManager` on the auth's session: the URLs, retries and headers the
    /// user configured.
    pub fn authorization_manager(&self) -> &'a AuthorizationManager {
        self.manager
    }

    /// Now, on the auth's clock: use it for expiries (`StoredToken::from_access_token(answer,
    /// context.now())`) and for anything time-stamped.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// The auth's clock.
    pub fn time_source(&self) -> &'a dyn TimeSource {
        self.clock
    }
}

impl fmt::Debug for FetchContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FetchContext")
            .field("stored", &self.stored.is_some())
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}
