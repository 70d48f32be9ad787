//! The cache layer over any [`TokenSource`], written once: every Box scheme is one of these, and
//! so is a user's own.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{AuthOptions, Authentication, downscope};
use crate::authorization::{AuthorizationManager, RevokeAccessTokenArgs};
use crate::error::Result;
use crate::future::{BoxFuture, TokenFuture};
use crate::network::NetworkSession;
use crate::schemas::AccessToken;
use crate::secret::Token;
use crate::source::TokenSource;
use crate::storage::MemoryStorage;
use crate::token::StoredToken;
use crate::token_manager::{Settings, TokenManager, Unconfirmed};

/// An [`Authentication`] over a [`TokenSource`]: the source says how to fetch a token; this adds
/// the cache, refresh inside the margin, one refresh for every caller (and for every process
/// sharing the storage), back-off while the source fails, storage and 401 handling.
///
/// Box's schemes are this type: [`CcgAuth`](crate::CcgAuth) is `CachedAuth<CcgConfig>`,
/// [`OAuth`](crate::OAuth) is `CachedAuth<OAuthConfig>`, [`JwtAuth`](crate::JwtAuth) is
/// `CachedAuth<JwtSource>`. Cloning is cheap and shares the cache and storage.
///
/// # The refresh protocol
///
/// Every token boxauth hands out is kept by these rules. This is their one statement; the code
/// and the tests name them (`[one-flight]`).
///
/// **Serving a token**
///
/// - `[fast-path]` A cached token valid beyond the margin ([`AuthOptions::refresh_margin`],
///   default 60 s, never more than half the token's lifetime) is returned at once: no lock, no
///   allocation.
/// - `[refresh-ahead]` Inside the margin but not expired, it is returned at once too, and one
///   refresh starts in the background for everyone. Nobody waits for a refresh while the token
///   they hold is valid.
/// - `[one-flight]` Expired, missing, or refused by a 401: callers join the one refresh in flight
///   (or start it), and every one of them gets its outcome, success or error. The refresh runs
///   as a task of its own: a caller that gives up cannot cut it short between Box rotating a
///   refresh token and the new one being stored.
/// - `[stale-401]` A 401 on an API call with token T drops T only if T is still the current
///   token (and T is never handed out again).
/// - `[insufficient-scope]` A `403 insufficient_scope` on an API call with token T drops T as
///   a 401 does, when the source mints tokens with the app's current scopes (JWT, CCG:
///   [`TokenSource::scopes_follow_the_app`]), so scopes added in the Developer Console are
///   picked up as Box tells its CLI's users to do by hand; at most once in 10 minutes on the
///   auth's clock: a new token refused too lacks the scope for good, and is kept.
///
/// **Inside a refresh**
///
/// - `[read-before-lock]` With nothing cached (a process's first call), storage is read first,
///   without the lock: a usable token there is taken as it is, at the cost of one read.
/// - `[lock-then-reread]` The storage's lock (a file lock on one host, a Redis lock across
///   hosts), then storage is re-read: if another process refreshed meanwhile, its token is used.
/// - `[store-before-use]` Otherwise a fresh token is fetched and stored durably before anyone
///   gets it, so a crash at any point loses no usable token. A write storage refuses is an
///   error, and that token is not handed out.
/// - `[unconfirmed-write]` A write whose fate is unknown (storage stopped answering mid-write,
///   or was still failing over when its failover wait ran out) or that storage kept without the
///   replicas it was asked for (Redis `WAIT`: a failover could lose it) is not refused: the
///   token is already fetched, and for OAuth the refresh token that bought it is spent. It is
///   served from memory and written again: while storage lacks it, it is rewritten under the
///   lock (a flight that kept its lock rewrites through it, so nobody else refreshes
///   meanwhile), and every flight of this process writes it first; once storage holds it, it is
///   watched for a minute more (on the auth's clock) for a failover that loses it; once storage
///   holds a newer token, it is dropped. A process that exits meanwhile takes the only copy
///   with it, unless it flushes first (`[flush]`).
/// - `[flush]` [`flush`](Authentication::flush) writes such a token again now, under the lock,
///   until storage confirms it (with its replicas) or the time given has passed (a write under
///   way then finishes and releases the lock, never left to its TTL), and reports
///   what is still unconfirmed ([`Unconfirmed`](crate::Unconfirmed): its cause, and whether it
///   carries a refresh token). Call it before a process exits; the CLI does, and a server
///   should on shutdown.
/// - `[invalid-grant-reread]` `invalid_grant` on a refresh that spends a stored refresh token
///   (OAuth 2.0): storage is re-read once (another process may have rotated it) and the refresh
///   retried with what is there; if that fails too, [`Error::ReauthorizationRequired`](crate::Error::ReauthorizationRequired).
///
/// **When Box fails**
///
/// - `[backoff-with-token]` After a failed refresh, no new one starts for the back-off interval
///   ([`AuthOptions::refresh_backoff`], default 30 s, lengthened at random by up to half so a
///   fleet does not retry in step) while a valid token exists; that token keeps being served.
/// - `[backoff-without-token]` Without a valid token, callers share one attempt at a time.
///   Between attempts they get the last attempt's error at once instead of queueing; the wait
///   between attempts starts at 1 s and doubles up to the back-off interval.
/// - `[retry-after]` A `Retry-After` from Box lengthens both waits to what it asks (up to 10
///   minutes).
/// - `[forced-refresh]` [`refresh_token`](Authentication::refresh_token) joins a refresh in
///   flight, ignores the back-off, and reports a failure even when a valid token remains.
///
/// Every expiry and every wait above is decided on [`AuthOptions::time_source`]. With the
/// session's default retries (5 attempts from 1 s), one failed refresh is about 15 s of
/// retrying: Box sees those requests once per interval, not once per caller
/// (`benches/outage.rs` measures it).
pub struct CachedAuth<S> {
    inner: Arc<Inner<S>>,
}

struct Inner<S> {
    source: Arc<S>,
    tokens: Arc<TokenManager>,
    options: AuthOptions,
    /// When a token was last dropped for `insufficient_scope` (`[insufficient-scope]`).
    scope_drop: std::sync::Mutex<Option<std::time::SystemTime>>,
}

/// `[insufficient-scope]`: no second drop within this long of the first.
const SCOPE_DROP_INTERVAL: Duration = Duration::from_secs(600);

impl<S> Clone for CachedAuth<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for CachedAuth<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedAuth")
            .field("source", &self.inner.source)
            .field("tokens", &self.inner.tokens)
            .finish()
    }
}

impl<S: TokenSource + 'static> CachedAuth<S> {
    /// Tokens from `source`, with `options` (session, storage, margin, clock). A token already in
    /// the storage is used while it is valid.
    pub fn from_source(source: S, options: AuthOptions) -> Result<Self> {
        let source = Arc::new(source);
        let storage = options
            .storage
            .clone()
            .unwrap_or_else(|| Arc::new(MemoryStorage::new()));
        let tokens = TokenManager::new(
            source.clone(),
            AuthorizationManager::new(options.session_or_default()?),
            Settings {
                clock: options.time_source.clone(),
                storage,
                margin: options.refresh_margin,
                backoff: options.refresh_backoff,
            },
        );
        Ok(Self {
            inner: Arc::new(Inner {
                source,
                tokens: Arc::new(tokens),
                options,
                scope_drop: std::sync::Mutex::new(None),
            }),
        })
    }

    /// The source tokens come from.
    pub fn source(&self) -> &S {
        &self.inner.source
    }

    /// The options this auth was made with.
    pub fn options(&self) -> &AuthOptions {
        &self.inner.options
    }

    /// The same session, margin and clock over another source, with its own memory storage: for
    /// the same app acting as another subject.
    pub(crate) fn sibling(&self, source: S) -> Result<Self> {
        let mut options = self.inner.options.clone();
        options.session = Some(self.network_session().clone());
        options.storage = None;
        Self::from_source(source, options)
    }

    pub(crate) fn tokens(&self) -> &TokenManager {
        &self.inner.tokens
    }
}

impl<S: TokenSource + 'static> Authentication for CachedAuth<S> {
    fn retrieve_token(&self) -> TokenFuture<'_> {
        if let Some(token) = self.inner.tokens.cached() {
            return TokenFuture::ready(Ok(token));
        }
        TokenFuture::boxed(self.inner.tokens.token())
    }

    fn cached_token(&self) -> Option<Arc<StoredToken>> {
        self.inner.tokens.cached()
    }

    fn refresh_token(&self) -> BoxFuture<'_, Result<Arc<StoredToken>>> {
        Box::pin(self.inner.tokens.refresh())
    }

    fn revoke_token(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let tokens = &self.inner.tokens;
            if let Some(current) = tokens.current().await? {
                // Box's SDKs revoke the access token: the pair dies with it.
                let (client_id, client_secret) = self
                    .inner
                    .source
                    .client_credentials()
                    .map_or((None, None), |(id, secret)| {
                        (Some(id.to_owned()), Some(secret.clone()))
                    });
                let args = RevokeAccessTokenArgs {
                    client_id,
                    client_secret,
                    token: Some(current.access_token.clone()),
                    ..RevokeAccessTokenArgs::default()
                };
                tokens
                    .authorization_manager()
                    .revoke_access_token(args)
                    .await?;
            }
            tokens.clear().await
        })
    }

    fn downscope_token<'a>(
        &'a self,
        scopes: &'a [&'a str],
        resource: Option<&'a str>,
        shared_link: Option<&'a str>,
    ) -> BoxFuture<'a, Result<AccessToken>> {
        Box::pin(async move {
            let token = self.retrieve_token().await?;
            downscope(
                self.inner.tokens.authorization_manager(),
                &token.access_token,
                scopes,
                resource,
                shared_link,
            )
            .await
        })
    }

    fn invalidate_token(&self, rejected: &Token) {
        self.inner.tokens.invalidate(rejected);
    }

    fn invalidate_for_scope(&self, rejected: &Token) -> bool {
        if !self.inner.source.scopes_follow_the_app() {
            return false;
        }
        let now = self.inner.options.time_source.now();
        let mut last = self
            .inner
            .scope_drop
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|at| now.duration_since(at).unwrap_or_default() < SCOPE_DROP_INTERVAL) {
            return false;
        }
        *last = Some(now);
        tracing::info!(
            "Box answered 403 insufficient_scope: dropping the token once, so a new one carries \
             the app's current scopes"
        );
        self.inner.tokens.invalidate(rejected);
        true
    }

    fn network_session(&self) -> &NetworkSession {
        self.inner.tokens.authorization_manager().network_session()
    }

    fn flush(&self, within: Duration) -> BoxFuture<'_, std::result::Result<(), Unconfirmed>> {
        Box::pin(self.inner.tokens.flush(within))
    }
}
