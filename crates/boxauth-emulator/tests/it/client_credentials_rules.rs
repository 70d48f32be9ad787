//! Client credentials: `box_subject_type` / `box_subject_id` checked against the app's access level
//! and settings; client secrets compared exactly.

use std::sync::Arc;

use boxauth_emulator::{
    AccessLevel, DEFAULT_ADMIN_ID, DEFAULT_APP_USER_ID, DEFAULT_CLIENT_ID as ID,
    DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID, DEFAULT_MANAGED_USER_ID,
    DEFAULT_SERVICE_ACCOUNT_ID, EmulatorConfig, EmulatorHandle,
};
use boxauth_test_support::emulator as emu;
use serde_json::Value;

async fn ccg(
    emulator: &EmulatorHandle,
    secret: &str,
    kind: Option<&str>,
    id: &str,
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", ID),
        ("client_secret", secret),
    ];
    if let Some(kind) = kind {
        form.push(("box_subject_type", kind));
    }
    form.push(("box_subject_id", id));
    emu::post_token(emulator, &form).await
}

fn world_with(change: impl FnOnce(&mut boxauth_emulator::App)) -> EmulatorConfig {
    let mut config = EmulatorConfig::default();
    let mut world = (*config.world).clone();
    change(&mut world.apps[0]);
    config.world = Arc::new(world);
    config
}

#[tokio::test]
async fn enterprise_subject_gives_the_service_account() {
    let emulator = emu::start().await;
    let (status, body) = ccg(&emulator, SECRET, Some("enterprise"), DEFAULT_ENTERPRISE_ID).await;
    assert_eq!(status, 200, "{body}");
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["access_token", "expires_in", "restricted_to", "token_type"],
        "Box's CCG answer shape"
    );
    let (_, _, me) = emu::users_me(&emulator, body["access_token"].as_str().unwrap(), None).await;
    assert_eq!(me["id"], DEFAULT_SERVICE_ACCOUNT_ID);
}

#[tokio::test]
async fn user_subject_follows_the_access_level() {
    let emulator = emu::start().await;
    for user in [
        DEFAULT_ADMIN_ID,
        DEFAULT_MANAGED_USER_ID,
        DEFAULT_APP_USER_ID,
    ] {
        let (status, body) = ccg(&emulator, SECRET, Some("user"), user).await;
        assert_eq!(status, 200, "{user}: {body}");
        let (_, _, me) =
            emu::users_me(&emulator, body["access_token"].as_str().unwrap(), None).await;
        assert_eq!(me["id"], user);
    }
    // "App Access Only": app users yes, managed users and admins no.
    let emulator = emu::start_with(world_with(|app| app.access_level = AccessLevel::AppOnly)).await;
    assert_eq!(
        ccg(&emulator, SECRET, Some("user"), DEFAULT_APP_USER_ID)
            .await
            .0,
        200
    );
    for user in [DEFAULT_ADMIN_ID, DEFAULT_MANAGED_USER_ID] {
        let (status, body) = ccg(&emulator, SECRET, Some("user"), user).await;
        assert_eq!(
            (status, body["error_description"].as_str()),
            (400, Some("Grant credentials are invalid"))
        );
    }
}

#[tokio::test]
async fn user_subject_needs_generate_user_access_tokens() {
    let emulator = emu::start_with(world_with(|app| app.generate_user_tokens = false)).await;
    let (status, body) = ccg(&emulator, SECRET, Some("user"), DEFAULT_APP_USER_ID).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(body["error_description"], "Grant credentials are invalid");
    assert_eq!(
        ccg(&emulator, SECRET, Some("enterprise"), DEFAULT_ENTERPRISE_ID)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn missing_or_unknown_subject_type_is_unauthorized() {
    let emulator = emu::start().await;
    for kind in [None, Some("group")] {
        let (status, body) = ccg(&emulator, SECRET, kind, DEFAULT_ENTERPRISE_ID).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("unauthorized_client"))
        );
        assert_eq!(
            body["error_description"],
            "The \"box_subject_type\" value is unauthorized for this client_id"
        );
    }
}

#[tokio::test]
async fn unknown_enterprise_or_user_is_refused() {
    let emulator = emu::start().await;
    for (kind, id) in [("enterprise", "999"), ("user", "999"), ("enterprise", "")] {
        let (status, body) = ccg(&emulator, SECRET, Some(kind), id).await;
        assert_eq!(
            (status, body["error_description"].as_str()),
            (400, Some("Grant credentials are invalid")),
            "{kind} {id:?}"
        );
    }
}

#[tokio::test]
async fn a_secret_one_character_off_is_refused() {
    let emulator = emu::start().await;
    let mut off = SECRET.to_owned();
    off.replace_range(31..32, "2");
    for secret in [off.as_str(), &SECRET[..31], &format!("{SECRET}1"), ""] {
        let (status, body) =
            ccg(&emulator, secret, Some("enterprise"), DEFAULT_ENTERPRISE_ID).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_client")),
            "{secret:?}"
        );
        assert_eq!(
            body["error_description"],
            "The client credentials are invalid"
        );
    }
    let (status, body) = emu::post_token(
        &emulator,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "unknownclient"),
            ("client_secret", SECRET),
            ("box_subject_type", "enterprise"),
            ("box_subject_id", DEFAULT_ENTERPRISE_ID),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_client"))
    );
}

#[tokio::test]
async fn a_grant_the_app_does_not_use_is_unauthorized() {
    let config = world_with(|app| app.grants = vec![boxauth_emulator::Grant::JwtBearer]);
    let emulator = emu::start_with(config).await;
    let (status, body) = ccg(&emulator, SECRET, Some("enterprise"), DEFAULT_ENTERPRISE_ID).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    assert_eq!(
        body["error_description"],
        "The grant type is unauthorized for this client_id"
    );
}

#[tokio::test]
async fn missing_or_unknown_grant_type_is_an_invalid_request() {
    let emulator = emu::start().await;
    for form in [
        vec![("client_id", ID)],
        vec![("grant_type", "password"), ("client_id", ID)],
    ] {
        let (status, body) = emu::post_token(&emulator, &form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_request"))
        );
        assert_eq!(
            body["error_description"],
            "Invalid grant_type parameter or parameter missing"
        );
    }
}
