//! `GET /2.0/users/me`: the Bearer token's user; `As-User` where Box allows it; 401 with Box's
//! `WWW-Authenticate` for an invalid, expired or revoked token.

use std::time::Duration;

use boxauth_emulator::{
    DEFAULT_ADMIN_ID, DEFAULT_ADMIN_LOGIN, DEFAULT_ENTERPRISE_ID, DEFAULT_MANAGED_USER_ID,
};
use boxauth_test_support::emulator as emu;

const INVALID: &str = r#"Bearer realm="Service", error="invalid_token", error_description="The access token provided is invalid.""#;

#[tokio::test]
async fn a_valid_token_gets_its_user() {
    let emulator = emu::start().await;
    let admin = emu::user_token(&emulator, DEFAULT_ADMIN_ID).await;
    let (status, _, me) = emu::users_me(&emulator, &admin, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (me["type"].as_str(), me["id"].as_str(), me["login"].as_str()),
        (
            Some("user"),
            Some(DEFAULT_ADMIN_ID),
            Some(DEFAULT_ADMIN_LOGIN)
        )
    );
    assert_eq!(me["status"], "active");
}

#[tokio::test]
async fn invalid_expired_and_missing_tokens_get_401() {
    let emulator = emu::start().await;
    let (status, challenge, body) = emu::users_me(&emulator, "not-a-token", None).await;
    assert_eq!(
        (status, challenge.as_deref(), body),
        (401, Some(INVALID), serde_json::Value::Null)
    );
    let fresh = emu::service_token(&emulator).await;
    emulator.clock().advance(Duration::from_secs(3601));
    let (status, challenge, _) = emu::users_me(&emulator, &fresh, None).await;
    assert_eq!((status, challenge.as_deref()), (401, Some(INVALID)));
    let bare = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}/2.0/users/me", emulator.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 401);
    assert_eq!(
        bare.headers()["www-authenticate"],
        r#"Bearer realm="Service""#
    );
}

#[tokio::test]
async fn as_user_is_honoured_for_admins_and_allowed_service_accounts() {
    let emulator = emu::start().await;
    let admin = emu::user_token(&emulator, DEFAULT_ADMIN_ID).await;
    let (status, _, me) = emu::users_me(&emulator, &admin, Some(DEFAULT_MANAGED_USER_ID)).await;
    assert_eq!(
        (status, me["id"].as_str()),
        (200, Some(DEFAULT_MANAGED_USER_ID))
    );
    let service = emu::service_token(&emulator).await;
    let (status, _, me) = emu::users_me(&emulator, &service, Some(DEFAULT_ADMIN_ID)).await;
    assert_eq!((status, me["id"].as_str()), (200, Some(DEFAULT_ADMIN_ID)));
}

#[tokio::test]
async fn as_user_is_refused_for_managed_users_and_unknown_targets() {
    let emulator = emu::start().await;
    let managed = emu::user_token(&emulator, DEFAULT_MANAGED_USER_ID).await;
    let (status, _, body) = emu::users_me(&emulator, &managed, Some(DEFAULT_ADMIN_ID)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("access_denied_insufficient_permissions"))
    );
    let admin = emu::user_token(&emulator, DEFAULT_ADMIN_ID).await;
    let (status, _, _) = emu::users_me(&emulator, &admin, Some("999999")).await;
    assert_eq!(status, 400);
}

/// `GET /2.0/users/me?<query>` with `token`: the JSON body.
async fn me_with_query(
    emulator: &boxauth_emulator::EmulatorHandle,
    token: &str,
    query: &str,
) -> serde_json::Value {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}/2.0/users/me?{query}", emulator.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

fn keys(value: &serde_json::Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn fields_gives_the_mini_representation_plus_what_is_asked() {
    let emulator = emu::start().await;
    let admin = emu::user_token(&emulator, DEFAULT_ADMIN_ID).await;

    // Without fields: the standard ones, no enterprise.
    let standard = me_with_query(&emulator, &admin, "").await;
    assert!(standard.get("space_amount").is_some() && standard.get("enterprise").is_none());

    // fields=enterprise, as Box's SDKs' own tests ask: the mini fields and the enterprise.
    let with_enterprise = me_with_query(&emulator, &admin, "fields=enterprise").await;
    assert_eq!(
        keys(&with_enterprise),
        ["enterprise", "id", "login", "name", "type"]
    );
    assert_eq!(
        with_enterprise["enterprise"],
        serde_json::json!({"type": "enterprise", "id": DEFAULT_ENTERPRISE_ID, "name": "Emulated Enterprise"})
    );

    // Several, with an unknown name ignored as Box ignores it.
    let several = me_with_query(
        &emulator,
        &admin,
        "fields=role,is_platform_access_only,tracking_codes,no_such_field",
    )
    .await;
    assert_eq!(
        keys(&several),
        [
            "id",
            "is_platform_access_only",
            "login",
            "name",
            "role",
            "tracking_codes",
            "type"
        ]
    );
    assert_eq!(several["role"], "admin");
    assert_eq!(several["is_platform_access_only"], false);

    let service = emu::service_token(&emulator).await;
    let platform = me_with_query(&emulator, &service, "fields=is_platform_access_only,role").await;
    assert_eq!(
        (
            platform["is_platform_access_only"].as_bool(),
            platform["role"].as_str()
        ),
        (Some(true), Some("user"))
    );

    // A query that does not parse is no field list.
    let broken = me_with_query(&emulator, &admin, "fields=%ZZ&").await;
    assert!(broken.get("login").is_some());
}
