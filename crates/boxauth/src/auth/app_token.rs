//! App Token auth (Box View and other limited-access apps): two long-lived tokens from the
//! Developer Console, a primary and a secondary, rotated one at a time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwapOption;

use super::{AuthOptions, Authentication, downscope};
use crate::authorization::AuthorizationManager;
use crate::error::{Error, Result};
use crate::future::{BoxFuture, TokenFuture};
use crate::network::NetworkSession;
use crate::schemas::AccessToken;
use crate::secret::Token;
use crate::time::{self, SharedTimeSource};
use crate::token::StoredToken;

/// An App Token is valid until it is revoked or rotated in the Developer Console (or until an
/// expiry chosen there, which Box does not tell the app): its `StoredToken` says this far ahead,
/// and a 401 is what ends it.
const APP_TOKEN_HORIZON: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// An app's App Tokens: the primary, and the secondary to fall back on while the primary is
/// rotated.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AppTokenConfig {
    /// The primary App Token.
    pub primary: Token,
    /// The secondary App Token, used once Box refuses the primary.
    pub secondary: Option<Token>,
}

impl AppTokenConfig {
    /// The primary token alone.
    pub fn new(primary: impl Into<Token>) -> Self {
        Self {
            primary: primary.into(),
            secondary: None,
        }
    }

    /// With a secondary token to fall back on.
    pub fn secondary(mut self, secondary: impl Into<Token>) -> Self {
        self.secondary = Some(secondary.into());
        self
    }
}

/// Auth with an app's App Tokens: the primary is sent until Box answers 401 for it, then the
/// secondary (the switch is logged once, as a warning). Box refusing both gives
/// [`Error::AppTokensRefused`]. Rotating needs no restart: give the new token to
/// [`set_primary`](Self::set_primary) or [`set_secondary`](Self::set_secondary) and it is used
/// from the next call. Nothing is stored: the tokens are fixed until replaced. Cloning shares
/// the tokens.
///
/// ```no_run
/// # async fn run() -> boxauth::Result<()> {
/// use boxauth::{AppTokenAuth, AppTokenConfig, Authentication, BoxClient};
///
/// let auth = AppTokenAuth::new(AppTokenConfig::new("primary-token").secondary("secondary-token"))?;
/// let me = BoxClient::new(auth.clone()).users_me().await?; // a 401 moves to the secondary
/// let preview = auth
///     .downscope_token(&["item_preview"], Some("https://api.box.com/2.0/files/123"), None)
///     .await?;
/// auth.set_primary("the-regenerated-primary"); // after rotating it in the Developer Console
/// # let _ = (me, preview); Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AppTokenAuth {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The token handed out: the primary until Box refuses it, then the secondary; none once
    /// both are refused.
    current: ArcSwapOption<StoredToken>,
    slots: Mutex<Slots>,
    manager: AuthorizationManager,
    clock: SharedTimeSource,
}

#[derive(Debug)]
struct Slot {
    token: Arc<StoredToken>,
    refused: bool,
}

#[derive(Debug)]
struct Slots {
    primary: Slot,
    secondary: Option<Slot>,
}

impl Slots {
    /// The first token Box has not refused.
    fn usable(&self) -> Option<Arc<StoredToken>> {
        std::iter::once(&self.primary)
            .chain(self.secondary.as_ref())
            .find(|slot| !slot.refused)
            .map(|slot| slot.token.clone())
    }
}

impl AppTokenAuth {
    /// Auth with `config`'s tokens, on Box's default session.
    pub fn new(config: AppTokenConfig) -> Result<Self> {
        Self::with_options(config, AuthOptions::default())
    }

    /// With `options` (the session and the clock; storage and margin are not used: the tokens
    /// are fixed).
    pub fn with_options(config: AppTokenConfig, options: AuthOptions) -> Result<Self> {
        let clock = options.time_source.clone();
        let slot = |token: Token| Slot {
            token: Arc::new(StoredToken::new(
                token,
                time::saturating_add(clock.now(), APP_TOKEN_HORIZON),
            )),
            refused: false,
        };
        let slots = Slots {
            primary: slot(config.primary),
            secondary: config.secondary.map(slot),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                current: ArcSwapOption::new(slots.usable()),
                slots: Mutex::new(slots),
                manager: AuthorizationManager::new(options.session_or_default()?),
                clock,
            }),
        })
    }

    /// Replaces the primary token (rotated in the Developer Console): it is used from the next
    /// call on, whatever happened to the one before.
    pub fn set_primary(&self, token: impl Into<Token>) {
        let token = self.stored(token.into());
        self.update(|slots| {
            slots.primary = Slot {
                token,
                refused: false,
            }
        });
    }

    /// Replaces the secondary token (rotated in the Developer Console), or gives one.
    pub fn set_secondary(&self, token: impl Into<Token>) {
        let token = self.stored(token.into());
        self.update(|slots| {
            slots.secondary = Some(Slot {
                token,
                refused: false,
            })
        });
    }

    /// Whether the secondary token is the one in use (Box refused the primary).
    pub fn using_secondary(&self) -> bool {
        let slots = self.slots();
        slots.primary.refused && slots.secondary.as_ref().is_some_and(|s| !s.refused)
    }

    fn stored(&self, token: Token) -> Arc<StoredToken> {
        Arc::new(StoredToken::new(
            token,
            time::saturating_add(self.inner.clock.now(), APP_TOKEN_HORIZON),
        ))
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.inner.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the slots and publishes the token to hand out, under the lock.
    fn update(&self, change: impl FnOnce(&mut Slots)) {
        let mut slots = self.slots();
        change(&mut slots);
        self.inner.current.store(slots.usable());
    }

    fn usable(&self) -> Result<Arc<StoredToken>> {
        self.inner
            .current
            .load_full()
            .ok_or(Error::AppTokensRefused)
    }
}

impl Authentication for AppTokenAuth {
    fn retrieve_token(&self) -> TokenFuture<'_> {
        TokenFuture::ready(self.usable())
    }

    fn cached_token(&self) -> Option<Arc<StoredToken>> {
        self.inner.current.load_full()
    }

    /// There is nothing to refresh: the token in use, or [`Error::AppTokensRefused`].
    fn refresh_token(&self) -> BoxFuture<'_, Result<Arc<StoredToken>>> {
        Box::pin(async move { self.usable() })
    }

    /// App Tokens are revoked in the Developer Console, not through the API: always an error
    /// saying so.
    fn revoke_token(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async {
            Err(Error::config(
                "App Tokens are revoked in the Developer Console (your app → Configuration → App \
                 Tokens), not through the API",
            ))
        })
    }

    fn downscope_token<'a>(
        &'a self,
        scopes: &'a [&'a str],
        resource: Option<&'a str>,
        shared_link: Option<&'a str>,
    ) -> BoxFuture<'a, Result<AccessToken>> {
        Box::pin(async move {
            let token = self.usable()?;
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

    /// Box refused `rejected`: if it is the primary, the secondary is used from now on (logged
    /// once); if it is the secondary too, both are refused until one is replaced.
    fn invalidate_token(&self, rejected: &Token) {
        self.update(|slots| {
            if slots.primary.token.has_access_token(rejected) && !slots.primary.refused {
                slots.primary.refused = true;
                match &slots.secondary {
                    Some(secondary) if !secondary.refused => tracing::warn!(
                        "Box refused the primary App Token (401): using the secondary from now on; \
                         give the regenerated primary to AppTokenAuth::set_primary"
                    ),
                    _ => tracing::warn!(
                        "Box refused the primary App Token (401), and there is no usable secondary"
                    ),
                }
            }
            if let Some(secondary) = slots.secondary.as_mut()
                && secondary.token.has_access_token(rejected)
                && !secondary.refused
            {
                secondary.refused = true;
                tracing::warn!("Box refused the secondary App Token (401)");
            }
        });
    }

    fn network_session(&self) -> &NetworkSession {
        self.inner.manager.network_session()
    }
}
