//! Apps of the App Token kind: their two tokens act as the app's service account on the API and
//! as subject tokens for downscoping, until revoked or rotated, from the config file, the Rust
//! handle or the control API.

use boxauth_emulator::{AppTokenSlot, Emulator, EmulatorConfig};
use boxauth_test_support::{control, emulator};
use serde_json::json;

const PRIMARY: &str = "primaryapptoken0000000000000001";
const SECONDARY: &str = "secondaryapptoken00000000000001";

fn config() -> EmulatorConfig {
    EmulatorConfig::from_toml_str(&format!(
        r#"
[[enterprises]]
id = "1"
name = "E"

[[apps]]
name = "Viewer"
client_id = "viewerclientid"
client_secret = "viewersecret"
enterprise = "1"
grants = ["token_exchange"]
primary_app_token = "{PRIMARY}"
secondary_app_token = "{SECONDARY}"
"#
    ))
    .unwrap()
}

#[tokio::test]
async fn both_tokens_work_until_revoked_or_rotated_over_http() {
    let emu = Emulator::start(config()).await.unwrap();
    let service = emu.world().apps[0].service_account_id.clone();
    for token in [PRIMARY, SECONDARY] {
        let (status, _, me) = emulator::users_me(&emu, token, None).await;
        assert_eq!((status, me["id"].as_str()), (200, Some(service.as_str())));
    }
    let (status, answer) = control::post(
        &emu,
        "apps/viewerclientid/app-tokens/primary/rotate",
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let rotated = answer["token"].as_str().unwrap().to_owned();
    assert_eq!(emulator::users_me(&emu, PRIMARY, None).await.0, 401);
    assert_eq!(emulator::users_me(&emu, &rotated, None).await.0, 200);
    assert_eq!(
        emu.world().apps[0].app_tokens.get(AppTokenSlot::Primary),
        Some(rotated.as_str())
    );

    let (status, _) = control::post(
        &emu,
        "apps/viewerclientid/app-tokens/secondary/revoke",
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(emulator::users_me(&emu, SECONDARY, None).await.0, 401);

    // Mistakes: a slot or action that does not exist, an unknown app.
    for (path, expected) in [
        ("apps/viewerclientid/app-tokens/tertiary/rotate", 400),
        ("apps/viewerclientid/app-tokens/primary/delete", 400),
        ("apps/nosuchapp/app-tokens/primary/rotate", 404),
    ] {
        let (status, body) = control::post(&emu, path, json!({})).await;
        assert_eq!(status, expected, "{path}: {body}");
        assert!(body["message"].as_str().is_some(), "{body}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn app_tokens_in_a_config_are_checked() {
    let duplicate = config()
        .world
        .apps
        .first()
        .map(|app| app.app_tokens.clone())
        .unwrap();
    assert_eq!(duplicate.primary.as_deref(), Some(PRIMARY));
    let text = format!(
        r#"
[[enterprises]]
id = "1"
name = "E"

[[apps]]
name = "Viewer"
client_id = "viewerclientid"
client_secret = "viewersecret"
enterprise = "1"
primary_app_token = "{PRIMARY}"
secondary_app_token = "{PRIMARY}"
"#
    );
    let error = EmulatorConfig::from_toml_str(&text).unwrap_err();
    assert_eq!(error.kind(), boxauth_emulator::ConfigErrorKind::Duplicate);
    assert!(!error.to_string().contains(PRIMARY), "{error}");
    let short = text.replace(
        &format!("secondary_app_token = \"{PRIMARY}\""),
        "secondary_app_token = \"short\"",
    );
    let error = EmulatorConfig::from_toml_str(&short).unwrap_err();
    assert_eq!(error.kind(), boxauth_emulator::ConfigErrorKind::Invalid);
    assert!(!format!("{duplicate:?}").contains(PRIMARY));
}
