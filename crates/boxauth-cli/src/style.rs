//! Colour on a terminal, plain text when piped or when `NO_COLOR` is set.

use std::io::IsTerminal;

/// How to decorate text for one output stream.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    colour: bool,
}

impl Style {
    /// For stdout: colour only on a terminal, and not when `NO_COLOR` is set (no-color.org).
    pub fn for_stdout() -> Self {
        Self {
            colour: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// For stderr, by the same rules.
    pub fn for_stderr() -> Self {
        Self {
            colour: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Success: green.
    pub fn ok(&self, text: &str) -> String {
        self.paint("32", text)
    }

    /// Failure: red.
    pub fn fail(&self, text: &str) -> String {
        self.paint("31", text)
    }

    /// Details: dim.
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Emphasis: bold.
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    /// A section heading: bold blue.
    pub fn heading(&self, text: &str) -> String {
        self.paint("1;34", text)
    }
}
