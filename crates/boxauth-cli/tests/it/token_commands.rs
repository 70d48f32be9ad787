//! `boxauth token get|refresh|revoke|downscope` with each auth source, against the emulator.

use crate::common;
use boxauth::Authentication;
use boxauth_emulator::{
    DEFAULT_ADMIN_ID, DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET,
    DEFAULT_ENTERPRISE_ID, EmulatorHandle, Grant,
};
use boxauth_test_support::emulator as emu;
use common::Run;

/// `boxauth ARGS --base-url … --oauth2-url …` against `emulator`, the default app's secret in the
/// environment; stdout trimmed.
async fn boxauth(emulator: &EmulatorHandle, args: &[&str]) -> Run {
    let mut run = common::run(
        common::boxauth(None)
            .args(args)
            .args([
                "--base-url",
                emulator.base_url(),
                "--oauth2-url",
                &emulator.oauth2_url(),
            ])
            .env("BOX_CLIENT_SECRET", SECRET),
    )
    .await;
    run.stdout = run.stdout.trim().to_owned();
    run
}

#[tokio::test]
async fn ccg_get_prints_a_working_token_and_json_prints_the_access_token() {
    let emulator = emu::start().await;
    let run = boxauth(
        &emulator,
        &[
            "token",
            "get",
            "--ccg",
            "--client-id",
            ID,
            "--enterprise-id",
            DEFAULT_ENTERPRISE_ID,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(emu::users_me(&emulator, &run.stdout, None).await.0, 200);
    let run = boxauth(
        &emulator,
        &[
            "token",
            "get",
            "--ccg",
            "--client-id",
            ID,
            "--user-id",
            DEFAULT_ADMIN_ID,
            "--json",
        ],
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["token_type"], "bearer");
    assert!(json["expires_at"].as_i64().unwrap() > 0);
    let (_, _, me) = emu::users_me(&emulator, json["access_token"].as_str().unwrap(), None).await;
    assert_eq!(me["id"], DEFAULT_ADMIN_ID);
}

#[tokio::test]
async fn jwt_get_refresh_downscope_revoke() {
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = emulator.export_config(dir.path()).unwrap().box_config;
    let config = config.to_str().unwrap();
    let file = dir.path().join("jwt-token.json");
    let file = file.to_str().unwrap();
    let got = boxauth(
        &emulator,
        &["token", "get", "--jwt-config", config, "--token-file", file],
    )
    .await;
    assert_eq!(got.code, 0, "{}", got.stderr);
    let again = boxauth(
        &emulator,
        &["token", "get", "--jwt-config", config, "--token-file", file],
    )
    .await;
    assert_eq!(again.stdout, got.stdout, "the token file is the cache");
    assert_eq!(emulator.stats().requests(Grant::JwtBearer), 1);
    let refreshed = boxauth(
        &emulator,
        &[
            "token",
            "refresh",
            "--jwt-config",
            config,
            "--token-file",
            file,
        ],
    )
    .await;
    assert_ne!(refreshed.stdout, got.stdout);
    let down = boxauth(
        &emulator,
        &[
            "token",
            "downscope",
            "--jwt-config",
            config,
            "--token-file",
            file,
            "--scope",
            "item_preview",
            "--scope",
            "item_download",
            "--resource",
            "https://api.box.com/2.0/files/400000001",
            "--json",
        ],
    )
    .await;
    assert_eq!(down.code, 0, "{}", down.stderr);
    let json: serde_json::Value = serde_json::from_str(&down.stdout).unwrap();
    assert_eq!(json["restricted_to"].as_array().unwrap().len(), 2);
    let revoked = boxauth(
        &emulator,
        &[
            "token",
            "revoke",
            "--jwt-config",
            config,
            "--token-file",
            file,
        ],
    )
    .await;
    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    assert_eq!(
        emu::users_me(&emulator, &refreshed.stdout, None).await.0,
        401
    );
    assert!(
        !std::path::Path::new(file).exists(),
        "revoke forgets the token"
    );
}

#[tokio::test]
async fn developer_token_get_and_shared_link_downscope() {
    let emulator = emu::start().await;
    let token = emu::service_token(&emulator).await;
    let token = token.as_str();
    let run = boxauth(&emulator, &["token", "get", "--developer-token", token]).await;
    assert_eq!((run.code, run.stdout.as_str()), (0, token));
    let run = boxauth(
        &emulator,
        &[
            "token",
            "downscope",
            "--developer-token",
            token,
            "--scope",
            "item_preview",
            "--shared-link",
            "https://app.box.com/s/emulatedcontractpdf000001",
        ],
    )
    .await;
    assert!(run.stdout.starts_with("1!"), "{}", run.stderr);
    let run = boxauth(&emulator, &["token", "refresh", "--developer-token", token]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("developer token"), "{}", run.stderr);
}

#[tokio::test]
async fn mistakes_say_what_is_missing() {
    let emulator = emu::start().await;
    let run = boxauth(&emulator, &["token", "get", "--ccg", "--client-id", ID]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("--enterprise-id ID or --user-id ID"),
        "{}",
        run.stderr
    );
    let run = boxauth(&emulator, &["token", "get", "--oauth", "--client-id", ID]).await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("--token-file"), "{}", run.stderr);
    let run = boxauth(
        &emulator,
        &["token", "get", "--jwt-config", "/nonexistent/config.json"],
    )
    .await;
    assert!(
        run.stderr.contains("/nonexistent/config.json"),
        "{}",
        run.stderr
    );
    let run = boxauth(
        &emulator,
        &["token", "get", "--ccg", "--developer-token", "x"],
    )
    .await;
    assert_ne!(run.code, 0, "two auth sources at once are refused");
}

#[tokio::test]
async fn developer_token_revoke_sends_the_apps_credentials() {
    let emulator = emu::start().await;
    let token = emu::ccg_auth(&emulator, boxauth::AuthOptions::default())
        .retrieve_token()
        .await
        .unwrap();
    let token = token.access_token.secret();
    let run = boxauth(
        &emulator,
        &[
            "token",
            "revoke",
            "--developer-token",
            token,
            "--client-id",
            ID,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(emulator.stats().revocations, 1, "Box took the revoke");
    assert_eq!(emu::users_me(&emulator, token, None).await.0, 401);
}

#[tokio::test]
async fn a_jwt_config_from_the_environment_or_from_standard_input() {
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let exported = emulator.export_config(dir.path()).unwrap();
    let json = std::fs::read_to_string(&exported.box_config).unwrap();
    let empty_config = tempfile::tempdir().unwrap();

    // BOX_JWT_CONFIG_JSON="$(cat box_config.json)" boxauth token get
    let mut from_env = common::run(
        common::boxauth(Some(empty_config.path()))
            .args(["token", "get"])
            .env("BOX_JWT_CONFIG_JSON", &json)
            .env("BOX_BASE_URL", emulator.base_url())
            .env("BOX_OAUTH2_URL", emulator.oauth2_url()),
    )
    .await;
    from_env.stdout = from_env.stdout.trim().to_owned();
    assert_eq!(from_env.code, 0, "{}", from_env.stderr);
    assert_eq!(
        emu::users_me(&emulator, &from_env.stdout, None).await.0,
        200
    );

    // boxauth token get --jwt-config - < box_config.json
    let piped = common::run_with_stdin(
        common::boxauth(Some(empty_config.path()))
            .args(["token", "get", "--jwt-config", "-"])
            .args([
                "--base-url",
                emulator.base_url(),
                "--oauth2-url",
                &emulator.oauth2_url(),
            ]),
        &json,
    )
    .await
    .ok();
    assert_eq!(emu::users_me(&emulator, piped.token(), None).await.0, 200);
    assert_eq!(emulator.stats().requests(Grant::JwtBearer), 2);

    // Nothing anywhere: the error names the variables and the flags.
    let nothing =
        common::run(common::boxauth(Some(empty_config.path())).args(["token", "get"])).await;
    assert_eq!(nothing.code, 1);
    assert!(
        nothing.stderr.contains("BOX_JWT_CONFIG_JSON") && nothing.stderr.contains("--jwt-config"),
        "{}",
        nothing.stderr
    );
}
