//! Environments' secrets in the OS keychain: a real Secret Service (gnome-keyring on a session bus
//! of the test's own, unlocked by the test), the file fallback when no keychain answers (said once,
//! when the environment is saved), `env move-secrets` between the two, a token store's password
//! kept there too, and processes sharing a keychain environment's refresh.

use std::path::Path;
use std::process::Stdio;

use crate::common::{self, Run, World};
use boxauth::{FileStorage, TokenStorage};
use boxauth_emulator::{DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, Grant};
use boxauth_test_support::emulator as emu;
use boxauth_test_support::redis::RedisServer;
use boxauth_test_support::secret_service::SecretService;

/// The fallback note's words.
const FALLBACK: &str = "no OS keychain answered";

/// `boxauth ARGS` in `world`, choosing where secrets go itself, on `bus` (none: no session bus).
async fn run(world: &World, bus: Option<&SecretService>, args: &[&str]) -> Run {
    let mut command = world.boxauth();
    command.env_remove("BOXAUTH_SECRETS").args(args);
    if let Some(service) = bus {
        command.env("DBUS_SESSION_BUS_ADDRESS", &service.bus_address);
    }
    common::run(&mut command).await
}

/// `boxauth env move-secrets --to TO`, which must succeed.
async fn move_secrets(world: &World, keychain: &SecretService, to: &str) -> Run {
    run(world, Some(keychain), &["env", "move-secrets", "--to", to])
        .await
        .ok()
}

/// `boxauth env add NAME METHOD…` for the emulator, its secrets in the file.
async fn add_in_file(world: &World, keychain: &SecretService, name: &str, method: &[&str]) {
    let mut args = vec!["env", "add", name];
    args.extend(method);
    args.extend(["--base-url", world.emulator.base_url(), "--secrets", "file"]);
    run(world, Some(keychain), &args).await.ok();
}

fn add_ccg<'a>(world: &'a World, name: &'a str) -> Vec<&'a str> {
    vec![
        "env",
        "add",
        name,
        "--ccg",
        "--client-id",
        ID,
        "--client-secret",
        SECRET,
        "--enterprise-id",
        boxauth_emulator::DEFAULT_ENTERPRISE_ID,
        "--base-url",
        world.emulator.base_url(),
    ]
}

/// Every file under `dir` (recursively) that contains `secret`.
fn files_holding(dir: &Path, secret: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if String::from_utf8_lossy(&std::fs::read(&path).unwrap()).contains(secret) {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[tokio::test]
async fn an_environment_keeps_its_secrets_in_the_secret_service() {
    let world = World::start().await;
    let keychain = SecretService::start().await;
    let added = run(&world, Some(&keychain), &add_ccg(&world, "emu"))
        .await
        .ok();
    assert!(
        added.stderr.contains("secrets in the keychain") && !added.stderr.contains(FALLBACK),
        "{}",
        added.stderr
    );

    let got = run(&world, Some(&keychain), &["token", "get"]).await.ok();
    assert_eq!(
        world.whose(got.token()).await,
        boxauth_emulator::DEFAULT_SERVICE_ACCOUNT_ID
    );
    let token = got.token().to_owned();
    let config = world.config_dir();
    let file = std::fs::read_to_string(config.join("environments.json")).unwrap();
    assert!(file.contains("\"secrets\": \"keychain\""), "{file}");
    assert!(file.contains(ID), "the rest stays in the file: {file}");
    assert_eq!(files_holding(&config, SECRET), Vec::<String>::new());
    assert_eq!(files_holding(&config, &token), Vec::<String>::new());
    // The token was cached in the keychain: the next command uses it.
    let again = run(&world, Some(&keychain), &["token", "get"]).await.ok();
    assert_eq!(again.token(), token);

    let list = run(&world, Some(&keychain), &["env", "list", "--json"])
        .await
        .ok();
    assert_eq!(list.json()[0]["secrets"], "keychain");
    let list = run(&world, Some(&keychain), &["env", "list"]).await.ok();
    assert!(list.stdout.contains("secrets: keychain"), "{}", list.stdout);

    // Without the keychain the environment cannot be used, and the error says what to do; the
    // environments kept in the file still work, and the list shows both.
    let mut plain = add_ccg(&world, "plain");
    plain.extend(["--secrets", "file"]);
    run(&world, Some(&keychain), &plain).await.ok();
    let refused = run(&world, None, &["token", "get"]).await;
    assert_ne!(refused.code, 0);
    assert!(
        refused
            .stderr
            .contains("environment \"emu\" keeps its secrets in the OS keychain")
            && refused.stderr.contains("unlock it"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains(SECRET), "{}", refused.stderr);
    let plain = run(&world, None, &["token", "get", "--env", "plain"])
        .await
        .ok();
    world.whose(plain.token()).await;
    let list = run(&world, None, &["env", "list", "--json"]).await.ok();
    let list = list.json();
    assert_eq!(list[0]["name"], "plain");
    assert_eq!(list[1]["name"], "emu");
    assert_eq!(list[1]["unreadable"], true);
    // A save meanwhile keeps the unreadable environment as it was.
    run(&world, None, &["env", "use", "plain"]).await.ok();
    run(&world, None, &["env", "use", "emu"]).await.ok();
    let again = run(&world, Some(&keychain), &["token", "get"]).await.ok();
    assert_eq!(again.token(), token);
    run(&world, Some(&keychain), &["env", "remove", "plain"])
        .await
        .ok();

    // Removed: its keychain item goes too, so a new environment of that name cannot find it.
    run(&world, Some(&keychain), &["env", "remove", "emu"])
        .await
        .ok();
    let mut file_then_flag = add_ccg(&world, "emu");
    file_then_flag.extend(["--secrets", "file"]);
    run(&world, Some(&keychain), &file_then_flag).await.ok();
    let text = std::fs::read_to_string(config.join("environments.json")).unwrap();
    let mut edited: serde_json::Value = serde_json::from_str(&text).unwrap();
    edited["environments"]["emu"]["secrets"] = "keychain".into();
    edited["environments"]["emu"]
        .as_object_mut()
        .unwrap()
        .remove("client_secret");
    std::fs::write(config.join("environments.json"), edited.to_string()).unwrap();
    let missing = run(&world, Some(&keychain), &["token", "get"]).await;
    assert_ne!(missing.code, 0, "{}", missing.stdout);
    assert!(
        missing.stderr.contains("not in the OS keychain"),
        "{}",
        missing.stderr
    );
}

#[tokio::test]
async fn a_token_store_password_is_kept_in_the_keychain_too() {
    let world = World::start().await;
    let keychain = SecretService::start().await;
    let redis = RedisServer::start_in_memory();
    let password = "redis-password-for-the-keychain";
    redis.require_password(password);
    let store = format!("redis://:{password}@127.0.0.1:{}/0", redis.port());
    let mut add = add_ccg(&world, "fleet");
    add.extend(["--token-store", &store]);
    run(&world, Some(&keychain), &add).await.ok();
    let config = world.config_dir();
    assert_eq!(files_holding(&config, password), Vec::<String>::new());
    let masked = format!("redis://:***@127.0.0.1:{}/0", redis.port());
    assert_eq!(
        files_holding(&config, &masked).len(),
        1,
        "the file shows it"
    );

    // The password from the keychain opens Redis (a wrong one fails the command).
    let got = run(&world, Some(&keychain), &["token", "get"]).await.ok();
    world.whose(got.token()).await;
    let list = run(&world, Some(&keychain), &["env", "list", "--json"])
        .await
        .ok();
    assert_eq!(list.json()[0]["token_store"], masked.as_str());

    // The file's URL edited by hand: the keychain's password is not sent to another store, and
    // the error says what to do.
    let file = config.join("environments.json");
    let before = std::fs::read_to_string(&file).unwrap();
    let elsewhere = masked.replace("127.0.0.1", "127.0.0.2");
    std::fs::write(&file, before.replace(&masked, &elsewhere)).unwrap();
    let refused = run(&world, Some(&keychain), &["token", "get"]).await;
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("was the file edited?") && refused.stderr.contains("--force"),
        "{}",
        refused.stderr
    );
    std::fs::write(&file, before).unwrap();

    // Back in the file, the URL is whole again and works with no keychain.
    move_secrets(&world, &keychain, "file").await;
    assert_eq!(files_holding(&config, password).len(), 1);
    // The same token: it was kept in Redis (a client-credentials grant would give a new one).
    let again = run(&world, None, &["token", "get"]).await.ok();
    assert_eq!(again.token(), got.token());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_refresh_a_keychain_environment_once() {
    let world = World::start().await;
    let keychain = SecretService::start().await;
    add_in_file(
        &world,
        &keychain,
        "web",
        &["--oauth", "--client-id", ID, "--client-secret", SECRET],
    )
    .await;
    // A logged-in pair whose access token has expired, moved with the environment into the
    // keychain.
    let config = world.config_dir();
    let pair = emu::oauth_pair(&world.emulator).await;
    let refresh = pair.refresh_token.as_ref().unwrap().secret().to_owned();
    FileStorage::new(config.join("tokens/web.json"))
        .store(&emu::expired_on_the_system_clock(pair))
        .await
        .unwrap();
    move_secrets(&world, &keychain, "keychain").await;
    assert_eq!(files_holding(&config, &refresh), Vec::<String>::new());

    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut command = world.boxauth();
            command
                .env_remove("BOXAUTH_SECRETS")
                .env("DBUS_SESSION_BUS_ADDRESS", &keychain.bus_address)
                .args(["token", "get"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            command.spawn().unwrap()
        })
        .collect();
    let printed = common::printed_by(children).await;
    assert_eq!(
        world.emulator.stats().requests(Grant::RefreshToken),
        1,
        "one refresh for eight processes"
    );
    assert!(printed.iter().all(|t| t == &printed[0]), "{printed:?}");
    world.whose(&printed[0]).await;
    // The new pair is in the keychain: the next command uses it, and no file holds it.
    let again = run(&world, Some(&keychain), &["token", "get"]).await.ok();
    assert_eq!(again.token(), printed[0]);
    assert_eq!(files_holding(&config, &printed[0]), Vec::<String>::new());
}

#[tokio::test]
async fn with_no_secret_service_the_file_is_used_and_said_once() {
    let world = World::start().await;
    let added = run(&world, None, &add_ccg(&world, "emu")).await.ok();
    assert_eq!(
        added.stderr.matches(FALLBACK).count(),
        1,
        "{}",
        added.stderr
    );
    assert!(
        added.stderr.contains("secrets in the file"),
        "{}",
        added.stderr
    );
    let config = world.config_dir();
    assert_eq!(
        files_holding(&config, SECRET),
        vec![config.join("environments.json").display().to_string()]
    );

    // Said when the environment was saved, not on each command.
    let got = run(&world, None, &["token", "get"]).await.ok();
    assert!(!got.stderr.contains(FALLBACK), "{}", got.stderr);
    world.whose(got.token()).await;
    let list = run(&world, None, &["env", "list", "--json"]).await.ok();
    assert_eq!(list.json()[0]["secrets"], "file");

    // Chosen explicitly: no note.
    let mut explicit = add_ccg(&world, "plain");
    explicit.extend(["--secrets", "file"]);
    let added = run(&world, None, &explicit).await.ok();
    assert!(!added.stderr.contains(FALLBACK), "{}", added.stderr);

    // The keychain asked for and not there: refused, saying how to fix it; nothing saved.
    let mut wanted = add_ccg(&world, "wanted");
    wanted.extend(["--secrets", "keychain"]);
    let refused = run(&world, None, &wanted).await;
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("BOXAUTH_SECRETS=file"),
        "{}",
        refused.stderr
    );
    let list = run(&world, None, &["env", "list", "--json"]).await.ok();
    assert_eq!(list.json().as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn move_secrets_into_the_keychain_and_back() {
    let world = World::start().await;
    let keychain = SecretService::start().await;
    let developer_token = world.token_for(boxauth_emulator::DEFAULT_APP_USER_ID).await;
    let mut ccg = add_ccg(&world, "emu");
    ccg.extend(["--secrets", "file"]);
    run(&world, Some(&keychain), &ccg).await.ok();
    add_in_file(
        &world,
        &keychain,
        "dev",
        &["--developer-token", &developer_token],
    )
    .await;
    let cached = run(&world, Some(&keychain), &["token", "get", "--env", "emu"])
        .await
        .ok();
    let cached = cached.token().to_owned();
    let config = world.config_dir();
    assert_eq!(files_holding(&config, SECRET).len(), 1);
    assert_eq!(files_holding(&config, &developer_token).len(), 1);
    assert_eq!(
        files_holding(&config, &cached),
        vec![config.join("tokens/emu.json").display().to_string()]
    );

    let moved = move_secrets(&world, &keychain, "keychain").await;
    assert!(
        moved.stderr.contains("2 environment(s)"),
        "{}",
        moved.stderr
    );
    assert_eq!(files_holding(&config, SECRET), Vec::<String>::new());
    assert_eq!(
        files_holding(&config, &developer_token),
        Vec::<String>::new()
    );
    assert_eq!(files_holding(&config, &cached), Vec::<String>::new());
    let got = run(&world, Some(&keychain), &["token", "get", "--env", "dev"])
        .await
        .ok();
    assert_eq!(got.token(), developer_token);
    // The cached token moved with it, rather than being fetched again.
    let got = run(&world, Some(&keychain), &["token", "get", "--env", "emu"])
        .await
        .ok();
    assert_eq!(got.token(), cached);

    move_secrets(&world, &keychain, "file").await;
    assert_eq!(files_holding(&config, SECRET).len(), 1);
    assert_eq!(
        files_holding(&config, &cached).len(),
        1,
        "the token moved back"
    );
    // Back in the file, the environments work with no keychain at all.
    let got = run(&world, None, &["token", "get", "--env", "dev"])
        .await
        .ok();
    assert_eq!(got.token(), developer_token);
    let list = run(&world, None, &["env", "list", "--json"]).await.ok();
    assert_eq!(list.json()[0]["secrets"], "file");
}
