//! A user's own scheme (the `custom_scheme` example's `DownscopedToken` source) under
//! `CachedAuth`: it gets a token, the token is cached, a stampede at expiry sends one request, and
//! a failing Box is met with back-off, like Box's own schemes. On the emulator's clock.

#[path = "../../examples/custom_scheme/downscoped.rs"]
mod downscoped;

use std::sync::Arc;
use std::time::Duration;

use boxauth::{AuthOptions, Authentication, CachedAuth, ResourceScopeScope};
use boxauth_emulator::{EmulatorHandle, Fault, Grant};
use boxauth_test_support::emulator as emu;
use downscoped::DownscopedToken;

const FILE: &str = "https://api.box.com/2.0/files/400000001";

/// A preview-only token for one file, from a CCG parent (margin 60 s); the child refreshes 600 s
/// before expiry, so it is inside its margin while the parent is not.
fn preview(emulator: &EmulatorHandle) -> CachedAuth<DownscopedToken> {
    let parent = emu::ccg_auth(emulator, AuthOptions::default());
    CachedAuth::from_source(
        DownscopedToken::new(Arc::new(parent), &["item_preview"], FILE),
        emu::options_for(
            emulator,
            AuthOptions::default().refresh_margin(Duration::from_secs(600)),
        ),
    )
    .unwrap()
}

fn exchanges(emulator: &EmulatorHandle) -> u64 {
    emulator.stats().requests(Grant::TokenExchange)
}

#[tokio::test]
async fn a_users_own_scheme_gets_a_token_and_it_is_cached() {
    let emulator = emu::start().await;
    let auth = preview(&emulator);
    let token = auth.retrieve_token().await.unwrap();
    let restricted = token.restricted_to.as_deref().unwrap();
    assert_eq!(restricted.len(), 1);
    assert_eq!(restricted[0].scope, Some(ResourceScopeScope::ItemPreview));
    let again = auth.retrieve_token().await.unwrap();
    assert!(Arc::ptr_eq(&token, &again), "served from the cache");
    assert_eq!(exchanges(&emulator), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stampede_at_expiry_sends_one_exchange() {
    let emulator = emu::start().await;
    let auth = preview(&emulator);
    let first = auth.retrieve_token().await.unwrap();
    emulator.clock().advance(Duration::from_secs(3601));
    let barrier = Arc::new(tokio::sync::Barrier::new(1000));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let (auth, barrier) = (auth.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                auth.retrieve_token().await.unwrap()
            })
        })
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap());
    }
    assert_eq!(
        exchanges(&emulator),
        2,
        "one exchange at first, one at expiry"
    );
    assert!(!tokens[0].has_access_token(&first.access_token));
    assert!(tokens.iter().all(|t| Arc::ptr_eq(t, &tokens[0])));
}

#[tokio::test]
async fn a_users_own_scheme_backs_off_while_box_fails() {
    let emulator = emu::start().await;
    let auth = preview(&emulator);
    let first = auth.retrieve_token().await.unwrap();
    // 300 s left: inside the child's margin, not the parent's.
    emulator.clock().advance(Duration::from_secs(3600 - 300));
    emulator.faults().set_rate(1.0, vec![Fault::Status(503)]);
    let same = auth.retrieve_token().await.unwrap();
    assert!(
        same.has_access_token(&first.access_token),
        "the valid token at once"
    );
    // A forced refresh joins the background one and reports how it ended.
    assert_eq!(auth.refresh_token().await.unwrap_err().status(), Some(503));
    assert_eq!(emulator.faults().injected(), 1, "one exchange reached Box");
    for _ in 0..25 {
        emulator.clock().advance(Duration::from_secs(1));
        let token = auth.retrieve_token().await.unwrap();
        assert!(token.has_access_token(&first.access_token));
    }
    tokio::task::yield_now().await;
    assert_eq!(
        emulator.faults().injected(),
        1,
        "no new exchange during the back-off"
    );
    emulator.faults().clear();
    emulator.clock().advance(Duration::from_secs(25));
    auth.retrieve_token().await.unwrap();
    let fresh = emu::refreshed(&auth).await;
    assert!(!fresh.has_access_token(&first.access_token));
    assert_eq!(exchanges(&emulator), 2);
}
