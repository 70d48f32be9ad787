//! Why a vault operation cannot be done.

use std::fmt;
use std::sync::Arc;

/// A vault operation that cannot be done: an identity that is not there, a callback whose
/// `state` this vault did not issue, a key that is missing or does not open a sealed token. The
/// message names the identity (the app's user key, never a token) and what to do.
#[derive(Debug, Clone)]
pub struct VaultError {
    kind: VaultErrorKind,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// What kind of [`VaultError`] it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VaultErrorKind {
    /// No identity is stored under this user key: connect or import it first.
    UnknownIdentity,
    /// The callback's `state` is not one this vault issued for this user key (forged, for
    /// another user, or altered).
    StateMismatch,
    /// The callback's `state` was issued more than its lifetime ago: start the connection again.
    StateExpired,
    /// A sealed token names a key ID the key set does not hold: add that key (it was retired too
    /// early, or the wrong key file is given).
    KeyMissing,
    /// A sealed token does not open: the key material is wrong, the value was altered, or it was
    /// sealed for another identity (copied from another row).
    SealBroken,
    /// A key file or variable is not a vault key set (see `boxauth vault keygen`).
    BadKey,
    /// The operation does not fit the vault's app: per-user connections need an OAuth 2.0 app,
    /// `as_user` a JWT or Client Credentials app.
    WrongApp,
    /// The database holds a newer vault schema than this boxauth knows: upgrade boxauth.
    SchemaTooNew,
    /// The database has no vault tables: create them with `Vault::init` (`boxauth vault init`).
    SchemaMissing,
    /// The user key is not usable (empty, too long, or not text).
    BadUserKey,
    /// Box did not answer a refresh in time: whether it spent the refresh token is unknown (the
    /// next refresh finds out). Not terminal.
    RefreshTimedOut,
}

impl VaultError {
    /// An error of `kind` with a message that says what to do.
    pub fn new(kind: VaultErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The same error, caused by `source`.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// What kind of error it is.
    pub fn kind(&self) -> VaultErrorKind {
        self.kind
    }

    /// The message (this layer only).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for VaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token vault: {}", self.message)
    }
}

impl std::error::Error for VaultError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}
