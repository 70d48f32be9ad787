//! boxauth in your own HTTP stack: the token of any [`Authentication`] added to every request,
//! and a 401 answered by one refresh and one retry (when the request can be sent twice).
//!
//! - [`BoxAuthMiddleware`] (feature `reqwest-middleware`): a `reqwest_middleware::Middleware`.
//! - [`BoxAuthLayer`] (feature `tower`): a `tower::Layer` over any `http::Request<B>` service.
//!
//! Both set `Authorization: Bearer …` (marked sensitive, so HTTP stacks that log headers hide
//! it) unless the request carries an `Authorization` of its own, and `As-User` when asked to.
//! Neither logs a token. A request whose body is a stream cannot be sent twice: its 401 is
//! returned as it is (the token is still invalidated, so the next request gets a new one).

#[cfg(feature = "reqwest-middleware")]
mod reqwest_middleware;
#[cfg(feature = "tower")]
mod tower;

use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue};

#[cfg(feature = "reqwest-middleware")]
pub use self::reqwest_middleware::BoxAuthMiddleware;
#[cfg(feature = "tower")]
pub use self::tower::{BoxAuthLayer, BoxAuthService, CloneBody};

use crate::auth::Authentication;
use crate::error::{Error, Result};
use crate::token::StoredToken;

/// Whether an answer with `status` and `headers` to a request sent with `token` is worth
/// sending again with a new token: a 401 (the token is dropped, `[stale-401]`), or a 403 whose
/// `WWW-Authenticate` says `insufficient_scope` when the auth drops the token for it
/// (`[insufficient-scope]`).
fn retry_with_a_new_token(
    auth: &dyn Authentication,
    token: &StoredToken,
    status: u16,
    headers: &HeaderMap,
) -> bool {
    match status {
        401 => {
            auth.invalidate_token(&token.access_token);
            true
        }
        403 => {
            let insufficient_scope = headers
                .get_all(http::header::WWW_AUTHENTICATE)
                .iter()
                .any(|v| v.to_str().is_ok_and(|v| v.contains("insufficient_scope")));
            insufficient_scope && auth.invalidate_for_scope(&token.access_token)
        }
        _ => false,
    }
}

/// What both middlewares add to a request.
#[derive(Clone)]
struct Credentials {
    auth: Arc<dyn Authentication>,
    as_user: Option<HeaderValue>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("auth", &self.auth)
            .field("as_user", &self.as_user)
            .finish()
    }
}

impl Credentials {
    fn new(auth: Arc<dyn Authentication>) -> Self {
        Self {
            auth,
            as_user: None,
        }
    }

    fn with_as_user(mut self, user_id: &str) -> Result<Self> {
        self.as_user = Some(HeaderValue::from_str(user_id).map_err(|_| {
            Error::config(format!(
                "{user_id:?} is not a Box user ID: As-User takes the user's numeric ID"
            ))
        })?);
        Ok(self)
    }

    /// Whether the caller set `Authorization` itself: then the request is left alone.
    fn chosen_by_caller(headers: &HeaderMap) -> bool {
        headers.contains_key(http::header::AUTHORIZATION)
    }

    /// Sets `Authorization: Bearer <token>` (sensitive) and `As-User`.
    fn apply(&self, headers: &mut HeaderMap, token: &StoredToken) -> Result<()> {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", token.access_token.secret()))
            .map_err(|_| {
            Error::config("the access token holds characters that cannot go in an HTTP header")
        })?;
        value.set_sensitive(true);
        headers.insert(http::header::AUTHORIZATION, value);
        if let Some(user) = &self.as_user {
            headers.insert(HeaderName::from_static("as-user"), user.clone());
        }
        Ok(())
    }
}
