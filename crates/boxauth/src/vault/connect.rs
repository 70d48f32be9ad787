//! Connecting a user: the seed's `authorize_user` and `request_access_token` per user key, with a
//! `state` the vault signs for that user (any host of the app can complete it, and a callback
//! for another user, altered or too old is refused), and the import of a refresh token an app
//! already holds.

use std::sync::Arc;

use super::identity::seal;
use super::{Vault, check_user_key};
use crate::auth::oauth::Callback;
use crate::auth::{Authentication, AuthorizationRequest, AuthorizeOptions};
use crate::authorization::{AuthorizeUserArgs, RequestAccessTokenArgs};
use crate::error::{ConfigErrorKind, Error, Result};
use crate::secret::Token;
use crate::token::StoredToken;

impl Vault {
    /// Box's consent page for `user_key` (your app's ID of the signed-in user), with a `state`
    /// signed for that user, good for the state's lifetime (default 10 minutes). `options` gives
    /// the redirect URI, scopes and PKCE ([`AuthorizeOptions::pkce`], recommended); the vault
    /// makes the `state` (giving one is an error). With PKCE the verifier is derived from the
    /// state under the vault's key, so nothing is kept between the two calls and any host of the
    /// app completes the connection: [`complete_authorization`](Self::complete_authorization)
    /// sends it with the code.
    pub fn authorize_url(
        &self,
        user_key: &str,
        options: AuthorizeOptions,
    ) -> Result<AuthorizationRequest> {
        check_user_key(user_key)?;
        let oauth = self.oauth()?;
        if options.state.is_some() {
            return Err(Error::config_kind(
                ConfigErrorKind::Conflict,
                "the vault signs its own state for each user: leave AuthorizeOptions::state out",
            ));
        }
        let shared = &self.inner.shared;
        let expires = shared
            .now_millis()
            .saturating_add(super::identity::duration_millis(shared.settings.state_ttl));
        let (state, verifier) = shared.keys.sign_state(user_key, expires, options.pkce)?;
        let mut args = AuthorizeUserArgs::new(oauth.client_id.clone()).state(state.clone());
        if let Some(verifier) = &verifier {
            args = args.pkce(verifier);
        }
        args.redirect_uri = options.redirect_uri;
        args.scope = options.scope;
        Ok(AuthorizationRequest::new(
            shared.authorization.authorize_url(&args),
            state,
        ))
    }

    /// Completes `user_key`'s connection from Box's redirect (`callback`: the URL or its query):
    /// the `state` is checked for that user (give the user your app says is signed in, never one
    /// read from the callback), the code exchanged, and the identity stored, replacing an earlier
    /// one of the same key (a refresh of the old one cannot write over it). Returns its auth.
    pub async fn complete_authorization(
        &self,
        user_key: &str,
        callback: &str,
    ) -> Result<Arc<dyn Authentication>> {
        check_user_key(user_key)?;
        let oauth = self.oauth()?;
        let shared = &self.inner.shared;
        let callback = Callback::parse(callback);
        let state = callback.state.clone().unwrap_or_default();
        let verifier = shared
            .keys
            .verify_state(&state, user_key, shared.now_millis())?;
        let code = callback.code()?;
        let mut args = RequestAccessTokenArgs::authorization_code(
            oauth.client_id.clone(),
            oauth.client_secret.clone(),
            code,
        );
        args.code_verifier = verifier;
        let answer = shared.authorization.request_access_token(args).await?;
        let token = StoredToken::from_access_token(answer, shared.clock.now())?;
        self.store_new(user_key, &token).await
    }

    /// Imports `refresh_token`, a refresh token your app already holds for `user_key` (moving to
    /// boxauth): stored sealed, then spent once through the vault's protocol, so a token Box
    /// refuses is reported now (and the identity marked as needing its user). Returns its auth.
    pub async fn import(
        &self,
        user_key: &str,
        refresh_token: impl Into<Token>,
    ) -> Result<Arc<dyn Authentication>> {
        check_user_key(user_key)?;
        self.oauth()?;
        // No access token yet: one that expired at the epoch, so the first use refreshes.
        let token = StoredToken::new("", std::time::UNIX_EPOCH).with_refresh_token(refresh_token);
        let auth = self.store_new(user_key, &token).await?;
        auth.refresh_token().await?;
        Ok(auth)
    }

    /// Imports tokens your app already holds for `user_key` as they are (an access token with
    /// its expiry, and the refresh token): stored sealed, no request to Box. Returns its auth.
    pub async fn import_token(
        &self,
        user_key: &str,
        token: StoredToken,
    ) -> Result<Arc<dyn Authentication>> {
        check_user_key(user_key)?;
        self.oauth()?;
        self.store_new(user_key, &token).await
    }

    /// Stores a new identity under `user_key` and forgets a live one of the same key.
    async fn store_new(
        &self,
        user_key: &str,
        token: &StoredToken,
    ) -> Result<Arc<dyn Authentication>> {
        let shared = &self.inner.shared;
        let tokens = seal(shared, user_key, token)?;
        shared
            .engine
            .put(user_key, tokens, shared.now_millis())
            .await?;
        self.live().remove(user_key);
        self.auth(user_key)
    }
}
