//! One identity of a vault, handed out as an [`Authentication`](crate::Authentication).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::identity::{self, Cell, RowSource};
use super::{Inner, Vault};
use crate::auth::{Authentication, CachedAuth};
use crate::error::{Error, Result};
use crate::future::{BoxFuture, TokenFuture};
use crate::network::NetworkSession;
use crate::schemas::AccessToken;
use crate::secret::Token;
use crate::token::StoredToken;

/// One identity of a vault, as an [`Authentication`].
pub(super) struct VaultAuth {
    pub(super) auth: CachedAuth<RowSource>,
    pub(super) cell: Arc<Cell>,
    pub(super) vault: std::sync::Weak<Inner>,
    pub(super) user_key: String,
}

impl fmt::Debug for VaultAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultAuth")
            .field("user_key", &self.user_key)
            .finish_non_exhaustive()
    }
}

impl VaultAuth {
    /// A refusal, said as the vault recorded it (lost in flight is not the user's refusal).
    fn explained(&self, error: Error) -> Error {
        match (&error, self.cell.refused()) {
            (Error::ReauthorizationRequired(_), Some(reason)) => {
                match identity::needs_user(&self.user_key, reason) {
                    Error::ReauthorizationRequired(typed) => {
                        Error::ReauthorizationRequired(typed.with_source(error))
                    }
                    other => other,
                }
            }
            _ => error,
        }
    }
}

impl Authentication for VaultAuth {
    fn retrieve_token(&self) -> TokenFuture<'_> {
        if let Some(token) = self.auth.cached_token() {
            return TokenFuture::ready(Ok(token));
        }
        TokenFuture::boxed(async move {
            self.auth
                .retrieve_token()
                .await
                .map_err(|e| self.explained(e))
        })
    }

    fn cached_token(&self) -> Option<Arc<StoredToken>> {
        self.auth.cached_token()
    }

    fn refresh_token(&self) -> BoxFuture<'_, Result<Arc<StoredToken>>> {
        Box::pin(async move {
            self.auth
                .refresh_token()
                .await
                .map_err(|e| self.explained(e))
        })
    }

    /// Disconnects the identity ([`Vault::disconnect`]).
    fn revoke_token(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let inner = self
                .vault
                .upgrade()
                .ok_or_else(|| Error::config("the vault this identity came from was dropped"))?;
            Vault { inner }.disconnect(&self.user_key).await
        })
    }

    fn downscope_token<'a>(
        &'a self,
        scopes: &'a [&'a str],
        resource: Option<&'a str>,
        shared_link: Option<&'a str>,
    ) -> BoxFuture<'a, Result<AccessToken>> {
        self.auth.downscope_token(scopes, resource, shared_link)
    }

    fn invalidate_token(&self, rejected: &Token) {
        self.auth.invalidate_token(rejected);
    }

    fn network_session(&self) -> &NetworkSession {
        self.auth.network_session()
    }

    fn flush(
        &self,
        within: Duration,
    ) -> BoxFuture<'_, std::result::Result<(), crate::token_manager::Unconfirmed>> {
        self.auth.flush(within)
    }
}
