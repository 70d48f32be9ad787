//! The refresh protocol's rules, one test each: margin, 401 only if current, invalid_grant re-reads
//! storage once, the new token is stored before anyone uses it, a failed proactive refresh keeps a
//! still-valid token.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use boxauth::{
    AccessToken, AuthOptions, Authentication, BoxClient, BoxFuture, BoxUrls, CcgAuth, CcgConfig,
    Error, MemoryStorage, NetworkSession, OAuth, OAuthConfig, ProxyConfig, ReauthorizationKind,
    RefreshLock, RetryPolicy, StorageErrorKind, StoredToken, TokenStorage,
};
use boxauth_emulator::{
    Clock, DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID, Fault,
    Grant,
};
use boxauth_test_support::emulator as emu;
use boxauth_test_support::{RecordingServer, Reply};

/// A token Box issued now on `clock`, valid for an hour.
fn issued(access: &str, refresh: Option<&str>, clock: &Clock) -> StoredToken {
    let answer = AccessToken {
        access_token: Some(access.into()),
        refresh_token: refresh.map(Into::into),
        expires_in: Some(3600),
        ..AccessToken::default()
    };
    StoredToken::from_access_token(answer, clock.now()).unwrap()
}

fn seconds(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[tokio::test]
async fn a_token_inside_the_margin_is_refreshed_before_it_expires() {
    let emulator = emu::start().await;
    let storage = MemoryStorage::new();
    storage
        .store(&issued("old-but-valid", None, emulator.clock()))
        .await
        .unwrap();
    emulator.clock().advance(seconds(3500));
    let lenient = emu::ccg_stored(&emulator, storage.clone(), Duration::from_secs(60));
    assert_eq!(
        lenient
            .retrieve_token()
            .await
            .unwrap()
            .access_token
            .secret(),
        "old-but-valid"
    );
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 0);
    let eager = emu::ccg_stored(&emulator, storage, Duration::from_secs(120));
    assert_ne!(
        eager.retrieve_token().await.unwrap().access_token.secret(),
        "old-but-valid"
    );
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 1);
}

#[tokio::test]
async fn a_401_invalidates_the_token_only_if_it_is_still_current() {
    let emulator = emu::start().await;
    let auth = emu::ccg_stored(&emulator, MemoryStorage::new(), Duration::from_secs(60));
    let first = auth.retrieve_token().await.unwrap();
    let second = auth.refresh_token().await.unwrap();
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 2);
    // A late 401 for the first token must not throw away the second.
    auth.invalidate_token(&first.access_token);
    let again = auth.retrieve_token().await.unwrap();
    assert!(Arc::ptr_eq(&again, &second));
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 2);
    // A 401 for the current one does.
    auth.invalidate_token(&second.access_token);
    let third = auth.retrieve_token().await.unwrap();
    assert_ne!(third.access_token.secret(), second.access_token.secret());
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 3);
}

#[tokio::test]
async fn an_api_call_answered_401_gets_a_new_token_and_is_retried_once() {
    let emulator = emu::start().await;
    let auth = emu::ccg_stored(&emulator, MemoryStorage::new(), Duration::from_secs(60));
    let client = BoxClient::new(auth.clone());
    let token = auth.retrieve_token().await.unwrap();
    // Revoked behind the client's back: its next call is answered 401.
    emu::revoke(&emulator, token.access_token.secret()).await;
    assert_eq!(
        client.users_me().await.unwrap().id,
        boxauth_emulator::DEFAULT_SERVICE_ACCOUNT_ID
    );
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 2);
}

/// Storage whose content is replaced by "another process" right after the first read under the
/// refresh lock (the process spends what it read there); `reads` counts the reads under it.
#[derive(Debug, Clone)]
struct ChangedAfterFirstRead {
    inner: MemoryStorage,
    next: Arc<Mutex<Option<StoredToken>>>,
    reads: Arc<Mutex<usize>>,
    locked: Arc<Mutex<bool>>,
}

impl ChangedAfterFirstRead {
    /// Storage holding `token`, which another process replaces with `next` (if any) once this
    /// process holds the refresh lock.
    async fn holding(token: StoredToken, next: Option<StoredToken>) -> Self {
        let storage = Self {
            inner: MemoryStorage::new(),
            next: Arc::new(Mutex::new(next)),
            reads: Arc::new(Mutex::new(0)),
            locked: Arc::new(Mutex::new(false)),
        };
        storage.inner.store(&token).await.unwrap();
        storage
    }
}

impl TokenStorage for ChangedAfterFirstRead {
    fn load(&self) -> BoxFuture<'_, boxauth::Result<Option<StoredToken>>> {
        Box::pin(async move {
            let loaded = self.inner.load().await;
            if !*self.locked.lock().unwrap() {
                // `[read-before-lock]`: a process's first read, before the lock.
                return loaded;
            }
            *self.reads.lock().unwrap() += 1;
            let next = self.next.lock().unwrap().take();
            if let Some(next) = next {
                self.inner.store(&next).await?;
            }
            loaded
        })
    }
    fn store<'a>(&'a self, token: &'a StoredToken) -> BoxFuture<'a, boxauth::Result<()>> {
        self.inner.store(token)
    }
    fn clear(&self) -> BoxFuture<'_, boxauth::Result<()>> {
        self.inner.clear()
    }
    fn lock(&self) -> BoxFuture<'_, boxauth::Result<Box<dyn RefreshLock>>> {
        *self.locked.lock().unwrap() = true;
        self.inner.lock()
    }
}

fn recording_session(server: &RecordingServer) -> NetworkSession {
    NetworkSession::builder()
        .urls(BoxUrls::new(&server.url(), &server.url()).unwrap())
        .proxy(ProxyConfig::None)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

const INVALID_GRANT: &str =
    r#"{"error":"invalid_grant","error_description":"Refresh token has expired"}"#;

async fn oauth_over(
    server: &RecordingServer,
    storage: ChangedAfterFirstRead,
    clock: &Clock,
) -> OAuth {
    OAuth::with_options(
        OAuthConfig::new("cid", "sec"),
        AuthOptions::default()
            .session(recording_session(server))
            .storage(storage)
            .time_source(clock.clone()),
    )
    .unwrap()
}

#[tokio::test]
async fn invalid_grant_re_reads_storage_and_uses_what_another_process_stored() {
    // The other process's token is valid: it is used, and no second request is sent.
    let server = RecordingServer::start().await;
    server.script([Reply::json(400, INVALID_GRANT)]);
    let clock = Clock::system();
    let expired = issued("expired", Some("R1"), &clock);
    clock.advance(seconds(3610));
    let theirs = issued("theirs", Some("R2"), &clock);
    let storage = ChangedAfterFirstRead::holding(expired, Some(theirs)).await;
    let auth = oauth_over(&server, storage.clone(), &clock).await;
    let token = auth.retrieve_token().await.unwrap();
    assert_eq!(token.access_token.secret(), "theirs");
    assert_eq!(server.requests().len(), 1);
    assert!(
        server.requests()[0]
            .body_text()
            .contains("refresh_token=R1")
    );
}

#[tokio::test]
async fn invalid_grant_retries_once_with_the_refresh_token_another_process_stored() {
    let server = RecordingServer::start().await;
    server.script([
        Reply::json(400, INVALID_GRANT),
        Reply::json(200, r#"{"access_token":"mine","expires_in":3600,"token_type":"bearer","refresh_token":"R3"}"#),
    ]);
    let clock = Clock::system();
    let storage = ChangedAfterFirstRead::holding(
        issued("expired", Some("R1"), &clock),
        Some(issued("expired-too", Some("R2"), &clock)),
    )
    .await;
    clock.advance(seconds(3610));
    let auth = oauth_over(&server, storage.clone(), &clock).await;
    assert_eq!(
        auth.retrieve_token().await.unwrap().access_token.secret(),
        "mine"
    );
    let bodies: Vec<String> = server.requests().iter().map(|r| r.body_text()).collect();
    assert_eq!(bodies.len(), 2);
    assert!(
        bodies[0].contains("refresh_token=R1") && bodies[1].contains("refresh_token=R2"),
        "{bodies:?}"
    );
    assert_eq!(
        storage
            .inner
            .load()
            .await
            .unwrap()
            .unwrap()
            .refresh_token
            .unwrap()
            .secret(),
        "R3"
    );
}

#[tokio::test]
async fn invalid_grant_with_nothing_new_in_storage_requires_reauthorization() {
    let server = RecordingServer::start().await;
    server.set_fallback(Reply::json(400, INVALID_GRANT));
    let clock = Clock::system();
    let storage = ChangedAfterFirstRead::holding(issued("expired", Some("R1"), &clock), None).await;
    clock.advance(seconds(3610));
    let auth = oauth_over(&server, storage.clone(), &clock).await;
    let error = auth.retrieve_token().await.unwrap_err();
    assert!(
        matches!(&error, Error::ReauthorizationRequired(e) if e.kind() == ReauthorizationKind::RefreshTokenRefused),
        "{error}"
    );
    // Box's refusal survives as the cause, with its description.
    let Error::ReauthorizationRequired(reauthorize) = &error else {
        unreachable!()
    };
    let refusal = reauthorize.cause().and_then(Error::as_api).unwrap();
    assert_eq!(
        refusal.error_description.as_deref(),
        Some("Refresh token has expired")
    );
    assert_eq!(
        std::error::Error::source(&error).map(ToString::to_string),
        Some(refusal.to_string()),
        "the refusal is the error's source(), printed once"
    );
    assert!(!error.to_string().contains("Refresh token has expired"));
    assert_eq!(server.requests().len(), 1, "exactly one request");
    assert_eq!(
        *storage.reads.lock().unwrap(),
        2,
        "under the lock, storage was read once more after the refusal"
    );
}

/// Storage that refuses every write made under the refresh lock.
#[derive(Debug, Clone, Default)]
struct ReadOnlyDisk(MemoryStorage);

struct FailingLock;

impl RefreshLock for FailingLock {
    fn store<'a>(&'a mut self, _token: &'a StoredToken) -> BoxFuture<'a, boxauth::Result<()>> {
        Box::pin(async { Err(Error::storage("disk full")) })
    }
    fn release(self: Box<Self>) -> BoxFuture<'static, boxauth::Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

impl TokenStorage for ReadOnlyDisk {
    fn load(&self) -> BoxFuture<'_, boxauth::Result<Option<StoredToken>>> {
        self.0.load()
    }
    fn store<'a>(&'a self, token: &'a StoredToken) -> BoxFuture<'a, boxauth::Result<()>> {
        self.0.store(token)
    }
    fn clear(&self) -> BoxFuture<'_, boxauth::Result<()>> {
        self.0.clear()
    }
    fn lock(&self) -> BoxFuture<'_, boxauth::Result<Box<dyn RefreshLock>>> {
        Box::pin(async { Ok(Box::new(FailingLock) as Box<dyn RefreshLock>) })
    }
}

#[tokio::test]
async fn a_new_token_that_could_not_be_stored_is_never_handed_out() {
    let emulator = emu::start().await;
    let options = AuthOptions::default()
        .session(emu::session(&emulator))
        .storage(ReadOnlyDisk::default());
    let auth = CcgAuth::with_options(
        CcgConfig::enterprise(ID, SECRET, DEFAULT_ENTERPRISE_ID),
        options,
    )
    .unwrap();
    let error = auth.retrieve_token().await.unwrap_err();
    assert!(
        matches!(&error, Error::Storage(e) if e.kind() == StorageErrorKind::Other && e.message() == "disk full"),
        "{error}"
    );
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 1);
}

/// Storage whose first `lose` writes under the lock are lost on the way, each reported as
/// Redis reports a write no replica confirmed (`NotReplicated`): the failover case.
#[derive(Debug, Clone, Default)]
struct LosesWrites {
    inner: MemoryStorage,
    lose: Arc<Mutex<u32>>,
    lost: Arc<Mutex<u32>>,
}

struct LosingLock(LosesWrites);

impl RefreshLock for LosingLock {
    fn store<'a>(&'a mut self, token: &'a StoredToken) -> BoxFuture<'a, boxauth::Result<()>> {
        Box::pin(async move {
            {
                let mut lose = self.0.lose.lock().unwrap();
                if *lose > 0 {
                    *lose -= 1;
                    *self.0.lost.lock().unwrap() += 1;
                    return Err(boxauth::StorageError::new(
                        StorageErrorKind::NotReplicated,
                        "no replica confirmed it",
                    )
                    .into());
                }
            }
            self.0.inner.store(token).await
        })
    }
    fn release(self: Box<Self>) -> BoxFuture<'static, boxauth::Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

impl TokenStorage for LosesWrites {
    fn load(&self) -> BoxFuture<'_, boxauth::Result<Option<StoredToken>>> {
        self.inner.load()
    }
    fn store<'a>(&'a self, token: &'a StoredToken) -> BoxFuture<'a, boxauth::Result<()>> {
        self.inner.store(token)
    }
    fn clear(&self) -> BoxFuture<'_, boxauth::Result<()>> {
        self.inner.clear()
    }
    fn lock(&self) -> BoxFuture<'_, boxauth::Result<Box<dyn RefreshLock>>> {
        let lock = LosingLock(self.clone());
        Box::pin(async move { Ok(Box::new(lock) as Box<dyn RefreshLock>) })
    }
}

fn oauth_on(emulator: &boxauth_emulator::EmulatorHandle, storage: LosesWrites) -> OAuth {
    OAuth::with_options(
        OAuthConfig::new(ID, SECRET),
        AuthOptions::default()
            .session(emu::session(emulator))
            .storage(storage)
            .time_source(emulator.clock().clone()),
    )
    .unwrap()
}

/// An emulator, and storage holding an OAuth pair an hour old whose next `lose` writes are lost.
async fn expired_pair_losing(
    lose: u32,
) -> (boxauth_emulator::EmulatorHandle, LosesWrites, StoredToken) {
    let emulator = emu::start().await;
    let storage = LosesWrites::default();
    let pair =
        StoredToken::from_access_token(emu::oauth_pair(&emulator).await, emulator.clock().now())
            .unwrap();
    storage.inner.store(&pair).await.unwrap();
    emulator.clock().advance(seconds(3601));
    *storage.lose.lock().unwrap() = lose;
    (emulator, storage, pair)
}

#[tokio::test]
async fn a_new_token_storage_did_not_confirm_is_served_and_written_again_so_no_refresh_token_is_lost()
 {
    let (emulator, storage, pair) = expired_pair_losing(3).await;

    let auth = oauth_on(&emulator, storage.clone());
    let token = auth.retrieve_token().await.unwrap();
    assert_ne!(token.access_token.secret(), pair.access_token.secret());
    assert_eq!(
        emu::users_me(&emulator, token.access_token.secret(), None)
            .await
            .0,
        200,
        "the refreshed token is served although storage did not confirm it"
    );
    // Written again, in the background, until storage keeps it.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let held = storage.inner.load().await.unwrap().unwrap();
        if held.has_access_token(&token.access_token) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never written again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(*storage.lost.lock().unwrap(), 3, "three writes were lost");
    assert_eq!(emulator.stats().requests(Grant::RefreshToken), 1);

    // Another process, an hour later: the refresh token in storage is the live one.
    emulator.clock().advance(seconds(3601));
    let next = oauth_on(&emulator, storage.clone());
    let again = next.retrieve_token().await.unwrap();
    assert_eq!(
        emu::users_me(&emulator, again.access_token.secret(), None)
            .await
            .0,
        200
    );
    assert_eq!(emulator.stats().requests(Grant::RefreshToken), 2);
    assert_eq!(emulator.stats().refresh_token_reuses, 0);
}

#[tokio::test]
async fn without_the_rewrite_a_lost_write_would_cost_the_login() {
    // The control for the test above: the same lost write, with nobody to write it again (the
    // process that refreshed is gone), leaves a spent refresh token in storage.
    let (emulator, storage, _) = expired_pair_losing(1).await;
    let auth = oauth_on(&emulator, storage.clone());
    auth.retrieve_token().await.unwrap();
    drop(auth);
    let next = oauth_on(&emulator, storage.clone());
    let error = next.retrieve_token().await.unwrap_err();
    assert!(
        matches!(&error, Error::ReauthorizationRequired(_)),
        "{error}"
    );
}

#[tokio::test]
async fn a_failed_proactive_refresh_keeps_serving_the_still_valid_token() {
    let emulator = emu::start().await;
    let storage = MemoryStorage::new();
    storage
        .store(&issued("still-valid-for-30s", None, emulator.clock()))
        .await
        .unwrap();
    emulator.clock().advance(seconds(3570));
    let auth = emu::ccg_stored(&emulator, storage, Duration::from_secs(60));
    emulator.faults().script([Fault::Status(503)]);
    let token = auth.retrieve_token().await.unwrap();
    assert_eq!(token.access_token.secret(), "still-valid-for-30s");
    assert_eq!(emulator.faults().injected(), 1);
    // A forced refresh, though, reports the failure.
    emulator.faults().script([Fault::Status(503)]);
    assert_eq!(auth.refresh_token().await.unwrap_err().status(), Some(503));
}

#[tokio::test]
async fn an_explicit_refresh_with_nothing_cached_yet_still_refreshes() {
    let emulator = emu::start().await;
    let storage = MemoryStorage::new();
    storage
        .store(&issued("valid-for-an-hour", None, emulator.clock()))
        .await
        .unwrap();
    // A new process: its cache is empty, the storage holds a perfectly valid token.
    let auth = emu::ccg_stored(&emulator, storage.clone(), Duration::from_secs(60));
    let fresh = auth.refresh_token().await.unwrap();
    assert_ne!(fresh.access_token.secret(), "valid-for-an-hour");
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 1);
    let kept = storage.load().await.unwrap().unwrap();
    assert_eq!(kept.access_token.secret(), fresh.access_token.secret());
}

/// Memory storage that counts the refresh locks taken.
#[derive(Debug, Clone, Default)]
struct CountedLocks {
    inner: MemoryStorage,
    locks: Arc<Mutex<usize>>,
}

impl TokenStorage for CountedLocks {
    fn load(&self) -> BoxFuture<'_, boxauth::Result<Option<StoredToken>>> {
        self.inner.load()
    }
    fn store<'a>(&'a self, token: &'a StoredToken) -> BoxFuture<'a, boxauth::Result<()>> {
        self.inner.store(token)
    }
    fn clear(&self) -> BoxFuture<'_, boxauth::Result<()>> {
        self.inner.clear()
    }
    fn lock(&self) -> BoxFuture<'_, boxauth::Result<Box<dyn RefreshLock>>> {
        *self.locks.lock().unwrap() += 1;
        self.inner.lock()
    }
}

#[tokio::test]
async fn a_processs_first_call_takes_a_usable_stored_token_without_the_lock() {
    // `[read-before-lock]`: another process stored a fresh token; this one's first call reads it,
    // takes no lock and asks Box nothing.
    let emulator = emu::start().await;
    let storage = CountedLocks::default();
    storage
        .inner
        .store(&issued("theirs", None, emulator.clock()))
        .await
        .unwrap();
    let auth = emu::ccg_auth(&emulator, AuthOptions::default().storage(storage.clone()));
    assert_eq!(
        auth.retrieve_token().await.unwrap().access_token.secret(),
        "theirs"
    );
    assert_eq!(*storage.locks.lock().unwrap(), 0, "no lock taken");
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 0);
    // Expired there: the read finds nothing usable, and the refresh takes the lock.
    emulator.clock().advance(seconds(3601));
    let fresh = emu::ccg_auth(&emulator, AuthOptions::default().storage(storage.clone()));
    assert_ne!(
        fresh.retrieve_token().await.unwrap().access_token.secret(),
        "theirs"
    );
    assert_eq!(*storage.locks.lock().unwrap(), 1);
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 1);
}
