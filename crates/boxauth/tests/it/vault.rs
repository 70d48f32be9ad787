//! The token vault on its in-memory engine, against the emulator: connecting users through the
//! consent page (state checked per user), one refresh per identity however many callers, a
//! refused refresh token as one event and no retry storm, disconnect revoking at Box, bounded
//! memory, import, keep-alive, sealing, and per-user tokens of a CCG or JWT app. The same rules
//! on PostgreSQL across processes are in `vault_postgres`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use boxauth::{
    AuthOptions, Authentication, AuthorizeOptions, BoxClient, CcgConfig, Error, IdentityStatus,
    KeySet, OAuthConfig, ReauthReason, ReauthorizationKind, SweepOptions, Vault, VaultErrorKind,
    VaultEvent, VaultKey, VaultStore,
};
use boxauth_emulator::headless::{self, Decision};
use boxauth_emulator::{
    DEFAULT_ADMIN_ID, DEFAULT_ADMIN_LOGIN, DEFAULT_CLIENT_ID as ID,
    DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_REDIRECT_URI, EmulatorHandle, Grant,
};
use boxauth_test_support::emulator as emu;

const DAY: Duration = Duration::from_secs(24 * 3600);

fn keys() -> KeySet {
    KeySet::new(VaultKey::generate("k1").unwrap().0, []).unwrap()
}

/// A vault of the emulator's default app on its clock, in memory; its events recorded.
fn vault(emulator: &EmulatorHandle) -> (Vault, Arc<Mutex<Vec<VaultEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let vault = Vault::builder(OAuthConfig::new(ID, SECRET))
        .store(VaultStore::memory())
        .keys(keys())
        .options(emu::options_for(emulator, AuthOptions::default()))
        .on_event(move |event| seen.lock().unwrap().push(event.clone()))
        .build()
        .unwrap();
    (vault, events)
}

/// `user_key` connected as the emulator's admin would, through the consent page.
async fn connect(vault: &Vault, user_key: &str) -> Arc<dyn Authentication> {
    let request = vault
        .authorize_url(
            user_key,
            AuthorizeOptions::default().redirect_uri(DEFAULT_REDIRECT_URI),
        )
        .unwrap();
    let callback = emu::approve(&request.url).await;
    vault
        .complete_authorization(user_key, &callback)
        .await
        .unwrap()
}

async fn me(auth: Arc<dyn Authentication>) -> String {
    BoxClient::from_shared(auth).users_me().await.unwrap().id
}

#[tokio::test]
async fn a_user_connects_and_their_identity_works_everywhere_an_auth_does() {
    let emulator = emu::start().await;
    let (vault, _) = vault(&emulator);
    let auth = connect(&vault, "alice").await;
    assert_eq!(me(auth).await, DEFAULT_ADMIN_ID);
    assert_eq!(me(vault.auth("alice").unwrap()).await, DEFAULT_ADMIN_ID);
    assert!(matches!(
        vault.status("alice").await.unwrap(),
        IdentityStatus::Active { .. }
    ));
    assert_eq!(
        vault.status("bob").await.unwrap(),
        IdentityStatus::NotConnected
    );
    let unknown = vault
        .auth("bob")
        .unwrap()
        .retrieve_token()
        .await
        .unwrap_err();
    assert_eq!(
        unknown.vault_error_kind(),
        Some(VaultErrorKind::UnknownIdentity)
    );
}

#[tokio::test]
async fn a_callback_is_checked_for_the_user_who_started_it() {
    let emulator = emu::start().await;
    let (vault, _) = vault(&emulator);
    let request = vault
        .authorize_url(
            "alice",
            AuthorizeOptions::default().redirect_uri(DEFAULT_REDIRECT_URI),
        )
        .unwrap();
    assert!(
        !request.url.contains("alice"),
        "the user key is not sent to Box"
    );
    let callback = emu::approve(&request.url).await;
    // Mallory's session completing Alice's callback, or a state altered on the way: refused
    // before the code is spent.
    let kind = |e: Error| e.vault_error_kind();
    assert_eq!(
        kind(
            vault
                .complete_authorization("mallory", &callback)
                .await
                .unwrap_err()
        ),
        Some(VaultErrorKind::StateMismatch)
    );
    let altered = callback.replace("state=", "state=x");
    assert_eq!(
        kind(
            vault
                .complete_authorization("alice", &altered)
                .await
                .unwrap_err()
        ),
        Some(VaultErrorKind::StateMismatch)
    );
    assert_eq!(emulator.stats().requests(Grant::AuthorizationCode), 0);
    // Too late: the state lives ten minutes.
    emulator.clock().advance(Duration::from_secs(601));
    assert_eq!(
        kind(
            vault
                .complete_authorization("alice", &callback)
                .await
                .unwrap_err()
        ),
        Some(VaultErrorKind::StateExpired)
    );
    // A user who says no.
    let request = vault
        .authorize_url(
            "alice",
            AuthorizeOptions::default().redirect_uri(DEFAULT_REDIRECT_URI),
        )
        .unwrap();
    let denied = headless::answer(&request.url, DEFAULT_ADMIN_LOGIN, Decision::Deny)
        .await
        .unwrap();
    assert!(matches!(
        vault
            .complete_authorization("alice", &denied)
            .await
            .unwrap_err(),
        Error::AccessDenied { .. }
    ));
    // The vault makes the state: one given is refused.
    assert_eq!(
        vault
            .authorize_url("alice", AuthorizeOptions::default().state("mine"))
            .unwrap_err()
            .config_error_kind(),
        Some(boxauth::ConfigErrorKind::Conflict)
    );
}

#[tokio::test]
async fn an_expired_identity_is_refreshed_once_for_every_caller() {
    let emulator = emu::start().await;
    let (vault, events) = vault(&emulator);
    connect(&vault, "alice").await;
    emulator.clock().advance(Duration::from_secs(3601));
    let auth = vault.auth("alice").unwrap();
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let auth = auth.clone();
            tokio::spawn(async move { auth.retrieve_token().await.unwrap() })
        })
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap().access_token.secret().to_owned());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every caller got the one new token");
    assert_eq!(emulator.stats().requests(Grant::RefreshToken), 1);
    assert!(matches!(
        events.lock().unwrap().as_slice(),
        [VaultEvent::Refreshed { user_key }] if user_key == "alice"
    ));
    assert_eq!(me(auth).await, DEFAULT_ADMIN_ID);
}

#[tokio::test]
async fn a_refused_refresh_token_is_one_event_and_no_retry_storm() {
    let emulator = emu::start().await;
    let (vault, events) = vault(&emulator);
    connect(&vault, "alice").await;
    // The user revokes the app's access at Box.
    emulator.revoke_user_tokens(DEFAULT_ADMIN_ID).unwrap();
    emulator.clock().advance(Duration::from_secs(3601));
    for _ in 0..5 {
        let error = vault
            .auth("alice")
            .unwrap()
            .retrieve_token()
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Error::ReauthorizationRequired(e) if e.kind() == ReauthorizationKind::RefreshTokenRefused),
            "{error:?}"
        );
        emulator.clock().advance(Duration::from_secs(60));
    }
    // A new vault on the same store (another process) asks Box nothing either.
    assert_eq!(emulator.stats().requests(Grant::RefreshToken), 1);
    let needs: Vec<_> = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, VaultEvent::NeedsReauthorization { .. }))
        .cloned()
        .collect();
    assert!(
        matches!(needs.as_slice(), [VaultEvent::NeedsReauthorization { user_key, reason: ReauthReason::RefusedByBox }] if user_key == "alice"),
        "{needs:?}"
    );
    assert!(matches!(
        vault.status("alice").await.unwrap(),
        IdentityStatus::NeedsReauthorization {
            reason: ReauthReason::RefusedByBox,
            ..
        }
    ));
    let listed = vault.list(true, None, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].user_key, "alice");
    // Connecting again makes it active.
    connect(&vault, "alice").await;
    assert_eq!(me(vault.auth("alice").unwrap()).await, DEFAULT_ADMIN_ID);
    assert!(vault.list(true, None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn box_failing_is_never_terminal() {
    let emulator = emu::start().await;
    let (vault, events) = vault(&emulator);
    connect(&vault, "alice").await;
    emulator.clock().advance(Duration::from_secs(3601));
    // (The emulator's session does not retry: each failure reaches the vault.)
    emulator.faults().script([
        boxauth_emulator::Fault::Status(503),
        boxauth_emulator::Fault::TooManyRequests {
            retry_after_secs: 30,
        },
    ]);
    let auth = vault.auth("alice").unwrap();
    assert_eq!(auth.retrieve_token().await.unwrap_err().status(), Some(503));
    emulator.clock().advance(Duration::from_secs(60));
    assert_eq!(auth.retrieve_token().await.unwrap_err().status(), Some(429));
    assert!(matches!(
        vault.status("alice").await.unwrap(),
        IdentityStatus::Active { .. }
    ));
    assert!(
        events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, VaultEvent::TransientFailure { .. }))
    );
    // After the back-off, the same refresh token works.
    emulator.clock().advance(Duration::from_secs(60));
    assert_eq!(me(auth).await, DEFAULT_ADMIN_ID);
    assert_eq!(
        emulator.stats().requests(Grant::RefreshToken),
        1,
        "the faults never reached the grant: the refresh token was spent once"
    );
}

#[tokio::test]
async fn disconnect_revokes_at_box_and_forgets() {
    let emulator = emu::start().await;
    let (vault, events) = vault(&emulator);
    let auth = connect(&vault, "alice").await;
    let token = auth.retrieve_token().await.unwrap();
    vault.disconnect("alice").await.unwrap();
    let (status, _, _) = emu::users_me(&emulator, token.access_token.secret(), None).await;
    assert_eq!(status, 401, "the access token is revoked at Box");
    assert_eq!(
        vault.status("alice").await.unwrap(),
        IdentityStatus::NotConnected
    );
    assert!(matches!(
        events.lock().unwrap().last(),
        Some(VaultEvent::Revoked { user_key }) if user_key == "alice"
    ));
    assert_eq!(
        vault
            .disconnect("alice")
            .await
            .unwrap_err()
            .vault_error_kind(),
        Some(VaultErrorKind::UnknownIdentity)
    );
}

#[tokio::test]
async fn with_pkce_the_code_is_worth_nothing_without_the_verifier_any_host_derives() {
    let emulator = emu::start().await;
    let line = VaultKey::generate("k1").unwrap().1.to_string();
    let on_a_host = || {
        Vault::builder(OAuthConfig::new(ID, SECRET))
            .keys(KeySet::parse(&line).unwrap())
            .options(emu::options_for(&emulator, AuthOptions::default()))
            .build()
            .unwrap()
    };
    let request = on_a_host()
        .authorize_url(
            "alice",
            AuthorizeOptions::default()
                .redirect_uri(DEFAULT_REDIRECT_URI)
                .pkce(),
        )
        .unwrap();
    assert_eq!(
        emu::query_value(&request.url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(
        request.code_verifier().is_none(),
        "the vault derives it again; the app keeps nothing"
    );
    let callback = emu::approve(&request.url).await;
    // The code alone, even with the client secret: refused by Box (the emulator) for want of
    // the verifier.
    let code = emu::query_value(&callback, "code").unwrap();
    let stolen = boxauth::AuthorizationManager::new(emu::session(&emulator))
        .request_access_token(boxauth::RequestAccessTokenArgs::authorization_code(
            ID, SECRET, code,
        ))
        .await
        .unwrap_err();
    assert!(stolen.is_invalid_grant(), "{stolen:?}");
    // Another host of the app (another vault, the same key set) completes it.
    let auth = on_a_host()
        .complete_authorization("alice", &callback)
        .await
        .unwrap();
    assert_eq!(me(auth).await, DEFAULT_ADMIN_ID);
}

#[tokio::test]
async fn a_refresh_racing_a_disconnect_leaves_no_live_token() {
    let emulator = emu::start_with(boxauth_emulator::EmulatorConfig {
        keep_requests: 100,
        ..Default::default()
    })
    .await;
    let (vault, _) = vault(&emulator);
    connect(&vault, "alice").await;
    refresh_racing_a_disconnect(&emulator, &vault, "alice").await;
}

/// `user_key`'s access token expires and its refresh, slowed at Box, races a disconnect: the
/// refresh cannot store its token (the row is gone), revokes it, and nothing live is left. The
/// emulator keeps at least 100 exchanges. Both engines run it.
pub(crate) async fn refresh_racing_a_disconnect(
    emulator: &EmulatorHandle,
    vault: &Vault,
    user_key: &str,
) {
    emulator.clock().advance(Duration::from_secs(3601));
    // Box is slow: the refresh is answered after the disconnect has started, and the
    // disconnect's revoke lands after the refresh's answer.
    let slow = |ms| boxauth_emulator::Fault::Latency(Duration::from_millis(ms));
    emulator.faults().script([slow(300), slow(600)]);
    let auth = vault.auth(user_key).unwrap();
    let refresh = tokio::spawn(async move { auth.retrieve_token().await });
    // The refresh request is at Box (it took the first scripted fault).
    while emulator.faults().scripted() == 2 {
        tokio::task::yield_now().await;
    }
    vault.disconnect(user_key).await.unwrap();
    let error = refresh.await.unwrap().unwrap_err();
    assert_eq!(
        error.storage_error_kind(),
        Some(boxauth::StorageErrorKind::LockLost),
        "the refresh could not store its token: {error}"
    );
    assert_eq!(emulator.stats().requests(Grant::RefreshToken), 1);
    let revokes = emulator
        .requests()
        .iter()
        .filter(|e| e.path.ends_with("/oauth2/revoke"))
        .count();
    assert_eq!(
        revokes, 2,
        "the disconnect's, and the refresh's own new token"
    );
    assert_eq!(
        emulator.store_sizes().access_tokens,
        0,
        "no live access token"
    );
    assert_eq!(
        vault.status(user_key).await.unwrap(),
        IdentityStatus::NotConnected
    );
}

#[tokio::test]
async fn memory_holds_at_most_the_live_identities_asked_for() {
    let emulator = emu::start().await;
    let vault = Vault::builder(OAuthConfig::new(ID, SECRET))
        .keys(keys())
        .options(emu::options_for(&emulator, AuthOptions::default()))
        .capacity(8)
        .build()
        .unwrap();
    for i in 0..40 {
        connect(&vault, &format!("user-{i}")).await;
        assert!(vault.live_identities() <= 8);
    }
    // An evicted identity is read from the store again.
    assert_eq!(me(vault.auth("user-0").unwrap()).await, DEFAULT_ADMIN_ID);
    assert!(vault.live_identities() <= 8);
}

#[tokio::test]
async fn an_imported_refresh_token_is_checked_and_kept() {
    let emulator = emu::start().await;
    let (vault, _) = vault(&emulator);
    let pair = emu::oauth_pair(&emulator).await;
    let refresh = pair.refresh_token.unwrap();
    let auth = vault.import("carol", refresh.secret()).await.unwrap();
    assert_eq!(me(auth).await, DEFAULT_ADMIN_ID);
    assert_eq!(emulator.stats().requests(Grant::RefreshToken), 1);
    // The same (now spent) token again: refused, and the identity says so.
    let error = vault.import("dave", refresh.secret()).await.unwrap_err();
    assert!(
        matches!(error, Error::ReauthorizationRequired(_)),
        "{error:?}"
    );
    assert!(matches!(
        vault.status("dave").await.unwrap(),
        IdentityStatus::NeedsReauthorization { .. }
    ));
}

#[tokio::test]
async fn the_sweeper_keeps_an_idle_identity_alive_past_sixty_days() {
    let emulator = emu::start().await;
    let (vault, _) = vault(&emulator);
    connect(&vault, "idle").await;
    kept_alive_by_daily_sweeps(&emulator, &vault, "idle", DEFAULT_ADMIN_ID).await;
}

/// A sweep a day for 61 days while nobody uses `user_key` (Box user `user_id`), its refresh
/// token just issued: renewed about every 30 days, never daily, one Box request each, and the
/// identity works past Box's 60 days. Both engines run it.
pub(crate) async fn kept_alive_by_daily_sweeps(
    emulator: &EmulatorHandle,
    vault: &Vault,
    user_key: &str,
    user_id: &str,
) {
    let options = SweepOptions::default().per_second(0.0);
    let mut refreshes = Vec::new();
    // A sweep a day for 61 days; nobody uses the identity.
    for day in 1..=61 {
        emulator.clock().advance(DAY);
        let report = vault.sweep(&options).await.unwrap();
        if report.refreshed > 0 {
            refreshes.push(day);
        }
        assert_eq!(report.failed, 0, "day {day}");
    }
    // Renewed 30 days (give or take a tenth) after the last refresh token was issued: never
    // daily, and never near Box's 60 days.
    let mut issued = 0;
    for day in &refreshes {
        assert!(
            (27..=34).contains(&(day - issued)),
            "renewed about every 30 days, not daily: {refreshes:?}"
        );
        issued = *day;
    }
    assert!(61 - issued < 34, "{refreshes:?}");
    assert!(
        !refreshes.is_empty() && refreshes.len() <= 2,
        "{refreshes:?}"
    );
    assert_eq!(
        emulator.stats().requests(Grant::RefreshToken),
        refreshes.len() as u64,
        "one Box request per renewal"
    );
    assert_eq!(me(vault.auth(user_key).unwrap()).await, user_id);
}

#[tokio::test]
async fn a_ccg_or_jwt_app_mints_user_tokens_on_demand() {
    let emulator = emu::start().await;
    let vault = Vault::builder(CcgConfig::enterprise(ID, SECRET, "unused"))
        .options(emu::options_for(&emulator, AuthOptions::default()))
        .build()
        .unwrap();
    let auth = vault.as_user(DEFAULT_ADMIN_ID).unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let auth = vault.as_user(DEFAULT_ADMIN_ID).unwrap();
            tokio::spawn(async move { auth.retrieve_token().await.unwrap() })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 1);
    assert_eq!(me(auth).await, DEFAULT_ADMIN_ID);
    assert_eq!(
        vault.auth("x").unwrap_err().vault_error_kind(),
        Some(VaultErrorKind::WrongApp)
    );
}
