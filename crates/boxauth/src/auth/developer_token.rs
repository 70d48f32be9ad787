//! A developer token: a fixed access token from the Developer Console, valid 60 minutes, never
//! refreshed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{AuthOptions, Authentication, downscope};
use crate::authorization::{AuthorizationManager, RevokeAccessTokenArgs};
use crate::error::{Error, Result};
use crate::future::{BoxFuture, TokenFuture};
use crate::network::NetworkSession;
use crate::schemas::AccessToken;
use crate::secret::{ClientSecret, Token};
use crate::time::{self, SharedTimeSource};
use crate::token::StoredToken;

/// A developer token lives 60 minutes from when it was generated (BOX-OAUTH2-BEHAVIOUR.md §5), so
/// it is certainly dead this long after boxauth was given it.
const DEVELOPER_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Auth with a developer token. When Box answers 401, or 60 minutes after the token was given
/// (developer tokens live no longer), calls fail with [`Error::DeveloperTokenExpired`], which
/// says to generate a new one. Nothing is stored: the token is fixed.
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
    manager: AuthorizationManager,
    clock: SharedTimeSource,
}

/// A developer token, and the app's credentials if it is to be revoked (Box needs them).
#[derive(Debug, Clone)]
#[non_exhaustive]
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

    /// With `options` (the session and the clock; storage and margin are not used: the token is
    /// fixed).
    pub fn with_options(config: DeveloperTokenConfig, options: AuthOptions) -> Result<Self> {
        let clock = options.time_source.clone();
        let mut token = StoredToken::new(
            config.token,
            time::saturating_add(clock.now(), DEVELOPER_TOKEN_LIFETIME),
        );
        token.expires_in = Some(DEVELOPER_TOKEN_LIFETIME.as_secs() as i64);
        Ok(Self {
            inner: Arc::new(Inner {
                token: Arc::new(token),
                client_id: config.client_id,
                client_secret: config.client_secret,
                refused: AtomicBool::new(false),
                manager: AuthorizationManager::new(options.session_or_default()?),
                clock,
            }),
        })
    }

    /// The token, unless Box refused it or it is older than a developer token lives.
    fn usable(&self) -> Option<&Arc<StoredToken>> {
        let token = &self.inner.token;
        (!self.inner.refused.load(Ordering::Relaxed)
            && token.is_valid_at(self.inner.clock.now(), Duration::ZERO))
        .then_some(token)
    }
}

impl Authentication for DeveloperTokenAuth {
    fn retrieve_token(&self) -> TokenFuture<'_> {
        TokenFuture::ready(self.usable().cloned().ok_or(Error::DeveloperTokenExpired))
    }

    fn cached_token(&self) -> Option<Arc<StoredToken>> {
        self.usable().cloned()
    }

    fn refresh_token(&self) -> BoxFuture<'_, Result<Arc<StoredToken>>> {
        Box::pin(async { Err(Error::DeveloperTokenExpired) })
    }

    fn revoke_token(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let args = RevokeAccessTokenArgs {
                client_id: self.inner.client_id.clone(),
                client_secret: self.inner.client_secret.clone(),
                token: Some(self.inner.token.access_token.clone()),
                ..RevokeAccessTokenArgs::default()
            };
            self.inner.manager.revoke_access_token(args).await?;
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
            let token = self.usable().ok_or(Error::DeveloperTokenExpired)?;
            downscope(
                &self.inner.manager,
                &token.access_token,
                scopes,
                resource,
                shared_link,
            )
            .await
        })
    }

    fn invalidate_token(&self, rejected: &Token) {
        if self.inner.token.has_access_token(rejected) {
            self.inner.refused.store(true, Ordering::Relaxed);
        }
    }

    fn network_session(&self) -> &NetworkSession {
        self.inner.manager.network_session()
    }
}
