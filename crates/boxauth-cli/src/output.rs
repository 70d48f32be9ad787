//! How results and errors reach the terminal.

use boxauth::{ConfigError, ConfigErrorKind, Error, StorageErrorKind};

use crate::style::Style;

/// Printing settings: `--quiet` silences notes (results still go to stdout).
#[derive(Debug, Clone, Copy, Default)]
pub struct Output {
    /// No notes on stderr.
    pub quiet: bool,
}

impl Output {
    /// A note for the user on stderr (not part of the result).
    pub fn note(&self, message: &str) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> boxauth::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| {
        ConfigError::new(
            ConfigErrorKind::Invalid,
            "could not format the answer as JSON",
        )
        .with_source(e)
    })?;
    println!("{text}");
    Ok(())
}

/// Prints an error on stderr: what happened, each cause once, and what to do about it (with this
/// CLI's commands and flags where they are the answer, else the library's hint).
pub fn print_error(error: &Error) {
    let style = Style::for_stderr();
    eprintln!("{} {}", style.fail("error:"), error.report());
    if let Some(hint) = cli_hint(error).or_else(|| error.hint()) {
        eprintln!("{} {hint}", style.bold("hint:"));
    }
}

/// What to do about `error` with this CLI's commands and flags (the library names none).
fn cli_hint(error: &Error) -> Option<&'static str> {
    match error {
        Error::ReauthorizationRequired(_) => {
            Some("log in again: boxauth login (or boxauth login --env NAME)")
        }
        Error::Storage(storage) if storage.kind() == StorageErrorKind::UntrustedCertificate => {
            Some("give the CA that signed the Redis server's certificate: --redis-ca-file FILE")
        }
        _ => None,
    }
}

/// An error of this CLI's that says what failed, with `cause` as its `source()`: the chain
/// prints the cause once.
pub fn caused_by(
    kind: ConfigErrorKind,
    message: impl Into<String>,
    cause: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    ConfigError::new(kind, message).with_source(cause).into()
}
