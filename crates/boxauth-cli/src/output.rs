//! How results and errors reach the terminal.

use boxauth::Error;

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
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::config(format!("could not format the answer as JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

/// Prints an error on stderr: what happened, and what to do about it when known.
pub fn print_error(error: &Error) {
    let style = Style::for_stderr();
    eprintln!("{} {error}", style.fail("error:"));
}
