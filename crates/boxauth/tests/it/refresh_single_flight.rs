//! Single flight within a process: 1,000 tasks asking for a token at expiry send exactly one token
//! request, and all of them get the same token.

use std::sync::Arc;
use std::time::Duration;

use boxauth::{AuthOptions, Authentication, MemoryStorage, OAuth, OAuthConfig, TokenStorage};
use boxauth_emulator::{DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, Grant};
use boxauth_test_support::emulator as emu;

const TASKS: usize = 1000;

async fn all_at_once(auth: Arc<dyn Authentication>) -> Vec<String> {
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let auth = auth.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let token = auth.retrieve_token().await.unwrap();
                token.access_token.secret().to_owned()
            })
        })
        .collect();
    let mut tokens = Vec::with_capacity(TASKS);
    for task in tasks {
        tokens.push(task.await.unwrap());
    }
    tokens
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_tasks_at_expiry_send_one_refresh() {
    let emulator = emu::start().await;
    let storage = MemoryStorage::new();
    emu::stored_oauth_pair(&emulator, &storage).await;
    let auth = OAuth::with_options(
        OAuthConfig::new(ID, SECRET),
        emu::options_for(&emulator, AuthOptions::default().storage(storage.clone())),
    )
    .unwrap();
    // An hour later, for Box and boxauth alike: the access token has expired, the refresh token
    // (60 days) is good.
    emulator.clock().advance(Duration::from_secs(3601));

    let before = emulator.stats().requests(Grant::RefreshToken);
    let tokens = all_at_once(Arc::new(auth)).await;
    assert_eq!(
        emulator.stats().requests(Grant::RefreshToken) - before,
        1,
        "exactly one refresh reached the emulator"
    );
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "every task got the same token"
    );
    let stored = storage.load().await.unwrap().unwrap();
    assert_eq!(
        stored.access_token.secret(),
        tokens[0],
        "and it is the stored one"
    );
    assert_eq!(emu::users_me(&emulator, &tokens[0], None).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_tasks_with_no_token_yet_send_one_request() {
    let emulator = emu::start().await;
    let auth = emu::ccg_auth(&emulator, AuthOptions::default());
    let tokens = all_at_once(Arc::new(auth)).await;
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 1);
    assert!(tokens.iter().all(|t| t == &tokens[0]));
}
