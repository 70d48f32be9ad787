//! `boxauth env add|list|use|remove` on a temporary config directory, file modes included, and
//! `token` commands using the current environment or `--env`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common;
use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID,
    DEFAULT_SERVICE_ACCOUNT_ID,
};
use boxauth_test_support::emulator as emu;

async fn boxauth(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let run = common::run(common::boxauth(Some(dir)).args(args)).await;
    (run.code, run.stdout.trim().to_owned(), run.stderr)
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn add_list_use_remove_with_private_files() {
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let export = emulator.export_config(&dir.path().join("export")).unwrap();
    let (base, oauth2) = (emulator.base_url().to_owned(), emulator.oauth2_url());

    let (code, _, err) = boxauth(
        &config,
        &[
            "env",
            "add",
            "emu-ccg",
            "--ccg",
            "--client-id",
            ID,
            "--client-secret",
            SECRET,
            "--enterprise-id",
            DEFAULT_ENTERPRISE_ID,
            "--base-url",
            &base,
            "--oauth2-url",
            &oauth2,
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("\"emu-ccg\" is now the current environment"),
        "the first one becomes current, and says so: {err}"
    );
    let (code, _, err) = boxauth(
        &config,
        &[
            "env",
            "add",
            "emu-jwt",
            "--jwt-config",
            export.box_config.to_str().unwrap(),
            "--base-url",
            &base,
            "--oauth2-url",
            &oauth2,
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("current environment"), "{err}");
    assert_eq!(
        mode(&config.join("environments.json")),
        0o600,
        "it holds client secrets"
    );
    assert_eq!(mode(&config), 0o700);
    let saved = std::fs::read_to_string(config.join("environments.json")).unwrap();
    assert!(
        saved.contains("\"method\": \"ccg\"") && saved.contains("\"method\": \"jwt\""),
        "{saved}"
    );

    let (_, listed, _) = boxauth(&config, &["env", "list"]).await;
    assert!(
        listed.lines().any(|l| l.starts_with("* emu-ccg")),
        "the first one is current: {listed}"
    );
    assert!(
        listed.lines().any(|l| l.starts_with("  emu-jwt")),
        "{listed}"
    );
    assert!(!listed.contains(SECRET), "listing never shows secrets");
    let (_, json, _) = boxauth(&config, &["env", "list", "--json"]).await;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert!(!json.to_string().contains(SECRET));

    // token get with the current environment: the service account via CCG.
    let (code, token, err) = boxauth(&config, &["token", "get"]).await;
    assert_eq!(code, 0, "{err}");
    let (_, _, me) = emu::users_me(&emulator, &token, None).await;
    assert_eq!(me["id"], DEFAULT_SERVICE_ACCOUNT_ID);
    assert_eq!(mode(&config.join("tokens/emu-ccg.json")), 0o600);

    // --env picks another; `env use` changes the current one.
    let (code, _, err) = boxauth(&config, &["token", "get", "--env", "emu-jwt"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(boxauth(&config, &["env", "use", "emu-jwt"]).await.0, 0);
    let (_, listed, _) = boxauth(&config, &["env", "list"]).await;
    assert!(
        listed.lines().any(|l| l.starts_with("* emu-jwt")),
        "{listed}"
    );

    // remove forgets the environment and its token file.
    assert_eq!(boxauth(&config, &["env", "remove", "emu-ccg"]).await.0, 0);
    assert!(!config.join("tokens/emu-ccg.json").exists());
    let (_, listed, _) = boxauth(&config, &["env", "list"]).await;
    assert!(!listed.contains("emu-ccg"), "{listed}");
}

#[tokio::test]
async fn mistakes_are_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let (code, _, err) = boxauth(&config, &["token", "get"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("boxauth env add"), "{err}");
    let (code, _, err) = boxauth(
        &config,
        &["env", "add", "../evil", "--developer-token", "t"],
    )
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("not a valid environment name"), "{err}");
    let (code, _, err) = boxauth(
        &config,
        &["env", "add", "jwt", "--jwt-config", "/nonexistent.json"],
    )
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent.json"), "{err}");
    assert_eq!(
        boxauth(&config, &["env", "add", "dev", "--developer-token", "t"])
            .await
            .0,
        0
    );
    let (code, _, err) = boxauth(&config, &["env", "add", "dev", "--developer-token", "t"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("--force"), "{err}");
    let (code, _, err) = boxauth(&config, &["env", "use", "nope"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("env list"), "{err}");
    let (code, _, err) = boxauth(&config, &["token", "get", "--env", "nope"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("known: dev"), "{err}");
}

#[tokio::test]
async fn box_clis_environments_are_imported_and_work() {
    let emulator = boxauth_test_support::emulator::start().await;
    let config_dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let exported = emulator.export_config(files.path()).unwrap();
    // A config whose key lives in a file of its own, as `box configure:environments:add
    // --private-key-path` keeps it.
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&exported.box_config).unwrap()).unwrap();
    let key = files.path().join("private_key.pem");
    std::fs::write(
        &key,
        config["boxAppSettings"]["appAuth"]["privateKey"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    config["boxAppSettings"]["appAuth"]["privateKey"] = serde_json::Value::Null;
    let without_key = files.path().join("config_without_key.json");
    std::fs::write(&without_key, config.to_string()).unwrap();
    let fixture = include_str!("../fixtures/box_environments.json")
        .replace("@CONFIG_WITHOUT_KEY@", without_key.to_str().unwrap())
        .replace("@CONFIG@", exported.box_config.to_str().unwrap())
        .replace("@KEY@", key.to_str().unwrap())
        .replace("@ADMIN@", boxauth_emulator::DEFAULT_ADMIN_ID);
    let box_cli = files.path().join("box_environments.json");
    std::fs::write(&box_cli, fixture).unwrap();

    let run = common::run(
        common::boxauth(Some(config_dir.path()))
            .args(["env", "import-box-cli", "--file"])
            .arg(&box_cli),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("6 environment(s) imported"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("skipped has space"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("work-oauth: an OAuth 2.0 environment comes without tokens")
            && run.stderr.contains("boxauth login --env work-oauth"),
        "{}",
        run.stderr
    );

    let token_get = |env: Option<&str>| {
        let mut command = common::boxauth(Some(config_dir.path()));
        command.args(["token", "get"]);
        if let Some(env) = env {
            command.args(["--env", env]);
        }
        command.args([
            "--base-url",
            emulator.base_url(),
            "--oauth2-url",
            &emulator.oauth2_url(),
        ]);
        command
    };
    // Box CLI's default became the current environment.
    for (env, user) in [
        (None, boxauth_emulator::DEFAULT_SERVICE_ACCOUNT_ID),
        (
            Some("emu-jwt-key-file"),
            boxauth_emulator::DEFAULT_SERVICE_ACCOUNT_ID,
        ),
        (
            Some("emu-ccg"),
            boxauth_emulator::DEFAULT_SERVICE_ACCOUNT_ID,
        ),
        (Some("emu-ccg-user"), boxauth_emulator::DEFAULT_ADMIN_ID),
    ] {
        let got = common::run(&mut token_get(env)).await;
        assert_eq!(got.code, 0, "{env:?}: {}", got.stderr);
        let (status, _, me) =
            boxauth_test_support::emulator::users_me(&emulator, got.stdout.trim(), None).await;
        assert_eq!((status, me["id"].as_str()), (200, Some(user)), "{env:?}");
    }
    // Box CLI's As-User comes along: the token is the service account's, sent with
    // `As-User: ADMIN` it acts as the admin, and each token says so.
    assert!(
        run.stderr.contains(&format!(
            "imported emu-jwt-as-user (jwt, acting As-User {}",
            boxauth_emulator::DEFAULT_ADMIN_ID
        )),
        "{}",
        run.stderr
    );
    let as_user = common::run(token_get(Some("emu-jwt-as-user")).args(["--json", "--check"]))
        .await
        .ok();
    let json = as_user.json();
    assert_eq!(
        json["identity"]["as_user"],
        boxauth_emulator::DEFAULT_ADMIN_ID
    );
    assert_eq!(
        json["identity"]["user"]["id"],
        boxauth_emulator::DEFAULT_ADMIN_ID,
        "Box answered /users/me as the admin"
    );
    let token = json["access_token"].as_str().unwrap();
    let (_, _, me) = boxauth_test_support::emulator::users_me(&emulator, token, None).await;
    assert_eq!(me["id"], boxauth_emulator::DEFAULT_SERVICE_ACCOUNT_ID);
    let (_, _, me) = boxauth_test_support::emulator::users_me(
        &emulator,
        token,
        Some(boxauth_emulator::DEFAULT_ADMIN_ID),
    )
    .await;
    assert_eq!(me["id"], boxauth_emulator::DEFAULT_ADMIN_ID);
    assert!(
        as_user.stderr.contains(&format!(
            "send the header `As-User: {}`",
            boxauth_emulator::DEFAULT_ADMIN_ID
        )),
        "{}",
        as_user.stderr
    );
    let listed =
        common::run(common::boxauth(Some(config_dir.path())).args(["env", "list", "--json"]))
            .await
            .json();
    let listed = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|env| env["name"] == "emu-jwt-as-user")
        .unwrap()
        .clone();
    assert_eq!(listed["as_user"], boxauth_emulator::DEFAULT_ADMIN_ID);

    let oauth = common::run(&mut token_get(Some("work-oauth"))).await;
    assert_eq!(
        oauth.code, 1,
        "an OAuth environment has no tokens until a login"
    );

    // Importing again keeps what is there, unless --force.
    let again = common::run(
        common::boxauth(Some(config_dir.path()))
            .args(["env", "import-box-cli", "--file"])
            .arg(&box_cli),
    )
    .await;
    assert!(
        again.stderr.contains("0 environment(s) imported"),
        "{}",
        again.stderr
    );
    let listed = std::fs::read_to_string(config_dir.path().join("environments.json")).unwrap();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(config_dir.path().join("environments.json"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    assert!(listed.contains("\"method\": \"ccg\""));
}

/// An `environments.json` written by boxauth 0.1 (before environments were `AuthConfig`s) loads
/// and works: every method and token store in it is listed as it was, its environments get
/// tokens, and saving it again (adding an environment) keeps the others as they were.
#[tokio::test]
async fn environments_written_by_an_earlier_boxauth_still_load() {
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir(&config).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o700)).unwrap();
    let export = emulator.export_config(&dir.path().join("export")).unwrap();
    let written = include_str!("../fixtures/environments-written-by-0.1.json")
        .replace("@BASE_URL@", emulator.base_url())
        .replace("@CONFIG@", export.box_config.to_str().unwrap());
    let file = config.join("environments.json");
    std::fs::write(&file, &written).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();

    let (code, listed, err) = boxauth(&config, &["env", "list", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let shown: Vec<(String, String, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|env| {
            let field = |name: &str| env[name].as_str().unwrap().to_owned();
            (field("name"), field("method"), field("token_store"))
        })
        .collect();
    let expected = [
        ("dev", "developer-token", "file"),
        ("emu-ccg", "ccg", "file"),
        ("emu-ccg-user", "ccg", "file"),
        ("emu-jwt", "jwt", "file"),
        ("fleet", "ccg", "redis://:***@127.0.0.1:1/0"),
        (
            "ha",
            "ccg",
            "redis-sentinel://127.0.0.1:1,127.0.0.1:2/mymaster",
        ),
        ("oauth-app", "oauth", "file"),
    ]
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
    assert_eq!(shown, expected);

    // The current environment (CCG), the JWT one, and a CCG user: tokens, kept in their files.
    for (args, user) in [
        (&["token", "get"][..], DEFAULT_SERVICE_ACCOUNT_ID),
        (
            &["token", "get", "--env", "emu-jwt"][..],
            DEFAULT_SERVICE_ACCOUNT_ID,
        ),
        (&["token", "get", "--env", "emu-ccg-user"][..], "200000001"),
    ] {
        let (code, token, err) = boxauth(&config, args).await;
        assert_eq!(code, 0, "{args:?}: {err}");
        let (status, _, me) = emu::users_me(&emulator, &token, None).await;
        assert_eq!((status, me["id"].as_str()), (200, Some(user)), "{args:?}");
    }
    assert!(config.join("tokens/emu-ccg.json").exists());
    assert!(config.join("tokens/emu-jwt.json").exists());

    // Saved again: every environment written as before, beside the new one.
    let (code, _, err) = boxauth(
        &config,
        &["env", "add", "another", "--developer-token", "T"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let mut before: serde_json::Value = serde_json::from_str(&written).unwrap();
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    before["environments"]["another"] =
        serde_json::json!({"method": "developer_token", "token": "T", "token_store": "file"});
    assert_eq!(after, before);
}

#[tokio::test]
async fn an_environment_added_with_as_user_acts_as_that_user() {
    let world = common::World::start().await;
    let user = boxauth_emulator::DEFAULT_ADMIN_ID;
    let added = world
        .run(
            &[
                "env",
                "add",
                "admin",
                "--jwt-config",
                world.jwt_config(),
                "--as-user",
                user,
            ],
            &[],
        )
        .await
        .ok();
    assert!(
        added.stderr.contains("saved environment admin"),
        "{}",
        added.stderr
    );
    let got = world
        .run(
            &["token", "get", "--env", "admin", "--json", "--check"],
            &[],
        )
        .await
        .ok();
    let json = got.json();
    assert_eq!(json["identity"]["as_user"], user);
    assert_eq!(
        json["identity"]["user"]["id"], user,
        "Box answered /users/me As-User"
    );
    // The token itself is the service account's.
    let token = json["access_token"].as_str().unwrap();
    assert_eq!(
        world.whose(token).await,
        boxauth_emulator::DEFAULT_SERVICE_ACCOUNT_ID
    );
    let listed = world.run(&["env", "list", "--json"], &[]).await.json();
    assert_eq!(listed[0]["as_user"], user);

    // Not a user ID: refused, and nothing saved.
    for bad in ["alice", "", "123\n456"] {
        let refused = world
            .run(
                &[
                    "env",
                    "add",
                    "bad",
                    "--jwt-config",
                    world.jwt_config(),
                    "--as-user",
                    bad,
                ],
                &[],
            )
            .await;
        assert_ne!(refused.code, 0);
        assert!(
            refused.stderr.contains("--as-user takes a Box user ID"),
            "{}",
            refused.stderr
        );
    }
    let listed = world.run(&["env", "list", "--json"], &[]).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}
