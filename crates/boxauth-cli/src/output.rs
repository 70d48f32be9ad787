//! How results and errors reach the terminal.
//!
//! Results go to stdout through [`stdout_line`] (the `outln!` macro): when the reader has gone
//! away (`boxauth demo | head -1`), the command stops quietly and exits 0, as `ls | head` does,
//! instead of panicking on the closed pipe. Notes and errors go to stderr through
//! [`stderr_line`], which never panics either.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use boxauth::{ConfigError, ConfigErrorKind, Error, NetworkErrorKind, StorageErrorKind};

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
            stderr_line(message);
        }
    }
}

/// Set once stdout's reader has gone away.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Prints a line on stdout, like `println!` but without its panic: a closed pipe returns an
/// error that ends the command, and `main` then exits 0 without a word ([`stdout_closed`]).
pub fn stdout_line(text: &str) -> boxauth::Result<()> {
    if stdout_closed() {
        return Err(closed());
    }
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Err(closed())
        }
        Err(error) => Err(ConfigError::new(
            ConfigErrorKind::Unreadable,
            "cannot write to standard output",
        )
        .with_source(error)
        .into()),
    }
}

fn closed() -> Error {
    Error::config("standard output was closed")
}

/// Whether stdout's reader has gone away: the command ends quietly, with exit code 0.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// `println!` through [`stdout_line`]: `outln!("…", …)?`.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::output::stdout_line("")
    };
    ($($arg:tt)*) => {
        $crate::output::stdout_line(&format!($($arg)*))
    };
}

/// Prints a line on stderr; a closed stderr (`2>&1 | head -1`) is ignored, never a panic.
pub fn stderr_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
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
    stdout_line(&text)
}

/// What the command acts with, kept for the hint after an error: the CLI runs one command per
/// process, and a hint that names the environment, the URL asked or the flag that set it says
/// more than one that cannot.
#[derive(Debug, Default, Clone)]
pub struct Context {
    /// The saved environment the command uses.
    pub environment: Option<String>,
    /// The base URL requests go to, and what set it (`--base-url`, `BOX_BASE_URL`, …).
    pub base_url: Option<(String, String)>,
    /// The request being sent, as `POST https://…/oauth2/token`.
    pub asked: Option<String>,
    /// The Box config file a JWT method reads.
    pub jwt_config: Option<PathBuf>,
}

static CONTEXT: Mutex<Option<Context>> = Mutex::new(None);

/// Changes the context kept for the hints.
pub fn context(change: impl FnOnce(&mut Context)) {
    let mut context = CONTEXT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    change(context.get_or_insert_with(Context::default));
}

/// Prints an error on stderr: what happened, each cause once, and what to do about it (with this
/// CLI's commands and flags where they are the answer, else the library's hint).
pub fn print_error(error: &Error) {
    let style = Style::for_stderr();
    stderr_line(&format!("{} {}", style.fail("error:"), error.report()));
    if let Some(hint) = hint(error) {
        stderr_line(&format!("{} {hint}", style.bold("hint:")));
    }
}

/// What to do about `error`: with this CLI's commands and flags where they are the answer, else
/// the library's hint.
pub fn hint(error: &Error) -> Option<String> {
    let context = CONTEXT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
        .unwrap_or_default();
    cli_hint(error, &context).or_else(|| error.hint().map(str::to_owned))
}

/// What to do about `error` with this CLI's commands and flags (the library names none).
fn cli_hint(error: &Error, context: &Context) -> Option<String> {
    match error {
        Error::ReauthorizationRequired(_) => Some(match &context.environment {
            Some(name) => format!("log in again: boxauth login --env {name}"),
            None => "log in again: boxauth login --env NAME saves the tokens in environment \
                     NAME; then use --env NAME"
                .to_owned(),
        }),
        Error::Storage(storage) => match storage.kind() {
            StorageErrorKind::UntrustedCertificate => Some(
                "give the CA that signed the Redis server's certificate: --redis-ca-file FILE"
                    .to_owned(),
            ),
            StorageErrorKind::AuthenticationRefused => Some(
                "check the user name and password in the token store's URL \
                 (redis://USER:PASSWORD@HOST:PORT/DB, from --token-store, BOX_TOKEN_STORE or the \
                 environment)"
                    .to_owned(),
            ),
            _ => None,
        },
        Error::Network(network) if network.kind() == NetworkErrorKind::Tls => Some(
            "trust the CA that signed the server's certificate: --ca-file FILE (or BOX_CA_FILE); \
             `boxauth emulator --tls --export-config DIR` writes its CA to DIR/emulator-ca.pem; \
             and use a host name the certificate carries"
                .to_owned(),
        ),
        Error::Api(api) if api.status == 404 => {
            let asked = context.asked.as_deref()?;
            let base = match &context.base_url {
                Some((url, from)) => format!(" ({url}, from {from})"),
                None => String::new(),
            };
            Some(format!(
                "nothing answers {asked}: the base URL may be wrong{base}; Box's is \
                 {}, an emulator's is its address with no path",
                boxauth::DEFAULT_BASE_URL
            ))
        }
        Error::Config(config)
            if config.kind() == ConfigErrorKind::Unreadable && not_found(error) =>
        {
            let path = context.jwt_config.as_ref().filter(|path| !path.exists())?;
            Some(format!(
                "there is no file {}: download your app's config file from the Developer Console \
                 (your app → Configuration → App Settings → Download as JSON) and give its path, \
                 or give its content in BOX_JWT_CONFIG_JSON or on standard input (--jwt-config -)",
                path.display()
            ))
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

/// Whether a cause of `error` is a file that does not exist.
fn not_found(error: &Error) -> bool {
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        if inner
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
        {
            return true;
        }
        cause = inner.source();
    }
    false
}
