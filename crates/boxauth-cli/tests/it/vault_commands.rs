//! `boxauth vault …` as an operator runs it, against the emulator and a real PostgreSQL: a key
//! made, the schema created, a user connected through the consent page (the loopback callback)
//! and another by pasting, a refresh token imported from standard input, tokens, listings, the
//! keep-alive, key rotation and disconnect.

use std::path::Path;

use boxauth_emulator::{
    DEFAULT_ADMIN_ID, DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, EmulatorHandle,
    Grant,
};
use boxauth_test_support::emulator as emu;
use boxauth_test_support::postgres::{PgOptions, PgServer};
use tokio::io::AsyncWriteExt;

use crate::common;

/// `boxauth vault ARGS` with the store, the key file, the app and the emulator's URLs.
fn vault(
    dir: &Path,
    store: &str,
    emulator: &EmulatorHandle,
    args: &[&str],
) -> tokio::process::Command {
    let mut command = common::boxauth(Some(dir));
    command
        .arg("vault")
        .args(args)
        .env("BOXAUTH_VAULT_STORE", store)
        .env("BOX_CLIENT_ID", ID)
        .env("BOX_CLIENT_SECRET", SECRET)
        .env("BOX_BASE_URL", emulator.base_url())
        .env("BOX_OAUTH2_URL", emulator.oauth2_url())
        .args(["--key-file", dir.join("vault.key").to_str().unwrap()]);
    command
}

async fn ok(command: &mut tokio::process::Command) -> String {
    let run = common::run(command).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    run.stdout.trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_runs_a_vault_from_the_command_line() {
    let server = PgServer::start_with(PgOptions::fast());
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = server.url();

    // A key, in the format --key-file takes.
    let key = ok(common::boxauth(Some(dir.path())).args(["vault", "keygen", "--id", "k1"])).await;
    assert!(key.starts_with("boxauth-vault-key:1:k1:"), "{key}");
    std::fs::write(dir.path().join("vault.key"), &key).unwrap();
    ok(common::boxauth(Some(dir.path()))
        .args(["vault", "init"])
        .env("BOXAUTH_VAULT_STORE", &store))
    .await;

    // Alice connects: the browser lands on the loopback callback.
    let command = vault(
        dir.path(),
        &store,
        &emulator,
        &["connect", "alice", "--port", "0"],
    );
    let connect = common::start_browser_flow(&emulator, command, &["--no-browser"]).await;
    // With PKCE, as `boxauth login`: the emulator gives tokens for the code only with the
    // verifier, so the connection below shows the vault sent it.
    assert_eq!(
        emu::query_value(&connect.url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    common::approve_and_land(&connect.url).await;
    let run = connect.finish().await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Connected alice as"), "{}", run.stdout);

    // Bob connects by pasting the address his browser ended on.
    let command = vault(
        dir.path(),
        &store,
        &emulator,
        &["connect", "bob", "--port", "0"],
    );
    let mut connect = common::start_browser_flow(&emulator, command, &["--no-browser"]).await;
    let callback = emu::approve(&connect.url).await;
    let mut stdin = connect.child.stdin.take().unwrap();
    stdin
        .write_all(format!("{callback}\n").as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let run = connect.finish().await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Carol's refresh token, imported from standard input.
    let pair = emu::oauth_pair(&emulator).await;
    let mut import = vault(
        dir.path(),
        &store,
        &emulator,
        &["import", "carol", "--refresh-token", "-"],
    );
    let refresh_token = format!("{}\n", pair.refresh_token.unwrap().secret());
    common::run_with_stdin(&mut import, &refresh_token)
        .await
        .ok();

    // Tokens that Box takes; listed.
    for user in ["alice", "bob", "carol"] {
        let token = ok(&mut vault(dir.path(), &store, &emulator, &["token", user])).await;
        let (status, _, me) = emu::users_me(&emulator, &token, None).await;
        assert_eq!(
            (status, me["id"].as_str()),
            (200, Some(DEFAULT_ADMIN_ID)),
            "{user}"
        );
    }
    let listed = ok(&mut vault(
        dir.path(),
        &store,
        &emulator,
        &["list", "--json"],
    ))
    .await;
    let states: Vec<serde_json::Value> = listed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(states.len(), 3);
    assert!(states.iter().all(|s| s["state"] == "active"), "{listed}");
    assert_eq!(
        ok(&mut vault(
            dir.path(),
            &store,
            &emulator,
            &["list", "--needs-reauth"]
        ))
        .await,
        ""
    );

    // Nothing is due for the keep-alive yet.
    let report = ok(&mut vault(dir.path(), &store, &emulator, &["sweep"])).await;
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["claimed"], 0, "{report}");

    // A new key: everything resealed, the old key retired, tokens still come.
    let new_key =
        ok(common::boxauth(Some(dir.path())).args(["vault", "keygen", "--id", "k2"])).await;
    std::fs::write(dir.path().join("new.key"), &new_key).unwrap();
    let rotate = common::run(&mut vault(
        dir.path(),
        &store,
        &emulator,
        &[
            "rotate-key",
            "--new-key-file",
            dir.path().join("new.key").to_str().unwrap(),
        ],
    ))
    .await;
    assert_eq!(rotate.code, 0, "{}", rotate.stderr);
    assert!(
        rotate.stderr.contains("3 identities resealed with key k2"),
        "{}",
        rotate.stderr
    );
    std::fs::write(dir.path().join("vault.key"), &new_key).unwrap();
    let token = ok(&mut vault(
        dir.path(),
        &store,
        &emulator,
        &["token", "alice"],
    ))
    .await;
    assert_eq!(emu::users_me(&emulator, &token, None).await.0, 200);

    // Disconnected: revoked at Box, gone from the list.
    ok(&mut vault(
        dir.path(),
        &store,
        &emulator,
        &["disconnect", "alice"],
    ))
    .await;
    assert_eq!(emu::users_me(&emulator, &token, None).await.0, 401);
    let listed = ok(&mut vault(dir.path(), &store, &emulator, &["list"])).await;
    assert!(
        !listed.contains("alice") && listed.contains("bob"),
        "{listed}"
    );
    let gone = common::run(&mut vault(
        dir.path(),
        &store,
        &emulator,
        &["token", "alice"],
    ))
    .await;
    assert_eq!(gone.code, 1);
    assert!(
        gone.stderr
            .contains("no identity is stored under \"alice\""),
        "{}",
        gone.stderr
    );
    assert_eq!(
        emulator.stats().requests(Grant::RefreshToken),
        1,
        "carol's import"
    );
}

#[tokio::test]
async fn missing_settings_say_what_to_give() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::run(common::boxauth(Some(dir.path())).args(["vault", "init"])).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--store postgres://"), "{}", run.stderr);
    // `vault token` with a store (behind a password) and the key variables `vars`.
    let vault_token = |vars: &[(&str, &str)]| {
        let mut command = common::boxauth(Some(dir.path()));
        command
            .args(["vault", "token", "alice", "--client-id", "a"])
            .args(["--client-secret", "b"])
            .env("BOXAUTH_VAULT_STORE", "postgres://u:hunter2@127.0.0.1:1/x")
            .envs(vars.iter().copied());
        command
    };
    let run = common::run(&mut vault_token(&[])).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("vault keygen"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2"));
    let run = common::run(&mut vault_token(&[("BOXAUTH_VAULT_KEY", "not a key")])).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("does not start with boxauth-vault-key"),
        "{}",
        run.stderr
    );
}
