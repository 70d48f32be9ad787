//! The cache layer over any [`TokenSource`], written once: every Box scheme is one of these, and
//! so is a user's own.

use std::fmt;
use std::sync::Arc;

use super::{Settings, TokenManager, TokenSource};
use crate::auth::{AuthOptions, Authentication, downscope};
use crate::authorization::{AuthorizationManager, RevokeAccessTokenArgs};
use crate::error::Result;
use crate::future::{BoxFuture, TokenFuture};
use crate::network::NetworkSession;
use crate::schemas::AccessToken;
use crate::secret::Token;
use crate::storage::MemoryStorage;
use crate::token::StoredToken;

/// An [`Authentication`] over a [`TokenSource`]: the source says how to fetch a token; this adds
/// the cache, refresh inside the margin, one refresh for every caller (and for every process
/// sharing the storage), back-off while the source fails, storage and 401 handling.
///
/// Box's schemes are this type: [`CcgAuth`](crate::CcgAuth) is `CachedAuth<CcgConfig>`,
/// [`OAuth`](crate::OAuth) is `CachedAuth<OAuthConfig>`, [`JwtAuth`](crate::JwtAuth) is
/// `CachedAuth<JwtSource>`. Cloning is cheap and shares the cache and storage.
pub struct CachedAuth<S> {
    inner: Arc<Inner<S>>,
}

struct Inner<S> {
    source: Arc<S>,
    tokens: Arc<TokenManager>,
    options: AuthOptions,
}

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

    fn network_session(&self) -> &NetworkSession {
        self.inner.tokens.authorization_manager().network_session()
    }
}
