//! Revoke: `client_id`, `client_secret`, `token` (access or refresh) kill the whole pair; an
//! unknown token gets 200 with an empty body.

use boxauth_emulator::{DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, EmulatorHandle};
use boxauth_test_support::emulator as emu;
use serde_json::Value;

async fn pair(emulator: &EmulatorHandle) -> Value {
    let code = emu::authorization_code(emulator).await;
    emu::exchange_code(emulator, &code).await.1
}

async fn revoke(emulator: &EmulatorHandle, secret: &str, token: &str) -> (u16, Value) {
    emu::post_form(
        emulator,
        "/oauth2/revoke",
        &[
            ("client_id", ID),
            ("client_secret", secret),
            ("token", token),
        ],
    )
    .await
}

/// Asserts that neither token of `tokens` works any more: the access token is refused at
/// `/2.0/users/me`, the refresh token at `/oauth2/token`.
async fn assert_pair_dead(emulator: &EmulatorHandle, tokens: &Value) {
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(emu::users_me(emulator, access, None).await.0, 401);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(emu::refresh(emulator, refresh).await.0, 400);
}

#[tokio::test]
async fn revoking_the_access_token_kills_the_pair() {
    let emulator = emu::start().await;
    let tokens = pair(&emulator).await;
    let (status, body) = revoke(&emulator, SECRET, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!((status, body), (200, Value::Null), "200 with an empty body");
    assert_pair_dead(&emulator, &tokens).await;
    assert_eq!(emulator.stats().revocations, 1);
}

#[tokio::test]
async fn revoking_the_refresh_token_kills_the_pair() {
    let emulator = emu::start().await;
    let tokens = pair(&emulator).await;
    assert_eq!(
        revoke(&emulator, SECRET, tokens["refresh_token"].as_str().unwrap())
            .await
            .0,
        200
    );
    assert_pair_dead(&emulator, &tokens).await;
}

#[tokio::test]
async fn an_unknown_or_already_revoked_token_gets_200() {
    let emulator = emu::start().await;
    assert_eq!(revoke(&emulator, SECRET, "neverissued").await.0, 200);
    let tokens = pair(&emulator).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(revoke(&emulator, SECRET, access).await.0, 200);
    assert_eq!(revoke(&emulator, SECRET, access).await.0, 200);
    assert_eq!(emulator.stats().revocations, 1);
}

#[tokio::test]
async fn revoke_needs_the_client_credentials() {
    let emulator = emu::start().await;
    let tokens = pair(&emulator).await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, body) = revoke(&emulator, "wrong", access).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_client"))
    );
    assert_eq!(
        emu::users_me(&emulator, access, None).await.0,
        200,
        "nothing was revoked"
    );
}

#[tokio::test]
async fn revoke_does_not_require_grant_type() {
    // Box's spec lists grant_type as required but defines no such property; no client sends it.
    let emulator = emu::start().await;
    let tokens = pair(&emulator).await;
    let (status, _) = emu::post_form(
        &emulator,
        "/oauth2/revoke",
        &[
            ("client_id", ID),
            ("client_secret", SECRET),
            ("token", tokens["access_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 200);
}
