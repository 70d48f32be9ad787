//! Box said no, or said something boxauth cannot read.

use std::fmt;

/// Box refused a request. For the token and revoke endpoints `error` and `error_description` are
/// the OAuth 2.0 fields; for `/2.0` API calls they hold the API error's `code` and `message`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status code.
    pub status: u16,
    /// The machine-readable error, e.g. `invalid_grant`.
    pub error: Option<String>,
    /// Box's human-readable description, e.g. `Refresh token has expired`.
    pub error_description: Option<String>,
    /// The `box-request-id` header, to quote to Box support.
    pub request_id: Option<String>,
    /// The `Retry-After` header, when Box sent one.
    pub retry_after: Option<String>,
    /// The `Date` header: Box's clock, to correct a JWT assertion for clock skew.
    pub date: Option<String>,
    pub(crate) raw_body: String,
}

impl ApiError {
    /// The response body exactly as Box sent it.
    pub fn raw_body(&self) -> &str {
        &self.raw_body
    }

    /// Whether this is the OAuth 2.0 error `code` (e.g. `invalid_grant`).
    pub fn is(&self, code: &str) -> bool {
        self.error.as_deref() == Some(code)
    }

    /// What to do about this error, when boxauth knows (not part of its `Display`, which says
    /// what Box answered).
    pub fn hint(&self) -> Option<&'static str> {
        use super::TokenRefusal::*;
        Some(match self.refusal()? {
            InvalidClient => {
                "check the client ID and client secret (Developer Console → your app → Configuration)"
            }
            AuthorizationCode => {
                "authorization codes live 30 seconds and work once: exchange the code right after the redirect"
            }
            RefreshToken => {
                "the refresh token was already used, revoked or is older than 60 days: log in again"
            }
            Clock => "the JWT 'exp' claim was refused: check this machine's clock",
            JwtId => {
                "the JWT 'jti' claim was refused: a new assertion needs a new 'jti'; check this machine's clock"
            }
            Issuer => "the JWT 'iss' claim must be the app's client ID: check the client ID",
            KeyMismatch => {
                "the key ID (publicKeyID) or private key does not match a public key registered for the app"
            }
            Subject => "check the enterprise ID or user ID the token is requested for",
            GrantCredentialsInvalid => {
                "check the client credentials, the subject type and ID, the app's access level, and that an admin authorized the app"
            }
            AppNotAuthorized | SubjectTypeUnauthorized => {
                "an enterprise admin must authorize the app (Admin Console → Apps → Custom Apps Manager)"
            }
            GrantTypeUnauthorized => {
                "this grant does not match the app's authentication method in the Developer Console"
            }
            InvalidGrantType => {
                "check the grant_type value and that the token URL is https://api.box.com/oauth2/token"
            }
            UserTokensNotEnabled => {
                "enable 'Generate user access tokens' for the app, then have an admin re-authorize it"
            }
            NoPublicKeys => {
                "add the public key of your key pair to the app (Developer Console → your app → Configuration → Add and Manage Public Keys)"
            }
            InvalidToken => "the access token is invalid, expired or revoked: get a new one",
        })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Box answered HTTP {}", self.status)?;
        match (&self.error, &self.error_description) {
            (Some(error), Some(description)) => write!(f, ": {error}: {description}")?,
            (Some(error), None) => write!(f, ": {error}")?,
            (None, Some(description)) => write!(f, ": {description}")?,
            (None, None) => {}
        }
        if let Some(id) = &self.request_id {
            write!(f, " (box-request-id {id})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("ApiError");
        debug
            .field("status", &self.status)
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .field("request_id", &self.request_id)
            .field("retry_after", &self.retry_after)
            .field("date", &self.date);
        // A success status with an `error` field may still carry tokens beside it.
        if (200..300).contains(&self.status) {
            debug.field("raw_body", &format_args!("<{} bytes>", self.raw_body.len()));
        } else {
            debug.field("raw_body", &self.raw_body);
        }
        debug.finish()
    }
}

impl std::error::Error for ApiError {}

/// Box's answer could not be understood.
#[derive(Clone, PartialEq, Eq)]
pub struct InvalidResponseError {
    /// The HTTP status code.
    pub status: u16,
    /// The `box-request-id` header, if any.
    pub request_id: Option<String>,
    /// The `Content-Type` the server declared.
    pub content_type: Option<String>,
    /// What was wrong with the body.
    pub problem: String,
    /// The start of the body, when it is safe to show (never for a success body that may hold tokens).
    pub snippet: Option<String>,
    pub(crate) raw_body: String,
}

impl InvalidResponseError {
    /// The body exactly as received.
    pub fn raw_body(&self) -> &str {
        &self.raw_body
    }
}

impl fmt::Display for InvalidResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unexpected response from Box (HTTP {}", self.status)?;
        if let Some(content_type) = &self.content_type {
            write!(f, ", {content_type}")?;
        }
        write!(f, "): {}", self.problem)?;
        if let Some(id) = &self.request_id {
            write!(f, " (box-request-id {id})")?;
        }
        if let Some(snippet) = &self.snippet {
            write!(f, "; the body starts: {snippet:?}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for InvalidResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvalidResponseError")
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .field("content_type", &self.content_type)
            .field("problem", &self.problem)
            .field("snippet", &self.snippet)
            .field("raw_body", &format_args!("<{} bytes>", self.raw_body.len()))
            .finish()
    }
}

impl std::error::Error for InvalidResponseError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, error: &str, description: &str) -> ApiError {
        ApiError {
            status,
            error: Some(error.into()),
            error_description: Some(description.into()),
            request_id: Some("abc123".into()),
            retry_after: None,
            date: None,
            raw_body: String::new(),
        }
    }

    #[test]
    fn display_names_status_fields_and_request_id_and_the_hint_is_apart() {
        let error = api(400, "invalid_grant", "Refresh token has expired");
        assert_eq!(
            error.to_string(),
            "Box answered HTTP 400: invalid_grant: Refresh token has expired (box-request-id abc123)"
        );
        assert_eq!(
            error.hint(),
            Some(
                "the refresh token was already used, revoked or is older than 60 days: log in again"
            )
        );
    }

    #[test]
    fn success_body_is_not_shown_in_debug() {
        let mut error = api(200, "weird", "x");
        error.raw_body = r#"{"error":"weird","access_token":"SECRET"}"#.into();
        assert!(!format!("{error:?}").contains("SECRET"));
        error.status = 400;
        assert!(format!("{error:?}").contains("SECRET"));
    }
}
