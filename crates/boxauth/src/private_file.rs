//! Files that hold secrets, written so that they are never seen half-written and never readable by
//! anyone else: a temporary file beside the target (mode 0600, created exclusively, so a file or
//! link planted under its name is never written through), fsynced, renamed over the target, and
//! the directory fsynced. One writer for the token files, the CLI's environments and the
//! emulator's exported config.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically with mode 0600: afterwards `path` holds all of `bytes`,
/// or (after a crash) what it held before. The directory must exist.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = temporary_beside(path);
    let written = write_through(&temporary, path, bytes);
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// A name beside `path` that nothing else uses: `.<name>.<random>.tmp`.
fn temporary_beside(path: &Path) -> PathBuf {
    let mut random = [0u8; 8];
    // Without randomness the name is only less unique; creation stays exclusive.
    let _ = aws_lc_rs::rand::fill(&mut random);
    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    path.with_file_name(format!(".{name}.{suffix}.tmp"))
}

/// Writes `bytes` to the new file `temporary` (mode 0600, created exclusively), fsyncs it, renames
/// it over `path` and fsyncs the directory.
pub(crate) fn write_through(temporary: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = create_new_private(temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(temporary, path)?;
    sync_directory(path)
}

/// Creates `path` for writing with mode 0600, failing if anything (a file, a link) is there.
pub(crate) fn create_new_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Fsyncs the directory holding `path`, so a rename in it survives a crash.
pub(crate) fn sync_directory(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_whole_private_and_never_through_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.json");
        write_private(&path, b"first").unwrap();
        write_private(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            // A link planted where the temporary file goes is refused, not followed.
            let outside = dir.path().join("outside");
            let planted = dir.path().join(".planted.tmp");
            std::os::unix::fs::symlink(&outside, &planted).unwrap();
            assert!(write_through(&planted, &path, b"third").is_err());
            assert!(!outside.exists(), "nothing was written through the link");
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp") && !e.path().is_symlink())
            .collect();
        assert!(
            leftovers.is_empty(),
            "no temporary file is left: {leftovers:?}"
        );
    }
}
