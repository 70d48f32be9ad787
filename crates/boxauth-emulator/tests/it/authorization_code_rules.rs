//! Authorization codes: random (at least 128 bits), 30 s, single use, bound to the client; a
//! replayed code is refused and every token issued from it is revoked.

use std::collections::HashSet;
use std::time::Duration;

use boxauth::RequestAccessTokenArgs;
use boxauth_emulator::{DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, EmulatorConfig};
use boxauth_test_support::emulator as emu;

async fn exchange(
    emulator: &boxauth_emulator::EmulatorHandle,
    code: &str,
) -> (u16, serde_json::Value) {
    emu::post_token(
        emulator,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", ID),
            ("client_secret", SECRET),
        ],
    )
    .await
}

#[tokio::test]
async fn code_is_random_with_at_least_128_bits() {
    let emulator = emu::start().await;
    let mut seen = HashSet::new();
    for _ in 0..20 {
        let code = emu::authorization_code(&emulator).await;
        // 32 characters of [A-Za-z0-9]: log2(62) * 32 ≈ 190 bits.
        assert!(
            code.len() >= 22 && code.bytes().all(|b| b.is_ascii_alphanumeric()),
            "{code}"
        );
        assert!(seen.insert(code));
    }
}

#[tokio::test]
async fn code_exchanged_once_gives_access_and_refresh_tokens() {
    let emulator = emu::start().await;
    let code = emu::authorization_code(&emulator).await;
    let (status, body) = exchange(&emulator, &code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["access_token"].is_string() && body["refresh_token"].is_string());
}

#[tokio::test]
async fn replayed_code_is_refused_and_revokes_its_tokens() {
    let emulator = emu::start().await;
    let code = emu::authorization_code(&emulator).await;
    let (_, first) = exchange(&emulator, &code).await;
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(emu::users_me(&emulator, access, None).await.0, 200);
    let (status, body) = exchange(&emulator, &code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        body["error_description"],
        "The authorization code has expired"
    );
    assert_eq!(
        emu::users_me(&emulator, access, None).await.0,
        401,
        "the first exchange's token is revoked"
    );
    let refresh = first["refresh_token"].as_str().unwrap();
    let (status, _) = emu::refresh(&emulator, refresh).await;
    assert_eq!(status, 400, "its refresh token is revoked too");
    assert_eq!(emulator.stats().code_replays, 1);
}

#[tokio::test]
async fn code_expires_after_30_seconds() {
    let emulator = emu::start().await;
    let code = emu::authorization_code(&emulator).await;
    emulator.clock().advance(Duration::from_secs(31));
    let (status, body) = exchange(&emulator, &code).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error_description"],
        "The authorization code has expired"
    );

    let code = emu::authorization_code(&emulator).await;
    emulator.clock().advance(Duration::from_secs(29));
    assert_eq!(
        exchange(&emulator, &code).await.0,
        200,
        "29 s is still within the lifetime"
    );
}

#[tokio::test]
async fn code_is_bound_to_the_client_that_asked() {
    let mut config = EmulatorConfig::default();
    let mut world = (*config.world).clone();
    let mut other = world.apps[0].clone();
    other.client_id = "otherappclientid0000000000000002".into();
    other.client_secret = "OtherAppClientSecret000000000002".into();
    world.apps.push(other);
    config.world = std::sync::Arc::new(world);
    let emulator = emu::start_with(config).await;
    let code = emu::authorization_code(&emulator).await;
    let (status, body) = emu::post_token(
        &emulator,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "otherappclientid0000000000000002"),
            ("client_secret", "OtherAppClientSecret000000000002"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error_description"],
        "Auth code doesn't exist or is invalid for the client"
    );
    assert_eq!(
        exchange(&emulator, &code).await.0,
        200,
        "the right client can still use it"
    );
}

#[tokio::test]
async fn unknown_code_is_refused() {
    let emulator = emu::start().await;
    let error = emu::manager(&emulator)
        .request_access_token(RequestAccessTokenArgs::authorization_code(
            ID,
            SECRET,
            "n22JPxrh18m4Y0wIZPIqYZK7VRrsMTWW",
        ))
        .await
        .unwrap_err();
    let api = error.as_api().unwrap();
    assert_eq!(
        api.error_description.as_deref(),
        Some("Auth code doesn't exist or is invalid for the client")
    );
}
