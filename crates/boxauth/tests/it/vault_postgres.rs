//! The token vault on a real PostgreSQL (Debian's server, started by the test) against the
//! emulator: worker processes (`examples/vault_worker.rs`) sharing identities, a lease holder
//! SIGKILLed at each point of a refresh, sealing as a database dump sees it, key rotation,
//! PostgreSQL stopped and started under a running vault, and a standby promoted after a refresh
//! with and without `remote_apply`.

use std::time::Duration;

use boxauth::{
    AuthOptions, BoxClient, IdentityStatus, KeySet, OAuthConfig, PostgresOptions, ReauthReason,
    StorageErrorKind, StoredToken, Vault, VaultErrorKind, VaultKey, VaultStore,
};
use boxauth_emulator::generated_users;
use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, EmulatorHandle, Grant,
};
use boxauth_test_support::emulator as emu;
use boxauth_test_support::postgres::{PgOptions, PgServer};
use serde_json::Value;
use tokio::process::{Child, Command};

use crate::fleet::{fingerprint, wait_for_line};

/// A new key's line (as `BOXAUTH_VAULT_KEY` and `KeySet::parse` take it).
fn key(id: &str) -> String {
    VaultKey::generate(id).unwrap().1.to_string()
}

/// A vault of the emulator's default app in `store`, on the emulator's clock.
fn vault_on(emulator: &EmulatorHandle, store: VaultStore, keys: KeySet) -> Vault {
    Vault::builder(OAuthConfig::new(ID, SECRET))
        .store(store)
        .keys(keys)
        .options(emu::options_for(emulator, AuthOptions::default()))
        .lease_ttl(Duration::from_secs(10))
        .fetch_deadline(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// A vault of the emulator's default app on the PostgreSQL at `url` with the keys of `line`,
/// as any process opening that store does.
fn vault_at(emulator: &EmulatorHandle, url: &str, line: &str) -> Vault {
    let store = VaultStore::postgres(url).unwrap();
    vault_on(emulator, store, KeySet::parse(line).unwrap())
}

/// What most tests here start from: a PostgreSQL server, an emulator whose world has `users`
/// generated users (keeping `log` exchanges), and a vault on both, its tables created, sealing
/// with key `k1` (`line`).
struct Started {
    server: PgServer,
    emulator: EmulatorHandle,
    vault: Vault,
    line: String,
}

async fn start(users: usize, log: usize) -> Started {
    let server = PgServer::start_with(PgOptions::fast());
    let emulator = emulator_with(users, log).await;
    let line = key("k1");
    let vault = vault_at(&emulator, &server.url(), &line);
    vault.init().await.unwrap();
    Started {
        server,
        emulator,
        vault,
        line,
    }
}

/// Identities `prefix-0 … prefix-(n-1)`: the emulator's generated users #0 … #n-1 (the world
/// needs that many) taken through the consent flow, their access tokens expired a second ago on
/// the system clock (what worker processes decide expiry on).
async fn expired_identities(emulator: &EmulatorHandle, vault: &Vault, prefix: &str, n: usize) {
    for (i, pair) in emu::user_pairs(emulator, 0..n)
        .await
        .into_iter()
        .enumerate()
    {
        let token: StoredToken = emu::expired_on_the_system_clock(pair);
        vault
            .import_token(&format!("{prefix}-{i}"), token)
            .await
            .unwrap();
    }
}

/// An emulator whose world has `users` generated users, keeping `log` exchanges.
async fn emulator_with(users: usize, log: usize) -> EmulatorHandle {
    emu::start_with(
        boxauth_emulator::EmulatorConfig {
            keep_requests: log,
            ..Default::default()
        }
        .with_generated_users(users)
        .unwrap(),
    )
    .await
}

/// A worker process for `users` (`prefix-0..prefix-N` or a list).
fn worker(emulator: &EmulatorHandle, url: &str, key_line: &str, users: &str) -> Command {
    let mut command = Command::new(crate::common::example_binary("vault_worker"));
    command
        .env("BOX_BASE_URL", emulator.base_url())
        .env("BOX_CLIENT_ID", ID)
        .env("BOX_CLIENT_SECRET", SECRET)
        .env("BOXAUTH_VAULT_STORE", url)
        .env("BOXAUTH_VAULT_KEY", key_line)
        .env("USERS", users)
        .env("LEASE_SECS", "10")
        .env("FETCH_DEADLINE_SECS", "5");
    crate::common::child_process(&mut command);
    command
}

/// A finished worker's lines: user key → token fingerprint.
async fn lines(child: Child) -> Vec<(String, String)> {
    let out = tokio::time::timeout(Duration::from_secs(300), child.wait_with_output())
        .await
        .expect("the worker finished")
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            (
                value["user_key"].as_str().unwrap().to_owned(),
                value["token"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    lines.sort();
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_share_a_thousand_expired_identities_each_refreshed_once() {
    let Started {
        server,
        emulator,
        vault,
        line,
    } = start(1000, 20_000).await;
    expired_identities(&emulator, &vault, "user", 1000).await;
    let before = emulator.stats().requests(Grant::RefreshToken);
    let workers: Vec<Child> = (0..8)
        .map(|_| {
            worker(&emulator, &server.url(), &line, "user-0..user-999")
                .spawn()
                .unwrap()
        })
        .collect();
    let mut seen = Vec::new();
    for child in workers {
        seen.push(lines(child).await);
    }
    assert_eq!(seen[0].len(), 1000);
    for other in &seen[1..] {
        assert_eq!(
            other, &seen[0],
            "every process served the same token per identity"
        );
    }
    assert_eq!(
        emulator.stats().requests(Grant::RefreshToken) - before,
        1000,
        "every identity refreshed exactly once"
    );
    assert_eq!(emulator.stats().refresh_token_reuses, 0);
    let refused: Vec<_> = emulator
        .requests()
        .into_iter()
        .filter(|e| e.error.as_deref() == Some("invalid_grant"))
        .collect();
    assert!(refused.is_empty(), "no invalid_grant anywhere: {refused:?}");
    // The tokens the workers got are the ones the vault holds, and Box takes them.
    let auth = vault.auth("user-7").unwrap();
    let token = auth.retrieve_token().await.unwrap();
    let user7 = seen[0].iter().find(|(k, _)| k == "user-7").unwrap();
    assert_eq!(fingerprint(token.access_token.secret()), user7.1);
    assert_eq!(
        BoxClient::from_shared(auth).users_me().await.unwrap().id,
        generated_users::id(7),
        "user-7 is Box's generated user #7"
    );
}

/// One identity, expired; a worker stopped at `failpoint` and SIGKILLed there; then this
/// process (its clock past the dead holder's lease) takes the identity over.
async fn killed_at(
    failpoint: &str,
) -> (
    PgServer,
    EmulatorHandle,
    Vault,
    Result<String, boxauth::Error>,
) {
    let Started {
        server,
        emulator,
        vault,
        line,
    } = start(5, 0).await;
    expired_identities(&emulator, &vault, "crash", 1).await;
    let mut child = worker(&emulator, &server.url(), &line, "crash-0")
        .env("BOXAUTH_FAILPOINT", failpoint)
        .spawn()
        .unwrap();
    wait_for_line(&mut child, &format!("failpoint {failpoint} reached")).await;
    child.kill().await.unwrap();
    // The dead holder's lease (10 s, on the system clock) has run out on this vault's clock.
    emulator.clock().advance(Duration::from_secs(11));
    let outcome = vault
        .auth("crash-0")
        .unwrap()
        .retrieve_token()
        .await
        .map(|t| t.access_token.secret().to_owned());
    (server, emulator, vault, outcome)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_before_the_box_call_the_next_holder_refreshes() {
    let (_server, emulator, vault, outcome) = killed_at("token_manager::before_fetch").await;
    let token = outcome.unwrap();
    assert_eq!(
        emulator.stats().issued(Grant::RefreshToken),
        1,
        "the successor's"
    );
    assert_eq!(
        emulator.stats().refresh_token_reuses,
        0,
        "no token spent twice"
    );
    assert_eq!(emu::users_me(&emulator, &token, None).await.0, 200);
    assert!(matches!(
        vault.status("crash-0").await.unwrap(),
        IdentityStatus::Active { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_boxs_answer_and_the_commit_the_identity_is_lost_in_flight() {
    let (_server, emulator, vault, outcome) = killed_at("token_manager::after_fetch").await;
    let error = outcome.unwrap_err();
    assert!(
        matches!(&error, boxauth::Error::ReauthorizationRequired(e) if e.kind() == boxauth::ReauthorizationKind::LostInFlight),
        "{error:?}"
    );
    assert_eq!(
        emulator.stats().issued(Grant::RefreshToken),
        1,
        "the dead holder's"
    );
    assert_eq!(
        emulator.stats().refresh_token_reuses,
        1,
        "the successor tried the stored token once"
    );
    assert!(matches!(
        vault.status("crash-0").await.unwrap(),
        IdentityStatus::NeedsReauthorization {
            reason: ReauthReason::LostInFlight,
            ..
        }
    ));
    let counts = vault.counts().await.unwrap();
    assert_eq!(counts.needs_reauth, vec![(ReauthReason::LostInFlight, 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_commit_the_new_token_is_there() {
    let (_server, emulator, vault, outcome) = killed_at("vault::after_write").await;
    let token = outcome.unwrap();
    assert_eq!(
        emulator.stats().issued(Grant::RefreshToken),
        1,
        "the dead holder's"
    );
    assert_eq!(emulator.stats().refresh_token_reuses, 0);
    assert_eq!(emu::users_me(&emulator, &token, None).await.0, 200);
    assert!(matches!(
        vault.status("crash-0").await.unwrap(),
        IdentityStatus::Active { .. }
    ));
}

#[tokio::test]
async fn a_dump_reveals_no_token_and_a_moved_or_broken_row_fails_alone() {
    let Started {
        server,
        emulator,
        vault,
        line,
    } = start(5, 0).await;
    let mut secrets = Vec::new();
    for user in ["alice", "bob", "carol"] {
        let pair = emu::oauth_pair(&emulator).await;
        secrets.push(pair.access_token.clone().unwrap().secret().to_owned());
        secrets.push(pair.refresh_token.clone().unwrap().secret().to_owned());
        let token = StoredToken::from_access_token(pair, emulator.clock().now()).unwrap();
        vault.import_token(user, token).await.unwrap();
    }
    let dump = server.pg_dump(boxauth_test_support::postgres::DATABASE);
    assert!(
        dump.contains("boxauth_vault_identities"),
        "the dump has the table"
    );
    for secret in &secrets {
        assert!(!dump.contains(secret.as_str()), "a token is in the dump");
    }
    // Bob's sealed value copied onto Carol's row: it does not open as Carol's.
    server.psql_in(
        boxauth_test_support::postgres::DATABASE,
        "UPDATE boxauth_vault_identities SET sealed = (SELECT sealed FROM boxauth_vault_identities WHERE user_key = 'bob') WHERE user_key = 'carol'",
    );
    // Alice's row damaged.
    server.psql_in(
        boxauth_test_support::postgres::DATABASE,
        "UPDATE boxauth_vault_identities SET sealed = '\\x0102' WHERE user_key = 'alice'",
    );
    // A fresh process (nothing cached) reads every row.
    let fresh = vault_at(&emulator, &server.url(), &line);
    let kind = |user: &str| {
        let fresh = fresh.clone();
        let user = user.to_owned();
        async move {
            fresh
                .auth(&user)
                .unwrap()
                .retrieve_token()
                .await
                .map(drop)
                .map_err(|e| e.vault_error_kind())
        }
    };
    assert_eq!(kind("carol").await, Err(Some(VaultErrorKind::SealBroken)));
    assert_eq!(kind("alice").await, Err(Some(VaultErrorKind::SealBroken)));
    assert_eq!(kind("bob").await, Ok(()), "the other identities work");
}

#[tokio::test]
async fn a_new_key_reseals_everything_and_the_old_one_can_go() {
    let server = PgServer::start_with(PgOptions::fast());
    let emulator = emulator_with(5, 0).await;
    let old_line = key("2026-01");
    let old = vault_at(&emulator, &server.url(), &old_line);
    old.init().await.unwrap();
    expired_identities(&emulator, &old, "user", 5).await;
    // The new key first (it seals), the old one kept for opening.
    let new_line = key("2026-07");
    let both = vault_at(&emulator, &server.url(), &format!("{new_line}\n{old_line}"));
    assert_eq!(both.reseal(u32::MAX).await.unwrap(), 5);
    assert_eq!(
        both.reseal(u32::MAX).await.unwrap(),
        0,
        "nothing left to reseal"
    );
    // The old key retired: every identity still opens and works.
    let new_only = vault_at(&emulator, &server.url(), &new_line);
    for i in 0..5 {
        let auth = new_only.auth(&format!("user-{i}")).unwrap();
        assert_eq!(
            BoxClient::from_shared(auth).users_me().await.unwrap().id,
            generated_users::id(i)
        );
    }
    // And the old key alone no longer opens them.
    let old_only = vault_at(&emulator, &server.url(), &old_line);
    let error = old_only
        .auth("user-0")
        .unwrap()
        .retrieve_token()
        .await
        .unwrap_err();
    assert_eq!(error.vault_error_kind(), Some(VaultErrorKind::KeyMissing));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_started_under_a_running_vault_loses_nothing() {
    let Started {
        mut server,
        emulator,
        vault,
        ..
    } = start(5, 0).await;
    expired_identities(&emulator, &vault, "user", 1).await;
    let auth = vault.auth("user-0").unwrap();
    let token = auth.retrieve_token().await.unwrap();
    tokio::task::block_in_place(|| server.stop());
    // A valid token keeps being served from memory.
    assert_eq!(
        auth.retrieve_token().await.unwrap().access_token.secret(),
        token.access_token.secret()
    );
    // Once it expires, the refresh fails and names the store.
    emulator.clock().advance(Duration::from_secs(3601));
    let error = auth.retrieve_token().await.unwrap_err();
    assert_eq!(
        error.storage_error_kind(),
        Some(StorageErrorKind::Unreachable),
        "{error:?}"
    );
    assert!(error.to_string().contains("PostgreSQL"), "{error}");
    assert!(
        error.to_string().contains(&server.port().to_string()),
        "{error}"
    );
    assert_eq!(
        emulator.stats().requests(Grant::RefreshToken),
        1,
        "the first refresh only"
    );
    tokio::task::block_in_place(|| server.start_again());
    // Back: the back-off over, the refresh runs and the identity is intact.
    emulator.clock().advance(Duration::from_secs(60));
    let again = auth.retrieve_token().await.unwrap();
    assert_ne!(again.access_token.secret(), token.access_token.secret());
    assert_eq!(
        emu::users_me(&emulator, again.access_token.secret(), None)
            .await
            .0,
        200
    );
    assert!(matches!(
        vault.status("user-0").await.unwrap(),
        IdentityStatus::Active { .. }
    ));
}

#[tokio::test]
async fn a_refresh_is_two_statements_and_a_cached_token_none() {
    let server = PgServer::start_with(PgOptions::fast());
    let emulator = emulator_with(5, 0).await;
    let store = VaultStore::postgres(&server.url()).unwrap();
    let vault = vault_on(&emulator, store.clone(), KeySet::parse(&key("k1")).unwrap());
    vault.init().await.unwrap();
    expired_identities(&emulator, &vault, "user", 1).await;
    let auth = vault.auth("user-0").unwrap();
    // This process's first call: a read, then the lease and the write.
    let before = store.statements();
    auth.retrieve_token().await.unwrap();
    assert_eq!(store.statements() - before, 3);
    // Cached: nothing.
    let before = store.statements();
    for _ in 0..100 {
        auth.retrieve_token().await.unwrap();
    }
    assert_eq!(store.statements() - before, 0);
    // Known to this process and expired: the lease and the write.
    emulator.clock().advance(Duration::from_secs(3601));
    let before = store.statements();
    auth.retrieve_token().await.unwrap();
    assert_eq!(store.statements() - before, 2);
}

/// A refresh on a primary with a streaming standby, then the primary is lost and the standby
/// promoted: whether the new token is there.
async fn refresh_then_promote(remote_apply: bool) -> (EmulatorHandle, Result<(), boxauth::Error>) {
    let pair = PgServer::start_primary_with_standby();
    let emulator = emulator_with(5, 0).await;
    let line = key("k1");
    let vault = vault_on(
        &emulator,
        VaultStore::postgres_with(
            PostgresOptions::new(pair.primary.url()).remote_apply(remote_apply),
        )
        .unwrap(),
        KeySet::parse(&line).unwrap(),
    );
    vault.init().await.unwrap();
    expired_identities(&emulator, &vault, "user", 1).await;
    tokio::task::block_in_place(|| pair.wait_replayed());
    if remote_apply {
        tokio::task::block_in_place(|| {
            pair.set_synchronous_standby_names(boxauth_test_support::postgres::STANDBY_NAME)
        });
    } else {
        // Without remote_apply a commit does not wait: the standby falls behind unnoticed.
        tokio::task::block_in_place(|| pair.pause_receiving());
    }
    vault
        .auth("user-0")
        .unwrap()
        .retrieve_token()
        .await
        .unwrap();
    let mut pair = pair;
    tokio::task::block_in_place(|| {
        pair.primary.kill();
        pair.promote();
    });
    // Another process, on the promoted standby.
    let after = vault_at(&emulator, &pair.standby.url(), &line);
    emulator.clock().advance(Duration::from_secs(3601));
    let outcome = after
        .auth("user-0")
        .unwrap()
        .retrieve_token()
        .await
        .map(drop);
    (emulator, outcome)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_remote_apply_a_promoted_standby_has_the_new_token() {
    let (emulator, outcome) = refresh_then_promote(true).await;
    outcome.unwrap();
    assert_eq!(emulator.stats().refresh_token_reuses, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_remote_apply_a_promoted_standby_can_lose_it() {
    let (emulator, outcome) = refresh_then_promote(false).await;
    let error = outcome.unwrap_err();
    assert!(
        matches!(&error, boxauth::Error::ReauthorizationRequired(_)),
        "the standby held the spent refresh token: {error:?}"
    );
    assert_eq!(emulator.stats().refresh_token_reuses, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sweepers_share_the_due_identities_without_a_leader() {
    let Started {
        server,
        emulator,
        vault: first,
        line,
    } = start(200, 0).await;
    expired_identities(&emulator, &first, "user", 200).await;
    let second = vault_at(&emulator, &server.url(), &line);
    // 40 days on: every refresh token is past the keep-alive age.
    emulator
        .clock()
        .advance(Duration::from_secs(40 * 24 * 3600));
    assert_eq!(first.counts().await.unwrap().keepalive_due, 200);
    let options = boxauth::SweepOptions::default().per_second(0.0).batch(10);
    let (a, b) = tokio::join!(first.sweep(&options), second.sweep(&options));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.claimed + b.claimed, 200, "{a:?} {b:?}");
    assert_eq!(a.refreshed + b.refreshed, 200, "{a:?} {b:?}");
    assert!(
        a.claimed > 0 && b.claimed > 0,
        "both took a share: {a:?} {b:?}"
    );
    assert_eq!(
        emulator.stats().requests(Grant::RefreshToken),
        200,
        "one Box request per identity"
    );
    let counts = first.counts().await.unwrap();
    assert_eq!((counts.active, counts.keepalive_due), (200, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_found_by_one_process_spares_box_for_the_others() {
    let server = PgServer::start_with(PgOptions::fast());
    let emulator = emulator_with(1, 0).await;
    let line = key("k1");
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = events.clone();
    let first = Vault::builder(OAuthConfig::new(ID, SECRET))
        .store(VaultStore::postgres(&server.url()).unwrap())
        .keys(KeySet::parse(&line).unwrap())
        .options(emu::options_for(&emulator, AuthOptions::default()))
        .on_event(move |e| seen.lock().unwrap().push(e.clone()))
        .build()
        .unwrap();
    first.init().await.unwrap();
    expired_identities(&emulator, &first, "user", 1).await;
    emulator
        .revoke_user_tokens(&generated_users::id(0))
        .unwrap();
    let refused = first
        .auth("user-0")
        .unwrap()
        .retrieve_token()
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, boxauth::Error::ReauthorizationRequired(e) if e.kind() == boxauth::ReauthorizationKind::RefreshTokenRefused),
        "{refused:?}"
    );
    // Other processes, later: no request to Box for the identity.
    for _ in 0..3 {
        let other = vault_at(&emulator, &server.url(), &line);
        let error = other
            .auth("user-0")
            .unwrap()
            .retrieve_token()
            .await
            .unwrap_err();
        assert!(
            matches!(error, boxauth::Error::ReauthorizationRequired(_)),
            "{error:?}"
        );
    }
    assert_eq!(emulator.stats().requests(Grant::RefreshToken), 1);
    let needs = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, boxauth::VaultEvent::NeedsReauthorization { .. }))
        .count();
    assert_eq!(needs, 1);
}

/// [`start`] with one user (the emulator keeping `log` exchanges), whose tokens are imported as
/// identity `user_key`; the server, to keep until the test ends.
async fn one_identity(log: usize, user_key: &str) -> Started {
    let started = start(1, log).await;
    let pair = emu::user_pair(&started.emulator, 0).await;
    let token = StoredToken::from_access_token(pair, started.emulator.clock().now()).unwrap();
    started.vault.import_token(user_key, token).await.unwrap();
    started
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_racing_a_disconnect_leaves_no_live_token_on_postgres() {
    let started = one_identity(100, "alice").await;
    crate::vault::refresh_racing_a_disconnect(&started.emulator, &started.vault, "alice").await;
}

#[tokio::test]
async fn an_idle_identity_is_kept_alive_past_sixty_days_by_the_sweeper_on_postgres() {
    let started = one_identity(0, "idle").await;
    let user = generated_users::id(0);
    crate::vault::kept_alive_by_daily_sweeps(&started.emulator, &started.vault, "idle", &user)
        .await;
}
