//! Every expiry decision of the library reads the injected clock: the cache and its margin, a
//! JWT assertion's `exp`, the expiry written to storage, a developer token's hour. With the
//! emulator's clock injected, one `advance()` moves Box and boxauth together.

use std::time::{Duration, SystemTime};

use boxauth::{
    AuthOptions, Authentication, DeveloperTokenAuth, DeveloperTokenConfig, Error, JwtAuth,
    JwtConfig, MemoryStorage, TokenStorage,
};
use boxauth_emulator::Grant;
use boxauth_test_support::emulator as emu;

const DAY: Duration = Duration::from_secs(24 * 3600);

#[tokio::test]
async fn a_jwt_assertion_is_dated_on_the_injected_clock() {
    let emulator = emu::start().await;
    // Box's clock (and the one given to boxauth) two days after the system's.
    emulator.clock().advance(2 * DAY);
    let dir = tempfile::tempdir().unwrap();
    let exported = emulator.export_config(dir.path()).unwrap();
    let auth = JwtAuth::with_options(
        JwtConfig::from_config_file(&exported.box_config).unwrap(),
        emu::options_for(&emulator, AuthOptions::default()),
    )
    .unwrap();
    auth.retrieve_token().await.unwrap();
    assert_eq!(
        emulator.stats().requests(Grant::JwtBearer),
        1,
        "accepted the first time: no correction from Box's Date was needed"
    );
    let assertion = auth.create_assertion().unwrap();
    let claims = assertion.secret().split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &<base64ct::Base64UrlUnpadded as base64ct::Encoding>::decode_vec(claims).unwrap(),
    )
    .unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    assert!(
        (emu::now(&emulator) + 1..=emu::now(&emulator) + 60).contains(&exp),
        "exp {exp} is within 60 s after the emulator's now, {}",
        emu::now(&emulator)
    );
}

#[tokio::test]
async fn the_cache_the_margin_and_storage_follow_the_injected_clock() {
    let emulator = emu::start().await;
    emulator.clock().advance(30 * DAY);
    let storage = MemoryStorage::new();
    let auth = emu::ccg_stored(&emulator, storage.clone(), Duration::from_secs(60));
    let first = auth.retrieve_token().await.unwrap();
    // Stored with its expiry on the injected clock, a month after the system's.
    let stored = storage.load().await.unwrap().unwrap();
    let left = stored
        .expires_at
        .duration_since(emulator.clock().now())
        .unwrap();
    assert!(left > Duration::from_secs(3500) && left <= Duration::from_secs(3600));
    assert!(stored.expires_at > SystemTime::now() + 29 * DAY);

    // 59 min 50 s later: inside the margin; the valid token at once, a new one in the background.
    emulator.clock().advance(Duration::from_secs(3590));
    assert!(
        auth.retrieve_token()
            .await
            .unwrap()
            .has_access_token(&first.access_token)
    );
    let second = emu::refreshed(&auth).await;
    assert!(!second.has_access_token(&first.access_token));
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 2);

    // Two hours later the new token has expired too: the call waits for a new one.
    emulator.clock().advance(2 * 3600 * Duration::from_secs(1));
    assert!(auth.cached_token().is_none());
    let third = auth.retrieve_token().await.unwrap();
    assert!(!third.has_access_token(&second.access_token));
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 3);
}

#[tokio::test]
async fn a_developer_token_is_refused_once_its_hour_is_over_on_the_injected_clock() {
    let emulator = emu::start().await;
    let token = emu::service_token(&emulator).await;
    let auth = DeveloperTokenAuth::with_options(
        DeveloperTokenConfig::new(token.as_str()),
        emu::options_for(&emulator, AuthOptions::default()),
    )
    .unwrap();
    assert!(auth.retrieve_token().await.is_ok());
    emulator.clock().advance(Duration::from_secs(3599));
    assert!(auth.retrieve_token().await.is_ok());
    emulator.clock().advance(Duration::from_secs(2));
    assert!(matches!(
        auth.retrieve_token().await,
        Err(Error::DeveloperTokenExpired)
    ));
    assert!(matches!(
        auth.downscope_token(&["item_preview"], None, None).await,
        Err(Error::DeveloperTokenExpired)
    ));
    assert_eq!(
        emulator.stats().total_requests(),
        1,
        "no request was sent for it"
    );
}

#[tokio::test]
async fn a_developer_token_downscopes_without_touching_storage() {
    let emulator = emu::start().await;
    let parent = emu::ccg_auth(&emulator, AuthOptions::default())
        .retrieve_token()
        .await
        .unwrap();
    let storage = MemoryStorage::new();
    let auth = DeveloperTokenAuth::with_options(
        DeveloperTokenConfig::new(parent.access_token.clone()),
        emu::options_for(&emulator, AuthOptions::default().storage(storage.clone())),
    )
    .unwrap();
    let down = auth
        .downscope_token(
            &["item_preview"],
            Some("https://api.box.com/2.0/files/400000001"),
            None,
        )
        .await
        .unwrap();
    assert!(down.restricted_to.is_some());
    assert!(
        storage.load().await.unwrap().is_none(),
        "storage is not used by a developer token"
    );
}
