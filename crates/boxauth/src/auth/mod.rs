//! The auth schemes, one trait: a developer token, OAuth 2.0, Client Credentials Grant, JWT.
//!
//! Every scheme hands out tokens through the same token manager: cached,
//! refreshed inside a margin before expiry, refreshed once however many tasks or processes ask, and
//! kept in the [`TokenStorage`] you choose.

mod ccg;
mod developer_token;
pub mod jwt;
mod oauth;

use std::sync::Arc;
use std::time::Duration;

pub use ccg::{CcgAuth, CcgConfig};
pub use developer_token::{DeveloperTokenAuth, DeveloperTokenConfig};
pub use oauth::{AuthorizationRequest, AuthorizeOptions, OAuth, OAuthConfig};

use crate::authorization::{AuthorizationManager, RequestAccessTokenArgs, RevokeAccessTokenArgs};
use crate::error::{Error, Result};
use crate::network::NetworkSession;
use crate::schemas::AccessToken;
use crate::secret::{AuthorizationHeader, ClientSecret, Token};
use crate::storage::{BoxFuture, MemoryStorage, StoredToken, TokenStorage};
use crate::token_manager::{DEFAULT_REFRESH_MARGIN, TokenManager, TokenSource};

/// What every auth scheme does: hand out a valid token, refresh it, revoke it, downscope it.
///
/// The methods return boxed futures so the trait can be used as `dyn Authentication`.
pub trait Authentication: Send + Sync + std::fmt::Debug {
    /// A valid access token: the cached one, or a fresh one if it expires within the margin.
    fn retrieve_token(&self) -> BoxFuture<'_, Result<Arc<StoredToken>>>;

    /// The cached token, if it is valid beyond the refresh margin: no I/O, no lock, no allocation
    /// beyond an `Arc` clone. `None` means [`retrieve_token`](Self::retrieve_token) has work to do.
    fn cached_token(&self) -> Option<Arc<StoredToken>> {
        None
    }

    /// A new access token now, unless another task or process replaced the current one already.
    fn refresh_token(&self) -> BoxFuture<'_, Result<Arc<StoredToken>>>;

    /// `Bearer <access token>`, for an `Authorization` header.
    fn authorization_header(&self) -> BoxFuture<'_, Result<AuthorizationHeader>> {
        Box::pin(async move {
            let token = self.retrieve_token().await?;
            let access = token
                .access_token
                .as_ref()
                .ok_or_else(missing_access_token)?;
            Ok(AuthorizationHeader::new(format!(
                "Bearer {}",
                access.secret()
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

    /// The session (URLs, retries, headers) this auth talks through.
    fn network_session(&self) -> &NetworkSession;
}

/// Whose token a server-side scheme (JWT, CCG) gets.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Settings every scheme shares: where to send requests, where to keep tokens, when to refresh.
#[derive(Debug, Clone)]
pub struct AuthOptions {
    /// The session (default: Box's URLs and retry policy).
    pub session: Option<NetworkSession>,
    /// The storage (default: memory).
    pub storage: Option<Arc<dyn TokenStorage>>,
    /// Refresh when less than this is left (default 60 s).
    pub refresh_margin: Duration,
}

impl Default for AuthOptions {
    fn default() -> Self {
        Self {
            session: None,
            storage: None,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
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
}

/// The parts every scheme has: the AuthorizationManager and the token manager.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) manager: AuthorizationManager,
    pub(crate) tokens: TokenManager,
    pub(crate) options: AuthOptions,
}

impl Core {
    pub(crate) fn new(options: AuthOptions) -> Result<Self> {
        let session = match &options.session {
            Some(session) => session.clone(),
            None => NetworkSession::new()?,
        };
        let storage = options
            .storage
            .clone()
            .unwrap_or_else(|| Arc::new(MemoryStorage::new()));
        Ok(Self {
            manager: AuthorizationManager::new(session),
            tokens: TokenManager::new(storage, options.refresh_margin),
            options,
        })
    }

    /// The same session and margin with fresh memory storage: for a scheme acting as another subject.
    pub(crate) fn sibling(&self) -> Result<Self> {
        Self::new(AuthOptions {
            session: Some(self.manager.network_session().clone()),
            storage: None,
            refresh_margin: self.options.refresh_margin,
        })
    }

    pub(crate) async fn downscope(
        &self,
        source: &dyn TokenSource,
        scopes: &[&str],
        resource: Option<&str>,
        shared_link: Option<&str>,
    ) -> Result<AccessToken> {
        if scopes.is_empty() {
            return Err(Error::config(
                "downscoping needs at least one scope, e.g. item_preview",
            ));
        }
        if resource.is_some() && shared_link.is_some() {
            return Err(Error::config(
                "downscope to a resource or to a shared link, not both",
            ));
        }
        let token = self.tokens.token(source).await?;
        let access = token
            .access_token
            .clone()
            .ok_or_else(missing_access_token)?;
        let mut args = RequestAccessTokenArgs::token_exchange(access, scopes.join(" "));
        args.resource = resource.map(str::to_owned);
        args.box_shared_link = shared_link.map(str::to_owned);
        self.manager.request_access_token(args).await
    }

    /// Revokes the current token (the access token, or the refresh token if that is all there
    /// is) with the app's credentials, then forgets it.
    pub(crate) async fn revoke(
        &self,
        client_id: Option<&str>,
        client_secret: Option<&ClientSecret>,
    ) -> Result<()> {
        if let Some(current) = self.tokens.current().await?
            && let Some(token) = current
                .access_token
                .clone()
                .or_else(|| current.refresh_token.clone())
        {
            let args = RevokeAccessTokenArgs {
                client_id: client_id.map(str::to_owned),
                client_secret: client_secret.cloned(),
                token: Some(token),
                ..RevokeAccessTokenArgs::default()
            };
            self.manager.revoke_access_token(args).await?;
        }
        self.tokens.clear().await
    }
}

pub(crate) fn missing_access_token() -> Error {
    Error::InvalidResponse(Box::new(crate::error::InvalidResponseError {
        status: 200,
        request_id: None,
        content_type: None,
        problem: "Box returned a token answer without access_token".into(),
        snippet: None,
        raw_body: String::new(),
    }))
}

/// Implements [`Authentication`] for a scheme whose inner type is a [`TokenSource`] with a `core`.
macro_rules! managed_authentication {
    ($outer:ty, revoke_with = |$inner:ident| ($id:expr, $secret:expr)) => {
        impl $crate::auth::Authentication for $outer {
            fn retrieve_token(
                &self,
            ) -> $crate::storage::BoxFuture<
                '_,
                $crate::Result<std::sync::Arc<$crate::storage::StoredToken>>,
            > {
                // The fast path boxes only a ready value, not the refresh state machine.
                if let Some(token) = self.inner.core.tokens.cached() {
                    return Box::pin(std::future::ready(Ok(token)));
                }
                Box::pin(async move { self.inner.core.tokens.token(&*self.inner).await })
            }

            fn cached_token(&self) -> Option<std::sync::Arc<$crate::storage::StoredToken>> {
                self.inner.core.tokens.cached()
            }

            fn refresh_token(
                &self,
            ) -> $crate::storage::BoxFuture<
                '_,
                $crate::Result<std::sync::Arc<$crate::storage::StoredToken>>,
            > {
                Box::pin(async move { self.inner.core.tokens.refresh(&*self.inner).await })
            }

            fn revoke_token(&self) -> $crate::storage::BoxFuture<'_, $crate::Result<()>> {
                Box::pin(async move {
                    let $inner = &*self.inner;
                    $inner.core.revoke($id, $secret).await
                })
            }

            fn downscope_token<'a>(
                &'a self,
                scopes: &'a [&'a str],
                resource: Option<&'a str>,
                shared_link: Option<&'a str>,
            ) -> $crate::storage::BoxFuture<'a, $crate::Result<$crate::AccessToken>> {
                Box::pin(async move {
                    self.inner
                        .core
                        .downscope(&*self.inner, scopes, resource, shared_link)
                        .await
                })
            }

            fn invalidate_token(&self, rejected: &$crate::Token) {
                self.inner.core.tokens.invalidate(rejected);
            }

            fn network_session(&self) -> &$crate::NetworkSession {
                self.inner.core.manager.network_session()
            }
        }
    };
}
pub(crate) use managed_authentication;
