//! API calls with any auth scheme: the token is fetched, sent, and replaced once on a 401.

use std::sync::Arc;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::auth::Authentication;
use crate::error::{Error, Result};
use crate::network::{NetworkSession, Outgoing, parse_json_body};

/// A Box user, as `/2.0/users/me` returns it (the common fields; the rest is in `extra`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// The user's ID.
    pub id: String,
    /// Always `user`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The login (email address).
    #[serde(default)]
    pub login: Option<String>,
    /// `active`, `inactive`, …
    #[serde(default)]
    pub status: Option<String>,
    /// Every other field Box sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A small Box API client, for checking an identity and for the few calls boxauth itself needs
/// (`/2.0/users/me`, a `GET` of your own under `/2.0`): it sends an auth scheme's token
/// to `{base_url}/2.0/…`, and a 401 makes the scheme drop that token (only if it is still its
/// current one) and the call is sent once more with a new one.
///
/// It is not a Box SDK: it has no types for files, folders or the rest of Box's API. For those,
/// keep your own HTTP client and let boxauth add the token (`BoxAuthMiddleware` with the
/// `reqwest-middleware` feature, `BoxAuthLayer` with `tower`), or call
/// [`Authentication::authorization_header`] yourself.
///
/// ```no_run
/// # async fn run(auth: boxauth::CcgAuth) -> boxauth::Result<()> {
/// let client = boxauth::BoxClient::new(auth);
/// let me = client.users_me().await?;
/// let as_someone = client.with_as_user("22222").users_me().await?;
/// # let _ = (me, as_someone); Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BoxClient {
    auth: Arc<dyn Authentication>,
    session: NetworkSession,
    as_user: Option<String>,
}

impl BoxClient {
    /// A client sending through the scheme's own session.
    pub fn new(auth: impl Authentication + 'static) -> Self {
        Self::from_shared(Arc::new(auth))
    }

    /// A client for a shared scheme.
    pub fn from_shared(auth: Arc<dyn Authentication>) -> Self {
        let session = auth.network_session().clone();
        Self {
            auth,
            session,
            as_user: None,
        }
    }

    /// The same client acting as `user_id` (`As-User`): for admins and service accounts allowed
    /// to act as users.
    pub fn with_as_user(&self, user_id: impl Into<String>) -> Self {
        Self {
            as_user: Some(user_id.into()),
            ..self.clone()
        }
    }

    /// `GET {base_url}/2.0{path}` as JSON.
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value> {
        let token = match self.auth.cached_token() {
            Some(token) => token,
            None => self.auth.retrieve_token().await?,
        };
        match self.get(path, &token).await {
            Err(Error::Api(api)) if api.status == 401 => {
                tracing::debug!(path, "the API answered 401: replacing the token once");
                self.auth.invalidate_token(&token.access_token);
                let fresh = self.auth.retrieve_token().await?;
                self.get(path, &fresh).await
            }
            // `[insufficient-scope]`: the app may have gained the scope since this token.
            Err(Error::Api(api))
                if api.status == 403
                    && api.is("insufficient_scope")
                    && self.auth.invalidate_for_scope(&token.access_token) =>
            {
                let fresh = self.auth.retrieve_token().await?;
                self.get(path, &fresh).await
            }
            outcome => outcome,
        }
    }

    /// `GET /2.0/users/me`: who the token acts as.
    pub async fn users_me(&self) -> Result<User> {
        let value = self.get_json("/users/me").await?;
        serde_json::from_value(value).map_err(|e| {
            Error::InvalidResponse(Box::new(crate::error::InvalidResponseError {
                status: 200,
                request_id: None,
                content_type: Some("application/json".into()),
                problem: format!("Box's user answer has an unexpected shape: {e}"),
                snippet: None,
                raw_body: String::new(),
            }))
        })
    }

    async fn get(
        &self,
        path: &str,
        token: &crate::token::StoredToken,
    ) -> Result<serde_json::Value> {
        let mut headers = Vec::new();
        if let Some(user) = &self.as_user {
            headers.push(("As-User".to_owned(), user.clone()));
        }
        let incoming = self
            .session
            .send(Outgoing {
                method: Method::GET,
                url: self.session.urls().api_url(path),
                form: None,
                content_type: None,
                extra_headers: &headers,
                bearer: Some(token.access_token.secret()),
            })
            .await?;
        parse_json_body(&incoming)
    }
}
