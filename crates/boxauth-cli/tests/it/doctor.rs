//! `boxauth doctor` against the emulator: a correct setup passes every check that applies, and
//! each misconfiguration fails its own line, with its fix. Each misconfiguration is made with
//! the emulator's own settings (an app's fields, its clock) or by editing the exported config.

use std::path::Path;
use std::sync::Arc;

use boxauth_emulator::{
    App, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_MANAGED_USER_ID, EmulatorConfig,
};
use boxauth_test_support::emulator as emu;
use serde_json::Value;

use crate::common::{Run, World};

/// A world whose default app is changed by `change` before the emulator starts.
async fn world_with(change: impl FnOnce(&mut App)) -> World {
    let mut config = EmulatorConfig::default();
    change(&mut Arc::make_mut(&mut config.world).apps[0]);
    let emulator = emu::start_with(config).await;
    let dir = tempfile::tempdir().unwrap();
    let box_config = emulator
        .export_config(&dir.path().join("export"))
        .unwrap()
        .box_config;
    World {
        emulator,
        dir,
        box_config,
    }
}

/// Rewrites the exported `box_config.json` with `change`.
fn edit_config(world: &World, change: impl FnOnce(&mut Value)) {
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(&world.box_config).unwrap()).unwrap();
    change(&mut json);
    std::fs::write(&world.box_config, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
}

/// `boxauth doctor ARGS --json`: its checks by name, and how it ended.
async fn doctor_json(world: &World, args: &[&str]) -> (Run, Value) {
    let mut all = vec!["doctor", "--json"];
    all.extend_from_slice(args);
    let run = world.run(&all, &[]).await;
    let json = run.json();
    (run, json)
}

fn check<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {json}"))
}

/// Asserts that doctor failed with exactly the `failing` checks, and returns `name`'s line of
/// the text output (with its fix) to match against.
#[track_caller]
/// The `name` line of a token Box refused for a reason the `other` check shows: a skip that
/// points there, without Box's answer a second time.
fn explained_by(json: &Value, name: &str, other: &str) {
    let line = check(json, name);
    assert_eq!(line["status"], "skip", "{json:#}");
    let detail = line["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("the {other} check")) && !detail.contains("Box answered"),
        "{detail}"
    );
}

fn failed_only(run: &Run, json: &Value, failing: &[&str]) {
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(json["ok"], false);
    let failed: Vec<&str> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, failing, "{json:#}");
    for name in failing {
        assert!(check(json, name)["fix"].is_string(), "{json:#}");
    }
}

/// The text checklist's line for `name` and the fix line after it.
async fn text_lines(world: &World, args: &[&str], name: &str) -> String {
    let mut all = vec!["doctor"];
    all.extend_from_slice(args);
    let run = world.run(&all, &[]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with(&format!("[FAIL] {name} ")))
        .unwrap_or_else(|| panic!("no failing {name} line in:\n{}", run.stdout));
    assert!(
        lines[at + 1].trim_start().starts_with("fix: "),
        "{}",
        run.stdout
    );
    format!("{}\n{}", lines[at], lines[at + 1])
}

fn no_secret_in(run: &Run, world: &World) {
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(&world.box_config).unwrap()).unwrap();
    let passphrase = config["boxAppSettings"]["appAuth"]["passphrase"]
        .as_str()
        .unwrap();
    for secret in [DEFAULT_CLIENT_SECRET, passphrase] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    }
}

/// The environment `prod` saved for the world's JWT config; with `used`, a token fetched
/// through it (in its token file, as after any use).
async fn saved_prod(world: &World, used: bool) {
    world
        .run(
            &["env", "add", "prod", "--jwt-config", world.jwt_config()],
            &[],
        )
        .await
        .ok();
    if used {
        world
            .run(&["token", "get", "--env", "prod"], &[])
            .await
            .ok();
    }
}

#[tokio::test]
async fn doctor_passes_a_correct_setup() {
    let world = World::start().await;
    saved_prod(&world, true).await;
    let (run, json) = doctor_json(&world, &["--env", "prod"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(json["ok"], true);
    for name in [
        "config",
        "key",
        "clock",
        "token_store",
        "service_account",
        "enterprise",
    ] {
        assert_eq!(check(&json, name)["status"], "pass", "{json:#}");
    }
    for name in ["user_token", "as_user", "redirect_uri"] {
        assert_eq!(check(&json, name)["status"], "skip", "{json:#}");
    }
    no_secret_in(&run, &world);

    let text = world.run(&["doctor", "--env", "prod"], &[]).await.ok();
    assert!(
        text.stdout.contains("[pass] service_account"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains("[FAIL]"), "{}", text.stdout);
    no_secret_in(&text, &world);
}

#[tokio::test]
async fn doctor_names_a_config_file_that_is_not_json() {
    let world = World::start().await;
    std::fs::write(&world.box_config, "{ not json").unwrap();
    let (run, json) = doctor_json(&world, &["--jwt-config", world.jwt_config()]).await;
    failed_only(&run, &json, &["config"]);
    let line = text_lines(&world, &["--jwt-config", world.jwt_config()], "config").await;
    assert!(
        line.contains("is not valid JSON") && line.contains("Download as JSON"),
        "{line}"
    );
}

#[tokio::test]
async fn doctor_names_a_wrong_passphrase() {
    let world = World::start().await;
    edit_config(&world, |c| {
        c["boxAppSettings"]["appAuth"]["passphrase"] = "not-the-passphrase".into();
    });
    let (run, json) = doctor_json(&world, &["--jwt-config", world.jwt_config()]).await;
    failed_only(&run, &json, &["key"]);
    assert!(!run.stdout.contains("not-the-passphrase"));
    let line = text_lines(&world, &["--jwt-config", world.jwt_config()], "key").await;
    assert!(line.contains("fix: the passphrase"), "{line}");
}

#[tokio::test]
async fn doctor_names_a_missing_key_id() {
    let world = World::start().await;
    edit_config(&world, |c| {
        c["boxAppSettings"]["appAuth"]["publicKeyID"] = "".into();
    });
    let (run, json) = doctor_json(&world, &["--jwt-config", world.jwt_config()]).await;
    failed_only(&run, &json, &["key"]);
    let line = text_lines(&world, &["--jwt-config", world.jwt_config()], "key").await;
    assert!(
        line.contains("no key ID") && line.contains("Add and Manage Public Keys"),
        "{line}"
    );
}

#[tokio::test]
async fn doctor_names_a_key_id_box_does_not_know() {
    let world = World::start().await;
    edit_config(&world, |c| {
        c["boxAppSettings"]["appAuth"]["publicKeyID"] = "zzzz9999".into();
    });
    let (run, json) = doctor_json(&world, &["--jwt-config", world.jwt_config()]).await;
    failed_only(&run, &json, &["key"]);
    explained_by(&json, "service_account", "key");
    let line = text_lines(&world, &["--jwt-config", world.jwt_config()], "key").await;
    assert!(
        line.contains("kid") && line.contains("must be a key pair"),
        "{line}"
    );
    // A user's token is refused for the same reason, and said once too.
    let as_user = [
        "--jwt-config",
        world.jwt_config(),
        "--user-id",
        DEFAULT_MANAGED_USER_ID,
    ];
    let (run, json) = doctor_json(&world, &as_user).await;
    failed_only(&run, &json, &["key"]);
    explained_by(&json, "user_token", "key");
}

#[tokio::test]
async fn doctor_names_a_clock_minutes_off() {
    let world = World::start().await;
    world.emulator.clock().set_offset_seconds(300);
    let (run, json) = doctor_json(&world, &["--jwt-config", world.jwt_config()]).await;
    // The JWT auth itself corrects for the skew: only the clock line fails.
    failed_only(&run, &json, &["clock"]);
    let line = text_lines(&world, &["--jwt-config", world.jwt_config()], "clock").await;
    assert!(
        line.contains("behind Box's") && line.contains("NTP"),
        "{line}"
    );
}

#[tokio::test]
async fn doctor_names_an_app_the_enterprise_has_not_authorized() {
    let world = world_with(|app| app.authorized = false).await;
    let (run, json) = doctor_json(&world, &["--jwt-config", world.jwt_config()]).await;
    failed_only(&run, &json, &["enterprise"]);
    explained_by(&json, "service_account", "enterprise");
    let line = text_lines(&world, &["--jwt-config", world.jwt_config()], "enterprise").await;
    assert!(
        line.contains("has not authorized the app") && line.contains("Custom Apps Manager"),
        "{line}"
    );
}

#[tokio::test]
async fn doctor_names_a_wrong_enterprise_id() {
    let world = World::start().await;
    edit_config(&world, |c| c["enterpriseID"] = "999999999".into());
    let (run, json) = doctor_json(&world, &["--jwt-config", world.jwt_config()]).await;
    failed_only(&run, &json, &["enterprise"]);
    explained_by(&json, "service_account", "enterprise");
    let line = text_lines(&world, &["--jwt-config", world.jwt_config()], "enterprise").await;
    assert!(
        line.contains("no enterprise 999999999") && line.contains("enterpriseID"),
        "{line}"
    );
}

#[tokio::test]
async fn doctor_names_user_tokens_not_enabled() {
    let world = world_with(|app| app.generate_user_tokens = false).await;
    let args = [
        "--jwt-config",
        world.jwt_config(),
        "--user-id",
        DEFAULT_MANAGED_USER_ID,
    ];
    let (run, json) = doctor_json(&world, &args).await;
    failed_only(&run, &json, &["user_token"]);
    assert_eq!(check(&json, "service_account")["status"], "pass");
    let line = text_lines(&world, &args, "user_token").await;
    assert!(line.contains("Generate user access tokens"), "{line}");
}

#[tokio::test]
async fn doctor_names_as_user_not_enabled() {
    let world = world_with(|app| app.as_user = false).await;
    world
        .run(
            &["env", "add", "imported", "--jwt-config", world.jwt_config()],
            &[],
        )
        .await
        .ok();
    // As Box CLI's import leaves it: the environment acts As-User.
    let file = world.config_dir().join("environments.json");
    let mut saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    saved["environments"]["imported"]["as_user"] = DEFAULT_MANAGED_USER_ID.into();
    std::fs::write(&file, serde_json::to_vec_pretty(&saved).unwrap()).unwrap();

    let (run, json) = doctor_json(&world, &["--env", "imported"]).await;
    failed_only(&run, &json, &["as_user"]);
    let line = text_lines(&world, &["--env", "imported"], "as_user").await;
    assert!(line.contains("as-user header"), "{line}");
}

#[tokio::test]
async fn doctor_names_a_redirect_uri_box_does_not_take() {
    let world =
        world_with(|app| app.redirect_uris = vec!["https://app.example.com/callback".into()]).await;
    let tokens = world.dir.path().join("oauth-tokens.json");
    let args = [
        "--oauth",
        "--client-id",
        DEFAULT_CLIENT_ID,
        "--client-secret",
        DEFAULT_CLIENT_SECRET,
        "--token-file",
        tokens.to_str().unwrap(),
    ];
    let (run, json) = doctor_json(&world, &args).await;
    // No login yet either: the user token fails too, with its own fix.
    failed_only(&run, &json, &["user_token", "redirect_uri"]);
    assert!(
        check(&json, "user_token")["fix"]
            .as_str()
            .unwrap()
            .contains("boxauth login"),
        "{json:#}"
    );
    let line = text_lines(&world, &args, "redirect_uri").await;
    assert!(
        line.contains("http://localhost:3000/callback") && line.contains("Redirect URIs"),
        "{line}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn doctor_names_a_token_file_others_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let world = World::start().await;
    saved_prod(&world, true).await;
    let file = world.config_dir().join("tokens").join("prod.json");
    set_mode(&file, 0o644);
    let (run, json) = doctor_json(&world, &["--env", "prod"]).await;
    failed_only(&run, &json, &["token_store"]);
    let line = text_lines(&world, &["--env", "prod"], "token_store").await;
    assert!(
        line.contains("mode 0644") && line.contains("chmod 600"),
        "{line}"
    );

    fn set_mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

#[tokio::test]
async fn doctor_reads_a_redis_token_store_and_names_one_that_refuses_or_is_not_there() {
    let redis = boxauth_test_support::redis::RedisServer::start();
    let world = World::start().await;
    let jwt = world.jwt_config().to_owned();
    world
        .run(
            &[
                "env",
                "add",
                "fleet",
                "--jwt-config",
                &jwt,
                "--token-store",
                &redis.url(),
            ],
            &[],
        )
        .await
        .ok();
    world
        .run(&["token", "get", "--env", "fleet"], &[])
        .await
        .ok();
    let (run, json) = doctor_json(&world, &["--env", "fleet"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let store = check(&json, "token_store");
    assert_eq!(store["status"], "pass", "{json:#}");
    assert!(
        store["detail"].as_str().unwrap().contains("holds a token"),
        "{store}"
    );

    // A password set on Redis since the environment was saved: Redis answers, and refuses.
    let password = "doctor-redis-password";
    redis.require_password(password);
    let (run, json) = doctor_json(&world, &["--env", "fleet"]).await;
    failed_only(&run, &json, &["token_store"]);
    let detail = check(&json, "token_store")["detail"].as_str().unwrap();
    assert!(
        detail.to_lowercase().contains("password") || detail.contains("authentication"),
        "{detail}"
    );
    assert!(!run.stdout.contains(password) && !run.stderr.contains(password));

    // Nothing listening where the store should be: the line says so, and doctor does not hang.
    let gone = format!("redis://127.0.0.1:{}/0", boxauth_test_support::free_port());
    world
        .run(
            &[
                "env",
                "add",
                "gone",
                "--jwt-config",
                &jwt,
                "--token-store",
                &gone,
            ],
            &[],
        )
        .await
        .ok();
    let (run, json) = doctor_json(&world, &["--env", "gone"]).await;
    failed_only(&run, &json, &["token_store"]);
}

#[tokio::test]
async fn doctor_says_when_box_cannot_be_reached_or_its_url_is_wrong() {
    let world = World::start().await;
    saved_prod(&world, false).await;
    // Box not there (nothing listening at its URLs): every check that asks Box fails, each with
    // a fix; the local ones pass.
    let nowhere = format!("http://127.0.0.1:{}", boxauth_test_support::free_port());
    let run = world
        .run(
            &["doctor", "--json", "--env", "prod"],
            &[
                ("BOX_BASE_URL", &nowhere),
                ("BOX_OAUTH2_URL", &format!("{nowhere}/oauth2")),
            ],
        )
        .await;
    let json = run.json();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    for name in ["config", "key"] {
        assert_eq!(check(&json, name)["status"], "pass", "{json:#}");
    }
    for name in ["clock", "service_account"] {
        let line = check(&json, name);
        assert_eq!(line["status"], "fail", "{json:#}");
        assert!(line["fix"].is_string(), "{line}");
    }

    // A base URL with Box's API path in it: Box answers 404, and the fix says the URL is wrong.
    let with_path = format!("{}/2.0", world.emulator.base_url());
    let run = world
        .run(
            &["doctor", "--json", "--env", "prod"],
            &[("BOX_BASE_URL", &with_path)],
        )
        .await;
    let json = run.json();
    failed_only(&run, &json, &["service_account"]);
    let fix = check(&json, "service_account")["fix"].as_str().unwrap();
    assert!(
        fix.contains("the base URL may be wrong") && fix.contains("from BOX_BASE_URL"),
        "{fix}"
    );
}
