//! [`BoxAuthMiddleware`]: Box tokens for a `reqwest_middleware::ClientWithMiddleware`.

use std::sync::Arc;

use reqwest_middleware::{Middleware, Next};

use super::Credentials;
use crate::auth::Authentication;
use crate::error::Result;

/// A `reqwest_middleware::Middleware` that sends every request with a Box token from `auth`, and
/// on a 401 invalidates that token and sends the request once more with a fresh one (unless its
/// body is a stream, which cannot be sent twice).
///
/// ```no_run
/// # async fn run(auth: std::sync::Arc<dyn boxauth::Authentication>) -> Result<(), Box<dyn std::error::Error>> {
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(boxauth::BoxAuthMiddleware::new(auth))
///     .build();
/// let me = client.get("https://api.box.com/2.0/users/me").send().await?.text().await?;
/// # let _ = me; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BoxAuthMiddleware {
    credentials: Credentials,
}

impl BoxAuthMiddleware {
    /// Tokens from `auth`.
    pub fn new(auth: Arc<dyn Authentication>) -> Self {
        Self {
            credentials: Credentials::new(auth),
        }
    }

    /// Also sends `As-User: <user_id>` (for admins and service accounts allowed to act as users).
    pub fn with_as_user(self, user_id: &str) -> Result<Self> {
        Ok(Self {
            credentials: self.credentials.with_as_user(user_id)?,
        })
    }
}

fn failed(error: crate::Error) -> reqwest_middleware::Error {
    reqwest_middleware::Error::Middleware(error.into())
}

#[async_trait::async_trait]
impl Middleware for BoxAuthMiddleware {
    async fn handle(
        &self,
        mut request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        if Credentials::chosen_by_caller(request.headers()) {
            return next.run(request, extensions).await;
        }
        let auth = &self.credentials.auth;
        let token = auth.retrieve_token().await.map_err(failed)?;
        // Kept before sending: a request whose body is a stream has no copy and is sent once.
        let again = request.try_clone();
        self.credentials
            .apply(request.headers_mut(), &token)
            .map_err(failed)?;
        let response = next.clone().run(request, extensions).await?;
        if !super::retry_with_a_new_token(
            &**auth,
            &token,
            response.status().as_u16(),
            response.headers(),
        ) {
            return Ok(response);
        }
        let Some(mut again) = again else {
            tracing::debug!("401 on a request with a streaming body: not sent again");
            return Ok(response);
        };
        tracing::debug!("401: sending the request once more with a new token");
        let fresh = auth.retrieve_token().await.map_err(failed)?;
        self.credentials
            .apply(again.headers_mut(), &fresh)
            .map_err(failed)?;
        next.run(again, extensions).await
    }
}
