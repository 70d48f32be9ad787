//! One error type for the whole library, split by where the failure came from.
//!
//! No message built here contains a secret: request bodies are never echoed, and a success body
//! (which may hold tokens) is described, not quoted.

mod api;
mod detail;
mod key;
mod network;
mod refusal;
mod vault;

pub use api::{ApiError, InvalidResponseError};
pub use detail::{
    ConfigError, ConfigErrorKind, ReauthorizationError, ReauthorizationKind, StorageError,
    StorageErrorKind,
};
pub use key::{KeyError, KeyErrorKind};
pub use network::{NetworkError, NetworkErrorKind};
pub use refusal::TokenRefusal;
pub use vault::{VaultError, VaultErrorKind};

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
    /// [`NetworkError::kind`] says which; the transport's own error is its `source()`.
    #[error(transparent)]
    Network(NetworkError),
    /// The caller's input or configuration is wrong; the message says what to change.
    #[error(transparent)]
    Config(ConfigError),
    /// A private key could not be loaded: wrong passphrase, unsupported format, not RSA, too small.
    #[error(transparent)]
    Key(KeyError),
    /// Token storage failed: a token file could not be read, written or locked, Redis did not
    /// answer, or what is stored is not a token. [`StorageError::kind`] says which.
    #[error(transparent)]
    Storage(StorageError),
    /// The stored credentials can no longer produce a token (no refresh token stored, or Box
    /// refused it): the user must authorize the app again. Box's refusal is the `source()`.
    #[error(transparent)]
    ReauthorizationRequired(ReauthorizationError),
    /// A token vault operation cannot be done: [`VaultError::kind`] says why.
    #[error(transparent)]
    Vault(VaultError),
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
    /// Box refused the App Tokens in use (401): the primary, and the secondary if one was
    /// given. They were revoked or rotated in the Developer Console.
    #[error(
        "Box refused the App Token (401), and the secondary too if one was given: they were \
         revoked or rotated; generate new ones (Developer Console → your app → Configuration → \
         App Tokens)"
    )]
    AppTokensRefused,
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

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Self {
        Self::Config(error)
    }
}

impl From<StorageError> for Error {
    fn from(error: StorageError) -> Self {
        Self::Storage(error)
    }
}

impl From<VaultError> for Error {
    fn from(error: VaultError) -> Self {
        Self::Vault(error)
    }
}

impl From<ReauthorizationError> for Error {
    fn from(error: ReauthorizationError) -> Self {
        Self::ReauthorizationRequired(error)
    }
}

impl Error {
    /// A configuration or input error ([`ConfigErrorKind::Invalid`]) with a message that says
    /// what to fix.
    pub fn config(message: impl Into<String>) -> Self {
        ConfigError::new(ConfigErrorKind::Invalid, message).into()
    }

    /// A configuration error of `kind`.
    pub(crate) fn config_kind(kind: ConfigErrorKind, message: impl Into<String>) -> Self {
        ConfigError::new(kind, message).into()
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

    /// An error of a storage of your own ([`StorageErrorKind::Other`]), with a message that
    /// names the storage and what to check.
    pub fn storage(message: impl Into<String>) -> Self {
        StorageError::new(StorageErrorKind::Other, message).into()
    }

    /// A storage error of `kind`.
    pub(crate) fn storage_kind(kind: StorageErrorKind, message: impl Into<String>) -> Self {
        StorageError::new(kind, message).into()
    }

    /// The kind of a configuration error.
    pub fn config_error_kind(&self) -> Option<ConfigErrorKind> {
        match self {
            Self::Config(error) => Some(error.kind()),
            _ => None,
        }
    }

    /// The kind of a storage error.
    pub fn storage_error_kind(&self) -> Option<StorageErrorKind> {
        match self {
            Self::Storage(error) => Some(error.kind()),
            _ => None,
        }
    }

    /// Whether Box refused a grant (`invalid_grant`), e.g. a spent refresh token.
    pub fn is_invalid_grant(&self) -> bool {
        self.as_api().is_some_and(|api| api.is("invalid_grant"))
    }

    pub(crate) fn network(url: &str, source: reqwest::Error) -> Self {
        Self::Network(NetworkError::new(url, source))
    }

    /// The kind of a vault error.
    pub fn vault_error_kind(&self) -> Option<VaultErrorKind> {
        match self {
            Self::Vault(error) => Some(error.kind()),
            _ => None,
        }
    }

    /// The kind of a network error.
    pub fn network_error_kind(&self) -> Option<NetworkErrorKind> {
        match self {
            Self::Network(error) => Some(error.kind()),
            _ => None,
        }
    }

    /// What to do about this error, when boxauth knows: a separate line from the message, which
    /// says what happened. Names library calls, never a CLI's flags.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Api(api) => api.hint(),
            Self::InvalidResponse(_) => Some(
                "if a proxy or firewall sits between you and Box, check the base URL and the \
                 proxy settings",
            ),
            Self::Network(network) => Some(network.hint()),
            Self::AppTokensRefused => Some(
                "give the new tokens to AppTokenAuth::set_primary and set_secondary (a running \
                 program), or to its config",
            ),
            Self::ReauthorizationRequired(_) => Some(
                "authorize the app again: the OAuth 2.0 flow (OAuth::authorize_url, then \
                 OAuth::complete_authorization)",
            ),
            _ => None,
        }
    }
}

impl Error {
    /// This error and its causes, one per line after the first (`  caused by: …`): for a
    /// message that must stand on its own, such as a log line or a CLI's last word.
    pub fn report(&self) -> String {
        chain(self, "\n  caused by: ")
    }

    /// This error and its causes on one line, for logs.
    pub(crate) fn one_line(&self) -> String {
        chain(self, ": ")
    }
}

/// `error` and its causes; a cause that says what the one before it said (a wrapper that
/// prints its inner error, as the redis crate's does for an I/O error) is shown once.
fn chain(error: &(dyn std::error::Error + 'static), separator: &str) -> String {
    let mut last = error.to_string();
    let mut text = last.clone();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let shown = inner.to_string();
        if shown != last {
            text.push_str(separator);
            text.push_str(&shown);
            last = shown;
        }
        cause = inner.source();
    }
    text
}
