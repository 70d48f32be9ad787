//! `boxauth env add|list|use|remove` on a temporary config directory, file modes included, and
//! `token` commands using the current environment or `--env`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID,
    DEFAULT_SERVICE_ACCOUNT_ID,
};
use boxauth_test_support::emulator as emu;
mod common;

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
