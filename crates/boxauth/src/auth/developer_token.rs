//! A developer token: a fixed access token from the Developer Console, valid 60 minutes, never
//! refreshed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{AuthOptions, Authentication, Core};
use crate::error::{Error, Result};
use crate::network::NetworkSession;
use crate::schemas::{AccessToken, AccessTokenTokenType};
use crate::secret::{ClientSecret, Token};
use crate::storage::{BoxFuture, StoredToken};
use crate::token_manager::TokenSource;

/// Auth with a developer token. When Box answers 401, the next call fails with
/// [`Error::DeveloperTokenExpired`], which says to generate a new one.
#[derive(Debug, Clone)]
pub struct DeveloperTokenAuth {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    token: Arc<StoredToken>,
    client_id: Option<String>,
    client_secret: Option<ClientSecret>,
    refused: AtomicBool,
    core: Core,
}

impl TokenSource for Inner {
    fn fetch<'a>(&'a self, _stored: Option<&'a StoredToken>) -> BoxFuture<'a, Result<AccessToken>> {
        Box::pin(async { Err(Error::DeveloperTokenExpired) })
    }
}

/// A developer token, and the app's credentials if it is to be revoked (Box needs them).
#[derive(Debug, Clone)]
pub struct DeveloperTokenConfig {
    /// The developer token.
    pub token: Token,
    /// The app's client ID (for revoking).
    pub client_id: Option<String>,
    /// The app's client secret (for revoking).
    pub client_secret: Option<ClientSecret>,
}

impl DeveloperTokenConfig {
    /// Just the token.
    pub fn new(token: impl Into<Token>) -> Self {
        Self {
            token: token.into(),
            client_id: None,
            client_secret: None,
        }
    }

    /// With the app's client ID and secret, so the token can be revoked.
    pub fn client_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<ClientSecret>,
    ) -> Self {
        self.client_id = Some(client_id.into());
        self.client_secret = Some(client_secret.into());
        self
    }
}

impl DeveloperTokenAuth {
    /// Auth with `token`, sent as it is.
    pub fn new(token: impl Into<Token>) -> Result<Self> {
        Self::with_options(DeveloperTokenConfig::new(token), AuthOptions::default())
    }

    /// With `options` (the session; storage is not used: the token is fixed).
    pub fn with_options(config: DeveloperTokenConfig, options: AuthOptions) -> Result<Self> {
        let token = Arc::new(StoredToken {
            token: AccessToken {
                access_token: Some(config.token),
                token_type: Some(AccessTokenTokenType::Bearer),
                ..AccessToken::default()
            },
            expires_at: None,
        });
        Ok(Self {
            inner: Arc::new(Inner {
                token,
                client_id: config.client_id,
                client_secret: config.client_secret,
                refused: AtomicBool::new(false),
                core: Core::new(options)?,
            }),
        })
    }
}

impl Authentication for DeveloperTokenAuth {
    fn retrieve_token(&self) -> BoxFuture<'_, Result<Arc<StoredToken>>> {
        let outcome = if self.inner.refused.load(Ordering::Relaxed) {
            Err(Error::DeveloperTokenExpired)
        } else {
            Ok(self.inner.token.clone())
        };
        Box::pin(async move { outcome })
    }

    fn cached_token(&self) -> Option<Arc<StoredToken>> {
        (!self.inner.refused.load(Ordering::Relaxed)).then(|| self.inner.token.clone())
    }

    fn refresh_token(&self) -> BoxFuture<'_, Result<Arc<StoredToken>>> {
        Box::pin(async { Err(Error::DeveloperTokenExpired) })
    }

    fn revoke_token(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let token = self.inner.token.access_token.clone();
            let args = crate::RevokeAccessTokenArgs {
                client_id: self.inner.client_id.clone(),
                client_secret: self.inner.client_secret.clone(),
                token,
                ..Default::default()
            };
            self.inner.core.manager.revoke_access_token(args).await?;
            self.inner.refused.store(true, Ordering::Relaxed);
            Ok(())
        })
    }

    fn downscope_token<'a>(
        &'a self,
        scopes: &'a [&'a str],
        resource: Option<&'a str>,
        shared_link: Option<&'a str>,
    ) -> BoxFuture<'a, Result<AccessToken>> {
        Box::pin(async move {
            if self.inner.refused.load(Ordering::Relaxed) {
                return Err(Error::DeveloperTokenExpired);
            }
            self.inner
                .core
                .tokens
                .set(self.inner.token.token.clone())
                .await?;
            self.inner
                .core
                .downscope(&*self.inner, scopes, resource, shared_link)
                .await
        })
    }

    fn invalidate_token(&self, rejected: &Token) {
        if self.inner.token.has_access_token(rejected) {
            self.inner.refused.store(true, Ordering::Relaxed);
        }
    }

    fn network_session(&self) -> &NetworkSession {
        self.inner.core.manager.network_session()
    }
}
