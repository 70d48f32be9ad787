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

/// The largest config, key or environments file boxauth reads (Box's config files are ~2 KiB).
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// The largest token file boxauth reads (its tokens are ~1 KiB).
pub const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;

/// Reads a user's file: a regular file (not a device, pipe or directory, which could be endless
/// or block) of at most `limit` bytes. Symbolic links are followed (secrets mounted by Kubernetes
/// are links); a caller that must not follow them opens with [`open_no_follow`].
pub fn read_regular(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut options = OpenOptions::new();
    options.read(true);
    // Opening a FIFO for reading would wait for a writer: don't.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    read_opened(options.open(path)?, limit)
}

/// A file a configuration names (at most [`MAX_CONFIG_BYTES`]), or an error naming it: `what`
/// says what it is ("the CA file", "the Box config file").
pub fn read_config(path: &Path, what: &str) -> crate::Result<Vec<u8>> {
    read_regular(path, MAX_CONFIG_BYTES).map_err(|e| unreadable(path, what, e))
}

/// [`read_config`] as UTF-8 text, zeroized when dropped.
pub fn read_config_text(path: &Path, what: &str) -> crate::Result<zeroize::Zeroizing<String>> {
    read_text(path, MAX_CONFIG_BYTES).map_err(|e| unreadable(path, what, e))
}

fn unreadable(path: &Path, what: &str, error: std::io::Error) -> crate::Error {
    crate::ConfigError::new(
        crate::ConfigErrorKind::Unreadable,
        format!("cannot read {what} {}", path.display()),
    )
    .with_source(error)
    .into()
}

/// [`read_regular`] as UTF-8 text, zeroized when dropped (config files hold secrets).
pub fn read_text(path: &Path, limit: u64) -> std::io::Result<zeroize::Zeroizing<String>> {
    let bytes = read_regular(path, limit)?;
    String::from_utf8(bytes)
        .map(zeroize::Zeroizing::new)
        .map_err(|e| {
            let mut bytes = e.into_bytes();
            zeroize::Zeroize::zeroize(&mut bytes);
            std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8 text")
        })
}

/// Opens `path` for reading without following a symbolic link in its last component.
pub fn open_no_follow(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NONBLOCK | libc::O_NOFOLLOW,
    );
    open_unless_link(&mut options, path)?.ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is a symbolic link, which boxauth does not follow for token files; remove the link",
        )
    })
}

/// Opens `path` with `options` (on Unix with `O_NOFOLLOW` among their flags) unless its last
/// component is a symbolic link: `Ok(None)` then, and nothing was opened through the link. On
/// Windows the link itself is opened (`FILE_FLAG_OPEN_REPARSE_POINT`), seen, and closed.
pub(crate) fn open_unless_link(
    options: &mut OpenOptions,
    path: &Path,
) -> std::io::Result<Option<File>> {
    /// Opens a link itself, not what it points to.
    #[cfg(windows)]
    const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
    #[cfg(windows)]
    std::os::windows::fs::OpenOptionsExt::custom_flags(options, FILE_FLAG_OPEN_REPARSE_POINT);
    match options.open(path) {
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Ok(None),
        Err(e) => Err(e),
        #[cfg(windows)]
        Ok(file) if file.metadata()?.file_type().is_symlink() => Ok(None),
        Ok(file) => Ok(Some(file)),
    }
}

/// The bytes of an opened file, if it is a regular file of at most `limit` bytes.
pub fn read_opened(file: File, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is not a regular file (a device, a pipe or a directory); give a file",
        ));
    }
    let too_large = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "it is larger than {} KiB, more than any file boxauth reads; check the path",
                limit / 1024
            ),
        )
    };
    if metadata.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Reads at most `limit` bytes of `reader` (standard input), or says it is larger.
pub fn read_limited(reader: impl std::io::Read, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the input is larger than {} KiB", limit / 1024),
        ));
    }
    Ok(bytes)
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
