//! Single flight within a process: 1,000 tasks asking for a token at expiry send exactly one token
//! request, and all of them get the same token.

use std::sync::Arc;
use std::time::SystemTime;

use boxauth::{
    AuthOptions, Authentication, CcgAuth, CcgConfig, MemoryStorage, OAuth, OAuthConfig,
    StoredToken, TokenStorage,
};
use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID, Grant,
};
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
                token.access_token.as_ref().unwrap().secret().to_owned()
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
    // Stored as it would be an hour later: the access token just expired, the refresh token is good.
    let expired = emu::oauth_pair(&emulator).await;
    let storage = MemoryStorage::new();
    storage
        .store(&StoredToken {
            expires_at: Some(boxauth_now() - 1),
            ..StoredToken::new(expired, SystemTime::now())
        })
        .await
        .unwrap();
    let auth = OAuth::with_options(
        OAuthConfig::new(ID, SECRET),
        AuthOptions::default()
            .session(emu::session(&emulator))
            .storage(storage.clone()),
    )
    .unwrap();

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
        stored.access_token.as_ref().unwrap().secret(),
        tokens[0],
        "and it is the stored one"
    );
    assert_eq!(emu::users_me(&emulator, &tokens[0], None).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_tasks_with_no_token_yet_send_one_request() {
    let emulator = emu::start().await;
    let auth = CcgAuth::with_options(
        CcgConfig::enterprise(ID, SECRET, DEFAULT_ENTERPRISE_ID),
        AuthOptions::default().session(emu::session(&emulator)),
    )
    .unwrap();
    let tokens = all_at_once(Arc::new(auth)).await;
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 1);
    assert!(tokens.iter().all(|t| t == &tokens[0]));
}

fn boxauth_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
