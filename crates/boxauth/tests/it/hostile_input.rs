//! Hostile input against the library: each test performs one attack and checks it is refused
//! with a clear, typed error, and nothing is read, kept or shown that should not be.
//!
//! | attack | refused by |
//! |---|---|
//! | a token endpoint answering an endless body, or announcing 1 GiB | reading stops at 1 MiB |
//! | a 400 with a huge `error_description` | kept text bounded (1,024 characters) |
//! | escape sequences in `error`/`error_description` | control characters escaped |
//! | an `access_token` carrying escape bytes | only printable ASCII tokens accepted |
//! | a server echoing the client secret in its error | the secrets boxauth sent are masked |
//! | a password in the base URL's userinfo | masked in connection errors |
//! | a planted `<file>.pending` link, a planted `.pending` of another user, a planted `.lock` link | links never followed, foreign journals never adopted |
//! | a token file or directory others can write | `StorageErrorKind::Unsafe` |
//! | a token file or config that is `/dev/zero`, a FIFO or 2 MiB | regular files of bounded size only |

use crate::common;

use std::io::ErrorKind::{InvalidData, InvalidInput};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use boxauth::{
    AuthorizationManager, BoxUrls, ConfigErrorKind, Error, FileStorage, JwtConfig, NetworkSession,
    ProxyConfig, RequestAccessTokenArgs, RetryPolicy, StorageErrorKind, StoredToken, TokenStorage,
};
use boxauth_test_support::{RecordingServer, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

fn ccg() -> RequestAccessTokenArgs {
    RequestAccessTokenArgs::client_credentials(
        "cid",
        "a-client-secret-value",
        boxauth::RequestAccessTokenBoxSubjectType::Enterprise,
        "1",
    )
}

async fn answer(reply: Reply) -> Error {
    let server = RecordingServer::start().await;
    server.script([reply]);
    common::manager_for(&server, RetryPolicy::none())
        .request_access_token(ccg())
        .await
        .unwrap_err()
}

fn manager_at(base: &str) -> AuthorizationManager {
    let session = NetworkSession::builder()
        .urls(BoxUrls::new(base, &format!("{base}/api/oauth2")).unwrap())
        .proxy(ProxyConfig::None)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    AuthorizationManager::new(session)
}

/// A server that answers every request with `head` and then `chunk` forever (chunked), counting
/// the body bytes the client took before it hung up: its URL, the count, and a notification
/// once it stopped sending (the client hung up, or it sent a gibibyte).
async fn endless_server(head: &'static str) -> (String, Arc<AtomicU64>, Arc<Notify>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sent = Arc::new(AtomicU64::new(0));
    let stopped = Arc::new(Notify::new());
    let (counter, stopping) = (sent.clone(), stopped.clone());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (counter, stopping) = (counter.clone(), stopping.clone());
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                if stream.write_all(head.as_bytes()).await.is_ok() {
                    let chunk = format!("10000\r\n{}\r\n", "a".repeat(0x10000));
                    while stream.write_all(chunk.as_bytes()).await.is_ok() {
                        counter.fetch_add(0x10000, Ordering::Relaxed);
                        if counter.load(Ordering::Relaxed) > 1 << 30 {
                            break;
                        }
                    }
                }
                stopping.notify_one();
            });
        }
    });
    (url, sent, stopped)
}

#[tokio::test]
async fn an_endless_token_answer_is_not_read_past_a_mebibyte() {
    let (url, sent, stopped) = endless_server(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    .await;
    let error = manager_at(&url)
        .request_access_token(ccg())
        .await
        .unwrap_err();
    let Error::InvalidResponse(invalid) = &error else {
        panic!("{error:?}")
    };
    assert!(invalid.problem.contains("larger than 1024 KiB"), "{error}");
    // The client hung up: once the server's next write fails, what it managed to push is the
    // socket buffers' worth beyond the mebibyte, not the gibibyte it meant to send.
    tokio::time::timeout(std::time::Duration::from_secs(30), stopped.notified())
        .await
        .expect("the server saw the client hang up");
    let pushed = sent.load(Ordering::Relaxed);
    assert!(pushed < 16 << 20, "the server pushed {pushed} bytes");
}

#[tokio::test]
async fn an_announced_gibibyte_is_refused_without_reading() {
    let (url, _, _) = endless_server(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n",
    )
    .await;
    let error = manager_at(&url)
        .request_access_token(ccg())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidResponse(i) if i.problem.contains("larger than")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_huge_error_description_is_kept_bounded() {
    let description = "x".repeat(500_000);
    let error = answer(Reply::json(
        400,
        &format!(r#"{{"error":"invalid_grant","error_description":"{description}"}}"#),
    ))
    .await;
    let api = error.as_api().unwrap();
    assert_eq!(
        api.error_description.as_ref().unwrap().chars().count(),
        boxauth::internal::mask::MAX_SERVER_TEXT + 1
    );
    assert!(error.to_string().len() < 4096);
}

#[tokio::test]
async fn escape_sequences_from_the_server_are_escaped() {
    let error = answer(Reply::json(
        400,
        r#"{"error":"invalid_grant\u001b]0;owned\u0007","error_description":"\u001b[2J\u001b[Hboxauth$ fake prompt"}"#,
    ))
    .await;
    let shown = error.to_string();
    assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
    assert!(shown.contains(r"\u{1b}[2J"), "{shown}");
    let api = error.as_api().unwrap();
    assert!(api.is("invalid_grant\\u{1b}]0;owned\\u{7}"));
}

#[tokio::test]
async fn a_token_with_escape_bytes_is_refused() {
    for (field, body) in [
        (
            "access_token",
            r#"{"access_token":"abc\u001b[2Jdef","expires_in":3600,"token_type":"bearer"}"#,
        ),
        (
            "refresh_token",
            r#"{"access_token":"abcdef","refresh_token":"r e","expires_in":3600,"token_type":"bearer"}"#,
        ),
    ] {
        let error = answer(Reply::json(200, body)).await;
        let Error::InvalidResponse(invalid) = &error else {
            panic!("{field}: {error:?}")
        };
        assert!(invalid.problem.contains(field), "{error}");
        assert!(!error.to_string().contains("abc"), "{error}");
    }
}

#[tokio::test]
async fn a_server_echoing_the_client_secret_gets_it_masked() {
    let server = RecordingServer::start().await;
    server.script([Reply::json(
        400,
        r#"{"error":"invalid_request","error_description":"bad request: client_secret=a-client-secret-value&grant_type=client_credentials"}"#,
    )]);
    let error = common::manager_for(&server, RetryPolicy::none())
        .request_access_token(ccg())
        .await
        .unwrap_err();
    let shown = format!("{error} {error:?} {}", error.report());
    assert!(!shown.contains("a-client-secret-value"), "{shown}");
    assert!(shown.contains("client_secret=***"), "{shown}");
}

#[tokio::test]
async fn a_password_in_the_base_url_is_never_shown() {
    let port = boxauth_test_support::free_port();
    let error = manager_at(&format!("http://user:hunter2secret@127.0.0.1:{port}"))
        .request_access_token(ccg())
        .await
        .unwrap_err();
    let shown = format!("{error} {error:?} {}", error.report());
    assert!(matches!(error, Error::Network(_)), "{shown}");
    assert!(!shown.contains("hunter2secret"), "{shown}");
    let bad = BoxUrls::new("ftp://user:hunter2secret@host", "https://x/api/oauth2").unwrap_err();
    assert!(!format!("{bad} {bad:?}").contains("hunter2secret"), "{bad}");
}

fn a_token(secret: &str) -> StoredToken {
    StoredToken::new(
        secret.to_owned(),
        std::time::SystemTime::now() + std::time::Duration::from_secs(3600),
    )
}

fn private_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// The kind of the I/O error under `error` (a file boxauth refused: `InvalidInput` for one
/// that is not a regular file, `InvalidData` for one over the size it reads).
fn io_cause(error: &Error) -> Option<std::io::ErrorKind> {
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cause = inner.source();
    }
    None
}

#[tokio::test]
async fn a_planted_pending_link_is_never_written_through() {
    let dir = private_dir();
    let token_file = dir.path().join("token.json");
    let elsewhere = dir.path().join("world-readable.json");
    std::fs::write(&elsewhere, b"").unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.path().join("token.json.pending")).unwrap();
    let storage = FileStorage::new(&token_file);
    storage
        .store(&a_token("planted-link-test-token"))
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(&elsewhere).unwrap(),
        b"",
        "nothing written through the link"
    );
    let meta = std::fs::symlink_metadata(&token_file).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(meta.mode() & 0o777, 0o600);
    let loaded = storage.load().await.unwrap().unwrap();
    assert_eq!(loaded.access_token.secret(), "planted-link-test-token");
}

#[tokio::test]
async fn a_planted_pending_token_of_another_user_is_not_adopted() {
    let dir = private_dir();
    let token_file = dir.path().join("token.json");
    let storage = FileStorage::new(&token_file);
    storage
        .store(&a_token("the-users-own-token"))
        .await
        .unwrap();
    let pending = dir.path().join("token.json.pending");
    std::fs::write(
        &pending,
        serde_json::to_vec(&a_token("an-attackers-token")).unwrap(),
    )
    .unwrap();
    std::fs::set_permissions(&pending, std::fs::Permissions::from_mode(0o600)).unwrap();
    // Another user's file (the tests run as root, so they can plant one as `nobody`).
    std::os::unix::fs::chown(&pending, Some(65534), Some(65534)).unwrap();
    let lock = storage.lock().await.unwrap();
    lock.release().await.unwrap();
    assert!(!pending.exists(), "the foreign journal was removed");
    let loaded = storage.load().await.unwrap().unwrap();
    assert_eq!(loaded.access_token.secret(), "the-users-own-token");

    // The same with this user's file, but readable by others: not adopted either.
    std::fs::write(
        &pending,
        serde_json::to_vec(&a_token("an-attackers-token")).unwrap(),
    )
    .unwrap();
    std::fs::set_permissions(&pending, std::fs::Permissions::from_mode(0o644)).unwrap();
    storage.lock().await.unwrap().release().await.unwrap();
    let loaded = storage.load().await.unwrap().unwrap();
    assert_eq!(loaded.access_token.secret(), "the-users-own-token");
}

#[tokio::test]
async fn a_planted_lock_link_creates_nothing_at_its_target() {
    let dir = private_dir();
    let target = dir.path().join("created-by-the-attack");
    std::os::unix::fs::symlink(&target, dir.path().join("token.json.lock")).unwrap();
    let storage = FileStorage::new(dir.path().join("token.json"));
    let error = match storage.lock().await {
        Ok(_) => panic!("the lock went through a link"),
        Err(error) => error,
    };
    assert_eq!(
        error.storage_error_kind(),
        Some(StorageErrorKind::Unsafe),
        "{error}"
    );
    assert!(!target.exists());
}

#[tokio::test]
async fn a_token_file_or_directory_others_can_write_is_refused() {
    let dir = private_dir();
    let token_file = dir.path().join("token.json");
    let storage = FileStorage::new(&token_file);
    storage.store(&a_token("a-token-value")).await.unwrap();

    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let error = storage.load().await.unwrap_err();
    assert_eq!(
        error.storage_error_kind(),
        Some(StorageErrorKind::Unsafe),
        "{error}"
    );
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::chown(&token_file, Some(65534), None).unwrap();
    let error = storage.load().await.unwrap_err();
    assert_eq!(
        error.storage_error_kind(),
        Some(StorageErrorKind::Unsafe),
        "owned by another user: {error}"
    );
    std::os::unix::fs::chown(&token_file, Some(0), None).unwrap();
    assert!(storage.load().await.unwrap().is_some());

    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let error = storage.load().await.unwrap_err();
    assert_eq!(
        error.storage_error_kind(),
        Some(StorageErrorKind::Unsafe),
        "{error}"
    );
    assert_eq!(
        storage.lock().await.err().map(|e| e.storage_error_kind()),
        Some(Some(StorageErrorKind::Unsafe)),
        "nor locked there"
    );
    // With the sticky bit (as /tmp), the directory is allowed: the files themselves are checked.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    assert!(storage.load().await.unwrap().is_some());
}

#[tokio::test]
async fn endless_or_huge_files_are_refused() {
    // Not a regular file: refused before a byte is read.
    let error = FileStorage::new("/dev/zero").load().await.unwrap_err();
    assert_eq!(
        (error.storage_error_kind(), io_cause(&error)),
        (Some(StorageErrorKind::Io), Some(InvalidInput)),
        "{}",
        error.report()
    );

    let dir = private_dir();
    let fifo = dir.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for path in [std::path::Path::new("/dev/zero"), &fifo] {
        let error = JwtConfig::from_config_file(path).unwrap_err();
        assert_eq!(
            (error.config_error_kind(), io_cause(&error)),
            (Some(ConfigErrorKind::Unreadable), Some(InvalidInput)),
            "{}: {}",
            path.display(),
            error.report()
        );
    }
    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; 2 << 20]).unwrap();
    let error = JwtConfig::from_config_file(&big).unwrap_err();
    assert_eq!(
        (error.config_error_kind(), io_cause(&error)),
        (Some(ConfigErrorKind::Unreadable), Some(InvalidData)),
        "{}",
        error.report()
    );
    let big_token = dir.path().join("token.json");
    std::fs::write(&big_token, vec![b' '; 1 << 20]).unwrap();
    std::fs::set_permissions(&big_token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let error = FileStorage::new(&big_token).load().await.unwrap_err();
    assert_eq!(
        (error.storage_error_kind(), io_cause(&error)),
        (Some(StorageErrorKind::Io), Some(InvalidData)),
        "{}",
        error.report()
    );
}
