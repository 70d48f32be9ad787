//! `boxauth emulator exec -- CMD…`: the emulator around one command, as Firebase's
//! `emulators:exec` does. The command gets the `BOX_*` variables ([`super::ready::facts`]), the
//! emulator stops when it ends, and its exit code is this process's (128 + the signal's number
//! when a signal ended it, as shells report it).

use std::ffi::OsString;

use boxauth::ConfigErrorKind::{Invalid, Unreadable};
use boxauth_emulator::{EmulatorHandle, ExportedConfig};

use crate::output::caused_by;

/// Runs `command` against `emulator` and exits with its code (never returns on success).
pub(super) async fn run(
    emulator: EmulatorHandle,
    exported: Option<ExportedConfig>,
    command: &[OsString],
) -> boxauth::Result<()> {
    let failed = |what: String| move |e: std::io::Error| caused_by(Unreadable, what, e);
    // The exported files live as long as the command, in a private directory of their own,
    // unless --export-config named one.
    let dir = tempfile::Builder::new()
        .prefix("boxauth-emulator-")
        .tempdir()
        .map_err(failed("could not create a temporary directory".into()))?;
    let exported = match exported {
        Some(exported) => exported,
        None => super::export(&emulator, dir.path())?,
    };
    let (program, args) = command.split_first().ok_or_else(|| {
        boxauth::Error::config("exec needs a command: boxauth emulator exec -- CMD ARGS…")
    })?;
    let mut child = std::process::Command::new(program);
    child.args(args);
    for (variable, _, value) in
        super::ready::facts(&emulator, Some(&exported), exported.ca.as_deref())
    {
        if let (Some(variable), Some(value)) = (variable, value) {
            child.env(variable, value);
        }
    }
    // Waited for on a blocking thread; the emulator serves on the runtime's meanwhile.
    let status = tokio::task::spawn_blocking(move || child.status())
        .await
        .map_err(|e| caused_by(Invalid, "the command's waiter failed", e))?
        .map_err(failed(format!(
            "could not run {}",
            program.to_string_lossy()
        )))?;
    emulator.shutdown().await;
    drop(dir);
    std::process::exit(status.code().unwrap_or_else(|| killed_code(status)))
}

/// The exit code a shell gives a command a signal ended: 128 + the signal.
#[cfg(unix)]
fn killed_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    128 + status.signal().unwrap_or(0)
}

/// Elsewhere every process has an exit code; this is not reached.
#[cfg(not(unix))]
fn killed_code(_: std::process::ExitStatus) -> i32 {
    1
}
