//! Why an emulator configuration (a config file, a world edit over the control API, a key)
//! cannot be used: a kind to match, a message that says what to change, and the cause.

use std::fmt;

/// A configuration that cannot be used, and why.
#[derive(Debug)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// What kind of [`ConfigError`] it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// A file could not be read (the cause is its `source()`).
    Unreadable,
    /// The text is not valid TOML or JSON of the expected shape.
    Syntax,
    /// A value is wrong: an ID, a URL, a lifetime, a grant, a reference to something missing.
    Invalid,
    /// Two entries share an ID.
    Duplicate,
    /// An RSA key could not be read, made or encoded.
    Key,
}

impl ConfigError {
    /// An error of `kind` with a message that says what to change.
    pub fn new(kind: ConfigErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// A wrong value ([`ConfigErrorKind::Invalid`]).
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ConfigErrorKind::Invalid, message)
    }

    /// The same error, caused by `source`.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What kind of error it is.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The message (this layer only).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `context` (a file's name) before its message.
    pub(crate) fn in_context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}
