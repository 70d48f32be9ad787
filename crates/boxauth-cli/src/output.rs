//! How results and errors reach the terminal.

use boxauth::Error;

/// Prints a value as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> boxauth::Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::config(format!("could not format the answer as JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

/// Prints an error on stderr: what happened, and what to do about it when known.
pub fn print_error(error: &Error) {
    eprintln!("error: {error}");
}
