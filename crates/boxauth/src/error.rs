//! One error type for the whole library, split by where the failure came from.
//!
//! No message built here contains a secret: request bodies are never echoed, and a success body
//! (which may hold tokens) is described, not quoted.

use std::fmt;

/// `Result` with boxauth's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, by origin. Cloning is cheap: one failed refresh is handed to
/// every caller that waited for it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Box answered, and said no: an OAuth 2.0 error body (`error`, `error_description`), or an API
    /// error body (`code`, `message`), or a bare status.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// Box answered with something that is not what the endpoint documents (an HTML page from a
    /// proxy, a truncated body, a field of the wrong type).
    #[error(transparent)]
    InvalidResponse(Box<InvalidResponseError>),
    /// The request never got an answer: DNS, connect, TLS, timeout, a dropped connection.
    #[error(
        "could not reach {url}: {message}; check the network, the proxy settings and the base URL"
    )]
    Network {
        /// The URL without its query string.
        url: String,
        /// What the transport reported.
        message: String,
        /// The transport error (its URL removed).
        #[source]
        source: std::sync::Arc<reqwest::Error>,
    },
    /// The caller's input or configuration is wrong; the message says what to change.
    #[error("{0}")]
    Config(String),
    /// A private key could not be loaded: wrong passphrase, unsupported format, not RSA, too small.
    #[error(transparent)]
    Key(KeyError),
    /// Token storage failed: a token file could not be read, written or locked, or Redis did not
    /// answer. The message names the storage and what to check.
    #[error("token storage: {0}")]
    Storage(String),
    /// The stored credentials can no longer produce a token (no token stored, or the refresh token
    /// was refused): the user must authorize the app again.
    #[error(
        "{0}; authorize again (boxauth login, or the OAuth 2.0 flow: authorize_url, then exchange_code)"
    )]
    ReauthorizationRequired(String),
    /// The refresh this call waited for stopped before it finished: its task panicked (a
    /// [`TokenSource`](crate::TokenSource) that panics), or the Tokio runtime is shutting down.
    /// The next call starts a new one.
    #[error(
        "the token refresh stopped before it finished (its task panicked, or the Tokio runtime is \
         shutting down); the next call tries again"
    )]
    RefreshInterrupted,
    /// Box refused the developer token: they live 60 minutes and cannot be refreshed.
    #[error(
        "the developer token was refused: developer tokens live 60 minutes and cannot be refreshed; \
         generate a new one (Developer Console → your app → Configuration → Developer Token)"
    )]
    DeveloperTokenExpired,
    /// The `state` on the OAuth 2.0 callback is not the one this flow sent: the callback may be
    /// forged (CSRF), or from another login attempt.
    #[error(
        "the state on the callback does not match the one sent with the authorization URL: \
         the callback was not for this login (possible CSRF); start the login again"
    )]
    StateMismatch,
    /// The user (or Box) refused the authorization on the consent page.
    #[error("authorization refused on Box's consent page: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    AccessDenied {
        /// The `error` parameter of the callback, e.g. `access_denied`.
        error: String,
        /// The `error_description` parameter, if any.
        description: Option<String>,
    },
}

impl From<KeyError> for Error {
    fn from(error: KeyError) -> Self {
        Self::Key(error)
    }
}

impl Error {
    /// A configuration or input error with a message that says what to fix.
    pub fn config(message: impl Into<String>) -> Self {
        Self::Config(message.into())
    }

    /// The Box error if this is one.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(api) => Some(api),
            _ => None,
        }
    }

    /// The HTTP status Box answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(api) => Some(api.status),
            Self::InvalidResponse(invalid) => Some(invalid.status),
            _ => None,
        }
    }

    /// A storage error with a message that names the storage and what to check.
    pub fn storage(message: impl Into<String>) -> Self {
        Self::Storage(message.into())
    }

    /// Whether Box refused a grant (`invalid_grant`), e.g. a spent refresh token.
    pub fn is_invalid_grant(&self) -> bool {
        self.as_api().is_some_and(|api| api.is("invalid_grant"))
    }

    pub(crate) fn network(url: &str, source: reqwest::Error) -> Self {
        let url = url.split('?').next().unwrap_or(url).to_owned();
        let source = source.without_url();
        Self::Network {
            message: describe_transport_error(&source),
            url,
            source: std::sync::Arc::new(source),
        }
    }
}

fn describe_transport_error(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "the request timed out"
    } else if error.is_connect() {
        "the connection failed"
    } else if error.is_body() || error.is_decode() {
        "the response body could not be read"
    } else {
        "the request failed"
    };
    let mut message = what.to_owned();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        cause = inner.source();
    }
    message
}

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

    /// What to do about this error, when boxauth knows.
    pub fn hint(&self) -> Option<&'static str> {
        let description = self.error_description.as_deref().unwrap_or_default();
        let hint = match (self.error.as_deref()?, description) {
            ("invalid_client", _) => {
                "check the client ID and client secret (Developer Console → your app → Configuration)"
            }
            ("invalid_grant", d) if d.contains("authorization code") || d.contains("Auth code") => {
                "authorization codes live 30 seconds and work once: exchange the code right after the redirect"
            }
            ("invalid_grant", d) if d.contains("efresh token") => {
                "the refresh token was already used, revoked or is older than 60 days: log in again"
            }
            ("invalid_grant", d) if d.contains("'exp'") || d.contains("expiration date") => {
                "the JWT 'exp' claim was refused: check this machine's clock"
            }
            ("invalid_grant", d) if d.contains("kid") || d.contains("Signature") => {
                "the key ID (publicKeyID) or private key does not match a public key registered for the app"
            }
            ("invalid_grant", d) if d.contains("'sub'") => {
                "check the enterprise ID or user ID the token is requested for"
            }
            ("invalid_grant", "Grant credentials are invalid") => {
                "check the client credentials, the subject type and ID, the app's access level, and that an admin authorized the app"
            }
            ("unauthorized_client", _) => {
                "an enterprise admin must authorize the app (Admin Console → Apps → Custom Apps Manager)"
            }
            ("invalid_request", d) if d.contains("grant type is unauthorized") => {
                "this grant does not match the app's authentication method in the Developer Console"
            }
            ("invalid_request", d) if d.contains("grant_type") => {
                "check the grant_type value and that the token URL is https://api.box.com/oauth2/token"
            }
            ("invalid_request", d) if d.contains("user token") => {
                "enable 'Generate user access tokens' for the app, then have an admin re-authorize it"
            }
            ("invalid_token", _) => {
                "the access token is invalid, expired or revoked: get a new one"
            }
            _ => return None,
        };
        Some(hint)
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
        if let Some(hint) = self.hint() {
            write!(f, "; {hint}")?;
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
        write!(
            f,
            "; if a proxy or firewall sits between you and Box, check the base URL and proxy settings"
        )
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

/// Why a private key could not be loaded, with a message that names the problem and what to do.
///
/// The message never contains the passphrase or any part of the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    kind: KeyErrorKind,
    message: String,
}

/// The kinds of [`KeyError`], for code that reacts differently to each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyErrorKind {
    /// The key is encrypted and no passphrase was given.
    MissingPassphrase,
    /// The passphrase does not decrypt the key.
    WrongPassphrase,
    /// The text is not a complete PEM: no BEGIN or END line, damaged base64, bad headers.
    MalformedPem,
    /// A PEM that is not an RSA private key boxauth reads (a certificate, a public key, an EC or
    /// OpenSSH private key).
    UnsupportedFormat,
    /// An encryption boxauth does not decrypt (scrypt, PBES1, an unknown `DEK-Info` cipher).
    UnsupportedEncryption,
    /// A PKCS#8 key for another algorithm (EC, Ed25519, DSA).
    NotRsa,
    /// An RSA key under 2048 bits.
    KeyTooSmall,
    /// The key's DER does not parse, or aws-lc-rs refuses the key.
    Invalid,
}

impl KeyError {
    pub(crate) fn new(kind: KeyErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> KeyErrorKind {
        self.kind
    }

    /// The message, also what `Display` prints.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for KeyError {}

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
    fn display_names_status_fields_request_id_and_next_step() {
        let shown = api(400, "invalid_grant", "Refresh token has expired").to_string();
        assert_eq!(
            shown,
            "Box answered HTTP 400: invalid_grant: Refresh token has expired (box-request-id abc123); \
             the refresh token was already used, revoked or is older than 60 days: log in again"
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
