//! Annotator tokens (Box's annotator-token guide): a token exchange with an `actor_token` that
//! names an external user of your app (someone without a Box account), so Box Preview shows
//! their annotations under their name.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::json;

use super::Authentication;
use crate::authorization::{
    AuthorizationManager, RequestAccessTokenActorTokenType, RequestAccessTokenArgs,
};
use crate::error::{ConfigErrorKind, Error, Result};
use crate::schemas::AccessToken;
use crate::secret::Assertion;

/// How long an actor token is good for: Box's Node SDK uses one minute; the emulator, as Box
/// does for assertions, takes at most 60 s.
const ACTOR_TOKEN_LIFETIME: Duration = Duration::from_secs(30);

/// An annotator's actor token: an unsigned JWT (`alg: none`, as Box's SDKs build it) with the
/// claims Box's guide lists: `iss` (your client ID), `sub` (your own ID for the external user),
/// `name` (the name shown on annotations), `box_sub_type: external`, `aud`, `jti`, `exp`.
///
/// ```no_run
/// # async fn run(auth: &dyn boxauth::Authentication) -> boxauth::Result<()> {
/// use boxauth::ActorToken;
///
/// let annotator = ActorToken::new("client-id", "customer-42", "Ada Lovelace");
/// let token = annotator
///     .exchange(auth, &["item_preview", "annotation_edit"], "https://api.box.com/2.0/files/123")
///     .await?;
/// # let _ = token; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ActorToken {
    client_id: String,
    external_user_id: String,
    display_name: String,
}

impl ActorToken {
    /// The external user `external_user_id` (your app's ID for them), shown as `display_name`,
    /// of the app `client_id`.
    pub fn new(
        client_id: impl Into<String>,
        external_user_id: impl Into<String>,
        display_name: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            external_user_id: external_user_id.into(),
            display_name: display_name.into(),
        }
    }

    /// The actor token as of `now` (valid 30 s).
    pub fn build(&self, now: SystemTime) -> Result<Assertion> {
        if self.external_user_id.trim().is_empty() || self.display_name.trim().is_empty() {
            return Err(Error::config_kind(
                ConfigErrorKind::Missing,
                "an annotator needs an external user ID and a display name",
            ));
        }
        let exp = (now + ACTOR_TOKEN_LIFETIME)
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let header = json!({"alg": "none", "typ": "JWT"});
        let claims = json!({
            "iss": self.client_id,
            "sub": self.external_user_id,
            "name": self.display_name,
            "box_sub_type": "external",
            "aud": super::jwt::assertion::AUDIENCE,
            "jti": super::jwt::assertion::uuid_v4(),
            "exp": exp,
        });
        let part = |value: &serde_json::Value| {
            Base64UrlUnpadded::encode_string(value.to_string().as_bytes())
        };
        Ok(Assertion::new(format!(
            "{}.{}.",
            part(&header),
            part(&claims)
        )))
    }

    /// An annotator token: `auth`'s token exchanged for one limited to `scopes` on `resource`
    /// (a file's API URL), acting for this external user. No refresh token: exchange again.
    pub async fn exchange(
        &self,
        auth: &dyn Authentication,
        scopes: &[&str],
        resource: &str,
    ) -> Result<AccessToken> {
        if scopes.is_empty() {
            return Err(Error::config_kind(
                ConfigErrorKind::Missing,
                "an annotator token needs at least one scope, e.g. item_preview",
            ));
        }
        let subject = auth.retrieve_token().await?;
        // The system clock: Box checks `exp` against its own (the trait carries no clock).
        let now = SystemTime::now();
        let args =
            RequestAccessTokenArgs::token_exchange(subject.access_token.clone(), scopes.join(" "))
                .resource(resource)
                .actor_token(self.build(now)?)
                .actor_token_type(RequestAccessTokenActorTokenType::IdToken);
        AuthorizationManager::new(auth.network_session().clone())
            .request_access_token(args)
            .await
    }
}
