//! A refresh is a flight of its own: a caller that gives up does not cut it short (a rotated
//! refresh token is stored all the same), a source that panics ends the flight with an error
//! instead of wedging every later caller, and without a Tokio runtime the error says so.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use boxauth::{
    AuthOptions, Authentication, BoxFuture, CachedAuth, ConfigErrorKind, Error, FetchContext,
    MemoryStorage, OAuth, OAuthConfig, StoredToken, TokenSource, TokenStorage,
};
use boxauth_emulator::{
    Clock, DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, Fault, Grant,
};
use boxauth_test_support::emulator as emu;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_gives_up_does_not_cut_a_refresh_short() {
    let emulator = emu::start().await;
    let storage = MemoryStorage::new();
    let before = emu::stored_oauth_pair(&emulator, &storage).await;
    let auth = OAuth::with_options(
        OAuthConfig::new(ID, SECRET),
        emu::options_for(&emulator, AuthOptions::default().storage(storage.clone())),
    )
    .unwrap();
    emulator.clock().advance(Duration::from_secs(3601));
    // Box is slow: the refresh request is held before Box rotates the refresh token.
    emulator
        .faults()
        .script([Fault::Latency(Duration::from_millis(300))]);
    let caller = tokio::spawn({
        let auth = auth.clone();
        async move { auth.retrieve_token().await }
    });
    while emulator.faults().injected() == 0 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // The caller gives up (a timeout, a dropped request) while Box holds the refresh.
    caller.abort();
    assert!(caller.await.unwrap_err().is_cancelled());
    // The flight goes on: the rotated pair reaches storage.
    let after = loop {
        let stored = storage.load().await.unwrap().unwrap();
        if !stored.has_access_token(&before.access_token) {
            break stored;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_ne!(
        after.refresh_token.as_ref().unwrap().secret(),
        before.refresh_token.as_ref().unwrap().secret()
    );
    let token = auth.retrieve_token().await.unwrap();
    assert!(token.has_access_token(&after.access_token));
    assert_eq!(emulator.stats().issued(Grant::RefreshToken), 1);
    assert_eq!(emulator.stats().refresh_token_reuses, 0);
}

/// A source whose first fetch panics; later ones give a token for an hour.
#[derive(Debug, Default)]
struct PanicsOnce {
    fetches: AtomicUsize,
}

impl TokenSource for PanicsOnce {
    fn fetch<'a>(
        &'a self,
        context: FetchContext<'a>,
    ) -> BoxFuture<'a, boxauth::Result<StoredToken>> {
        Box::pin(async move {
            if self.fetches.fetch_add(1, Ordering::Relaxed) == 0 {
                panic!("a bug in a user's token source");
            }
            Ok(StoredToken::new(
                "after-the-panic",
                context.now() + Duration::from_secs(3600),
            ))
        })
    }
}

#[tokio::test]
async fn a_source_that_panics_ends_its_flight_with_an_error_and_the_next_one_starts_afresh() {
    let clock = Clock::system();
    let auth = CachedAuth::from_source(
        PanicsOnce::default(),
        AuthOptions::default().time_source(clock.clone()),
    )
    .unwrap();
    let callers: Vec<_> = (0..10)
        .map(|_| {
            let auth = auth.clone();
            tokio::spawn(async move { auth.retrieve_token().await })
        })
        .collect();
    for caller in callers {
        assert!(matches!(
            caller.await.unwrap(),
            Err(Error::RefreshInterrupted)
        ));
    }
    assert_eq!(auth.source().fetches.load(Ordering::Relaxed), 1);
    // Past the short wait a failure imposes, the next caller starts a new flight.
    clock.advance(Duration::from_secs(2));
    let token = auth.retrieve_token().await.unwrap();
    assert_eq!(token.access_token.secret(), "after-the-panic");
    assert_eq!(auth.source().fetches.load(Ordering::Relaxed), 2);
}

#[test]
fn without_a_tokio_runtime_the_error_says_so() {
    let auth = CachedAuth::from_source(PanicsOnce::default(), AuthOptions::default()).unwrap();
    let mut call = std::pin::pin!(auth.retrieve_token());
    let mut context = Context::from_waker(Waker::noop());
    match call.as_mut().poll(&mut context) {
        Poll::Ready(Err(Error::Config(error))) => {
            assert_eq!(error.kind(), ConfigErrorKind::NoRuntime, "{error}");
        }
        other => panic!("expected a configuration error at once, got {other:?}"),
    }
    assert_eq!(auth.source().fetches.load(Ordering::Relaxed), 0);
}

#[test]
fn the_cached_path_is_ready_without_a_runtime_and_shares_one_token() {
    // A token already in storage is all a caller needs: no runtime, no refresh.
    let storage = MemoryStorage::new();
    let token = StoredToken::new(
        "stored",
        std::time::SystemTime::now() + Duration::from_secs(3600),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(storage.store(&token)).unwrap();
    let auth = CachedAuth::from_source(
        PanicsOnce::default(),
        AuthOptions::default().storage(storage),
    )
    .unwrap();
    let first = runtime.block_on(auth.retrieve_token()).unwrap();
    drop(runtime);
    let mut context = Context::from_waker(Waker::noop());
    let mut again = std::pin::pin!(auth.retrieve_token());
    match again.as_mut().poll(&mut context) {
        Poll::Ready(Ok(token)) => assert!(Arc::ptr_eq(&token, &first)),
        other => panic!("expected the cached token at once, got {other:?}"),
    }
}
