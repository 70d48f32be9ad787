//! Tokens in a file that many processes on one host share.
//!
//! - The refresh lock is an exclusive `flock` on `<file>.lock` (`std::fs::File::lock`): the kernel
//!   releases it when its holder dies, even by SIGKILL, so a crash never wedges the others.
//! - Every write goes to `<file>.pending` (mode 0600), is fsynced, renamed over `<file>`, and the
//!   directory is fsynced: the file always holds one whole token, old or new.
//! - A `<file>.pending` left by a process killed between its fsync and its rename is a complete,
//!   newer token (only the lock holder writes it): the next lock holder moves it into place, so a
//!   rotated refresh token that reached the disk is never lost.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{RefreshLock, TokenStorage};
use crate::error::{Error, Result, StorageError, StorageErrorKind};
use crate::failpoint;
use crate::future::BoxFuture;
use crate::internal::private_file::{self, create_new_private, sync_directory};
use crate::token::StoredToken;

/// A token file shared by processes on one host.
#[derive(Clone)]
pub struct FileStorage {
    paths: Arc<Paths>,
    lock_timeout: Duration,
}

struct Paths {
    token: PathBuf,
    pending: PathBuf,
    lock: PathBuf,
}

impl std::fmt::Debug for FileStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStorage")
            .field("path", &self.paths.token)
            .finish()
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl FileStorage {
    /// Storage in `path` (created with mode 0600 on the first write; its directory with 0700 if
    /// missing). Two more files live beside it: `<path>.lock` and, briefly, `<path>.pending`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let token = path.into();
        Self {
            paths: Arc::new(Paths {
                pending: with_suffix(&token, ".pending"),
                lock: with_suffix(&token, ".lock"),
                token,
            }),
            lock_timeout: Duration::from_secs(120),
        }
    }

    /// How long [`lock`](TokenStorage::lock) waits for another process before giving up (default
    /// 120 s).
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The token file.
    pub fn path(&self) -> &Path {
        &self.paths.token
    }
}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> Error {
    let hint = match error.kind() {
        ErrorKind::PermissionDenied => "check the file's owner and permissions".to_owned(),
        ErrorKind::NotFound => "check that the directory exists".to_owned(),
        // boxauth's own refusals (not a regular file, too large, a link): the cause says which.
        ErrorKind::InvalidInput | ErrorKind::InvalidData => {
            "boxauth keeps tokens only in regular files of its own".to_owned()
        }
        _ => "check the disk and the path".to_owned(),
    };
    StorageError::new(
        StorageErrorKind::Io,
        format!("cannot {what} {}; {hint}", path.display()),
    )
    .with_source(error)
    .into()
}

fn ensure_directory(path: &Path) -> Result<()> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if dir.exists() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| io_error("create the directory of", path, e))
}

/// Refuses a token file, or the directory it is in, that someone else could write (as OpenSSH
/// refuses such key files): another user could plant a token there or read the next one.
#[cfg(unix)]
fn check_private(path: &Path, metadata: &fs::Metadata, what: &str) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let me = effective_uid();
    let owner_ok = metadata.uid() == me || (what == "directory" && metadata.uid() == 0);
    let writable_by_others = metadata.mode() & 0o022 != 0;
    // A shared directory with the sticky bit (/tmp) still lets others create names in it; the
    // token file itself is then checked, and `.pending` and `.lock` are opened without following
    // links.
    let sticky = metadata.mode() & 0o1000 != 0;
    if !owner_ok || (writable_by_others && !(what == "directory" && sticky)) {
        return Err(StorageError::new(
            StorageErrorKind::Unsafe,
            format!(
                "the token {what} {} is {}; tokens are kept only where no one else can write: \
                 chmod go-w it, or choose a path of your own",
                path.display(),
                if owner_ok {
                    "writable by other users"
                } else {
                    "owned by another user"
                }
            ),
        )
        .into());
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path, _: &fs::Metadata, _: &str) -> Result<()> {
    Ok(())
}

/// This process's effective user ID.
#[cfg(unix)]
fn effective_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Checks the directory of `path` (see [`check_private`]).
fn check_directory(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    match fs::metadata(dir) {
        Ok(metadata) => check_private(dir, &metadata, "directory"),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("inspect the directory of", path, e)),
    }
}

fn read(path: &Path) -> Result<Option<StoredToken>> {
    check_directory(path)?;
    let file = match private_file::open_no_follow(path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("open the token file", path, e)),
    };
    let metadata = file
        .metadata()
        .map_err(|e| io_error("inspect the token file", path, e))?;
    if metadata.is_file() {
        check_private(path, &metadata, "file")?;
    }
    let bytes = private_file::read_opened(file, private_file::MAX_TOKEN_FILE_BYTES)
        .map_err(|e| io_error("read the token file", path, e))?;
    let text = zeroize::Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned());
    drop(zeroize::Zeroizing::new(bytes));
    if text.trim().is_empty() {
        return Ok(None);
    }
    // The parser's own message may quote the file (a token): only its position is kept.
    serde_json::from_str(&text).map(Some).map_err(|e| {
        Error::storage_kind(
            StorageErrorKind::Corrupt,
            format!(
                "the token file {} is not a token boxauth wrote (JSON error at line {} column {}); \
             move it away and authorize again",
                path.display(),
                e.line(),
                e.column()
            ),
        )
    })
}

/// Writes `token` durably: journal, fsync, rename, fsync the directory. The caller holds the lock.
fn write(paths: &Paths, token: &StoredToken) -> Result<()> {
    ensure_directory(&paths.token)?;
    let json =
        zeroize::Zeroizing::new(serde_json::to_vec_pretty(token).map_err(|_| {
            Error::storage_kind(StorageErrorKind::Corrupt, "cannot encode the token")
        })?);
    let mut file =
        create_new_private(&paths.pending).map_err(|e| io_error("create", &paths.pending, e))?;
    file.write_all(&json)
        .map_err(|e| io_error("write", &paths.pending, e))?;
    file.sync_all()
        .map_err(|e| io_error("flush", &paths.pending, e))?;
    drop(file);
    failpoint::reached("file_storage::journal_written");
    fs::rename(&paths.pending, &paths.token).map_err(|e| io_error("replace", &paths.token, e))?;
    sync_directory(&paths.token)
        .map_err(|e| io_error("flush the directory of", &paths.token, e))?;
    failpoint::reached("file_storage::renamed");
    Ok(())
}

/// Moves a complete journal left by a killed writer into place; drops a torn one. Only a
/// journal this user wrote is adopted: a regular file it owns with mode 0600 (a link, or a file
/// someone else planted under the name, is removed and never read).
fn recover(paths: &Paths) -> Result<()> {
    match fs::symlink_metadata(&paths.pending) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("inspect", &paths.pending, e)),
        Ok(metadata) if !own_private_file(&metadata) => {
            tracing::warn!(path = %paths.pending.display(), "removing a pending token file this user did not write");
            return fs::remove_file(&paths.pending)
                .map_err(|e| io_error("remove", &paths.pending, e));
        }
        Ok(_) => {}
    }
    match read(&paths.pending) {
        Ok(Some(_)) => {
            tracing::warn!(path = %paths.token.display(), "recovering a token written by a process that stopped before finishing");
            fs::rename(&paths.pending, &paths.token)
                .map_err(|e| io_error("recover", &paths.token, e))?;
            sync_directory(&paths.token)
                .map_err(|e| io_error("flush the directory of", &paths.token, e))?;
        }
        Ok(None) => {}
        _ => {
            let _ = fs::remove_file(&paths.pending);
        }
    }
    Ok(())
}

/// Whether `metadata` (not following links) is a regular file of this user with mode 0600.
#[cfg(unix)]
fn own_private_file(metadata: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    metadata.file_type().is_file()
        && metadata.uid() == effective_uid()
        && metadata.mode() & 0o077 == 0
}

#[cfg(not(unix))]
fn own_private_file(metadata: &fs::Metadata) -> bool {
    metadata.file_type().is_file()
}

fn acquire(paths: &Paths) -> Result<File> {
    ensure_directory(&paths.lock)?;
    check_directory(&paths.lock)?;
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    // A link planted under the lock's name would make boxauth create a file at its target.
    #[cfg(unix)]
    {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    }
    let file = private_file::open_unless_link(&mut options, &paths.lock)
        .map_err(|e| io_error("open the lock file", &paths.lock, e))?
        .ok_or_else(|| {
            StorageError::new(
                StorageErrorKind::Unsafe,
                format!(
                    "the lock file {} is a symbolic link, which boxauth never follows; remove it",
                    paths.lock.display()
                ),
            )
        })?;
    file.lock().map_err(|e| io_error("lock", &paths.lock, e))?;
    recover(paths)?;
    Ok(file)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        StorageError::new(StorageErrorKind::Io, "a file operation was interrupted").with_source(e)
    })?
}

struct FileLock {
    paths: Arc<Paths>,
    file: Option<File>,
}

impl RefreshLock for FileLock {
    fn store<'a>(&'a mut self, token: &'a StoredToken) -> BoxFuture<'a, Result<()>> {
        let paths = self.paths.clone();
        let token = token.clone();
        Box::pin(blocking(move || write(&paths, &token)))
    }

    fn release(mut self: Box<Self>) -> BoxFuture<'static, Result<()>> {
        let file = self.file.take();
        Box::pin(async move {
            if let Some(file) = file {
                let _ = file.unlock();
            }
            Ok(())
        })
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            let _ = file.unlock();
        }
    }
}

impl TokenStorage for FileStorage {
    fn load(&self) -> BoxFuture<'_, Result<Option<StoredToken>>> {
        let paths = self.paths.clone();
        Box::pin(blocking(move || read(&paths.token)))
    }

    fn store<'a>(&'a self, token: &'a StoredToken) -> BoxFuture<'a, Result<()>> {
        Box::pin(super::store_under_lock(self, token))
    }

    fn clear(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let lock = self.lock().await?;
            let paths = self.paths.clone();
            let removed = blocking(move || {
                for path in [&paths.token, &paths.pending] {
                    match fs::remove_file(path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == ErrorKind::NotFound => {}
                        Err(e) => return Err(io_error("remove", path, e)),
                    }
                }
                sync_directory(&paths.token)
                    .map_err(|e| io_error("flush the directory of", &paths.token, e))
            })
            .await;
            lock.release().await?;
            removed
        })
    }

    fn lock(&self) -> BoxFuture<'_, Result<Box<dyn RefreshLock>>> {
        let paths = self.paths.clone();
        let timeout = self.lock_timeout;
        Box::pin(async move {
            let waiting = blocking({
                let paths = paths.clone();
                move || acquire(&paths)
            });
            let file = tokio::time::timeout(timeout, waiting).await.map_err(|_| {
                Error::storage_kind(StorageErrorKind::LockTimeout, format!(
                    "another process has held the lock {} for over {} s; if no boxauth process is \
                     running, the file system may not support locks",
                    paths.lock.display(),
                    timeout.as_secs()
                ))
            })??;
            Ok(Box::new(FileLock {
                paths,
                file: Some(file),
            }) as Box<dyn RefreshLock>)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(value: &str) -> StoredToken {
        StoredToken::new(value, std::time::UNIX_EPOCH)
    }

    #[tokio::test]
    async fn a_complete_journal_left_by_a_killed_writer_is_recovered() {
        let dir = std::env::temp_dir().join(format!("boxauth-file-{}", std::process::id()));
        let storage = FileStorage::new(dir.join("t.json"));
        storage.store(&token("old")).await.unwrap();
        // What a writer killed between its fsync and its rename leaves: its own 0600 journal.
        let journal = |bytes: &[u8]| {
            let mut file = create_new_private(&storage.paths.pending).unwrap();
            file.write_all(bytes).unwrap();
        };
        journal(&serde_json::to_vec(&token("new")).unwrap());
        let lock = storage.lock().await.unwrap();
        lock.release().await.unwrap();
        let loaded = storage.load().await.unwrap().unwrap();
        assert_eq!(loaded.access_token.secret(), "new");
        journal(b"{\"access_tok");
        storage.lock().await.unwrap().release().await.unwrap();
        assert!(!storage.paths.pending.exists(), "a torn journal is dropped");
        assert_eq!(
            storage.load().await.unwrap().unwrap().access_token.secret(),
            "new"
        );
        let _ = fs::remove_dir_all(dir);
    }
}
