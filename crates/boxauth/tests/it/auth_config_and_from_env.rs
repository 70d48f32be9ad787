//! `AuthConfig` (an auth method as data) and `AuthConfig::from_vars` / `from_env` (the method from
//! environment variables): each method gets a working token from the emulator, each mistake gets
//! an error of its kind naming the variables, and no secret shows in `Debug` or an error.

use std::collections::HashMap;

use boxauth::{
    AuthConfig, AuthMethod, Authentication, BoxClient, ConfigErrorKind, TokenStorage, TokenStore,
};
use boxauth_emulator::{
    DEFAULT_ADMIN_ID, DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET,
    DEFAULT_ENTERPRISE_ID, DEFAULT_SERVICE_ACCOUNT_ID, EmulatorHandle,
};
use boxauth_test_support::emulator as emu;

/// The variables `pairs`, plus the emulator's URLs.
fn vars<'a>(
    emulator: &EmulatorHandle,
    pairs: &[(&'a str, &str)],
) -> impl Fn(&str) -> Option<String> + use<'a> {
    let mut map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    map.insert("BOX_BASE_URL".into(), emulator.base_url().to_owned());
    map.insert("BOX_OAUTH2_URL".into(), emulator.oauth2_url());
    move |name| map.get(name).cloned()
}

async fn who(config: &AuthConfig) -> String {
    let auth = config.build().unwrap();
    BoxClient::from_shared(auth).users_me().await.unwrap().id
}

#[tokio::test]
async fn each_method_from_the_environment_gets_a_working_token() {
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let exported = emulator.export_config(dir.path()).unwrap();
    let box_config = std::fs::read_to_string(&exported.box_config).unwrap();
    let file = exported.box_config.to_str().unwrap();

    let ccg = AuthConfig::from_vars(vars(
        &emulator,
        &[
            ("BOX_CLIENT_ID", ID),
            ("BOX_CLIENT_SECRET", SECRET),
            ("BOX_ENTERPRISE_ID", DEFAULT_ENTERPRISE_ID),
        ],
    ))
    .unwrap();
    assert!(matches!(ccg.method, AuthMethod::Ccg { .. }));
    assert_eq!(who(&ccg).await, DEFAULT_SERVICE_ACCOUNT_ID);

    let ccg_user = AuthConfig::from_vars(vars(
        &emulator,
        &[
            ("BOX_CLIENT_ID", ID),
            ("BOX_CLIENT_SECRET", SECRET),
            ("BOX_USER_ID", DEFAULT_ADMIN_ID),
        ],
    ))
    .unwrap();
    assert_eq!(who(&ccg_user).await, DEFAULT_ADMIN_ID);

    let jwt_file = AuthConfig::from_vars(vars(&emulator, &[("BOX_JWT_CONFIG", file)])).unwrap();
    assert_eq!(who(&jwt_file).await, DEFAULT_SERVICE_ACCOUNT_ID);

    let jwt_json = AuthConfig::from_vars(vars(
        &emulator,
        &[
            ("BOX_JWT_CONFIG_JSON", box_config.as_str()),
            ("BOX_USER_ID", DEFAULT_ADMIN_ID),
        ],
    ))
    .unwrap();
    assert_eq!(who(&jwt_json).await, DEFAULT_ADMIN_ID);

    // The known complaint: a PEM pasted into a variable with its newlines written as "\n".
    let mut doubled: serde_json::Value = serde_json::from_str(&box_config).unwrap();
    let pem = doubled["boxAppSettings"]["appAuth"]["privateKey"]
        .as_str()
        .unwrap()
        .replace('\n', "\\n");
    doubled["boxAppSettings"]["appAuth"]["privateKey"] = pem.into();
    let literal = AuthConfig::from_vars(vars(
        &emulator,
        &[("BOX_JWT_CONFIG_JSON", &doubled.to_string())],
    ))
    .unwrap();
    assert_eq!(who(&literal).await, DEFAULT_SERVICE_ACCOUNT_ID);

    let token = emu::ccg_auth(&emulator, boxauth::AuthOptions::default())
        .retrieve_token()
        .await
        .unwrap();
    let developer = AuthConfig::from_vars(vars(
        &emulator,
        &[
            ("BOX_DEVELOPER_TOKEN", token.access_token.secret()),
            ("BOX_CLIENT_ID", ID),
            ("BOX_CLIENT_SECRET", SECRET),
        ],
    ))
    .unwrap();
    assert!(
        matches!(
            &developer.method,
            AuthMethod::DeveloperToken {
                client_id: Some(_),
                client_secret: Some(_),
                ..
            }
        ),
        "a client ID and secret beside a developer token are for revoking it"
    );
    let auth = developer.build().unwrap();
    assert_eq!(
        BoxClient::from_shared(auth.clone())
            .users_me()
            .await
            .unwrap()
            .id,
        DEFAULT_SERVICE_ACCOUNT_ID
    );
    auth.revoke_token().await.unwrap();
    assert_eq!(
        emu::users_me(&emulator, token.access_token.secret(), None)
            .await
            .0,
        401,
        "revoked with the app's credentials"
    );
}

#[tokio::test]
async fn the_token_store_comes_from_the_environment_too() {
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("box-token.json");
    let store = format!("file:{}", path.display());
    let config = AuthConfig::from_vars(vars(
        &emulator,
        &[
            ("BOX_CLIENT_ID", ID),
            ("BOX_CLIENT_SECRET", SECRET),
            ("BOX_ENTERPRISE_ID", DEFAULT_ENTERPRISE_ID),
            ("BOX_TOKEN_STORE", &store),
        ],
    ))
    .unwrap();
    assert_eq!(config.token_store, TokenStore::File(path.clone()));
    let token = config.build().unwrap().retrieve_token().await.unwrap();
    let stored = boxauth::FileStorage::new(&path)
        .load()
        .await
        .unwrap()
        .unwrap();
    assert!(stored.has_access_token(&token.access_token));
}

#[test]
fn mistakes_get_an_error_of_their_kind_naming_the_variables() {
    let none = |_: &str| None;
    let error = AuthConfig::from_vars(none).unwrap_err();
    assert_eq!(error.config_error_kind(), Some(ConfigErrorKind::Missing));
    for name in [
        "BOX_DEVELOPER_TOKEN",
        "BOX_JWT_CONFIG",
        "BOX_JWT_CONFIG_JSON",
        "BOX_CLIENT_ID",
        "BOX_ENTERPRISE_ID",
    ] {
        assert!(error.to_string().contains(name), "{error}");
    }

    let from = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let partial =
        AuthConfig::from_vars(from(&[("BOX_CLIENT_ID", "id"), ("BOX_ENTERPRISE_ID", "1")]))
            .unwrap_err();
    assert_eq!(partial.config_error_kind(), Some(ConfigErrorKind::Missing));
    assert!(
        partial.to_string().contains("set BOX_CLIENT_SECRET too"),
        "{partial}"
    );

    let two = AuthConfig::from_vars(from(&[
        ("BOX_DEVELOPER_TOKEN", "T"),
        ("BOX_JWT_CONFIG", "/etc/box.json"),
    ]))
    .unwrap_err();
    assert_eq!(two.config_error_kind(), Some(ConfigErrorKind::Conflict));
    assert!(
        two.to_string().contains("BOX_DEVELOPER_TOKEN")
            && two.to_string().contains("BOX_JWT_CONFIG"),
        "{two}"
    );

    let both_jwt = AuthConfig::from_vars(from(&[
        ("BOX_JWT_CONFIG", "/etc/box.json"),
        ("BOX_JWT_CONFIG_JSON", "{}"),
    ]))
    .unwrap_err();
    assert_eq!(
        both_jwt.config_error_kind(),
        Some(ConfigErrorKind::Conflict)
    );

    let jwt_and_ccg = AuthConfig::from_vars(from(&[
        ("BOX_JWT_CONFIG", "/etc/box.json"),
        ("BOX_CLIENT_ID", "id"),
        ("BOX_CLIENT_SECRET", "s3cr3t-value"),
        ("BOX_ENTERPRISE_ID", "1"),
    ]))
    .unwrap_err();
    assert_eq!(
        jwt_and_ccg.config_error_kind(),
        Some(ConfigErrorKind::Conflict)
    );
    assert!(!jwt_and_ccg.to_string().contains("s3cr3t-value"));

    let store = AuthConfig::from_vars(from(&[
        ("BOX_DEVELOPER_TOKEN", "T"),
        ("BOX_TOKEN_STORE", "postgres://u:hunter2@db/x"),
    ]))
    .unwrap_err();
    assert_eq!(store.config_error_kind(), Some(ConfigErrorKind::Invalid));
    assert!(store.to_string().starts_with("BOX_TOKEN_STORE "), "{store}");
    assert!(!store.report().contains("hunter2"), "{}", store.report());

    // Empty variables count as unset.
    let empty = AuthConfig::from_vars(from(&[("BOX_DEVELOPER_TOKEN", " ")])).unwrap_err();
    assert_eq!(empty.config_error_kind(), Some(ConfigErrorKind::Missing));
}

#[test]
fn a_config_reads_as_written_and_never_shows_a_secret() {
    let text = r#"{
        "method": "ccg",
        "client_id": "cid",
        "client_secret": "the-client-secret",
        "enterprise_id": "899905961",
        "token_store": "redis://:redis-password@127.0.0.1:6379/0"
    }"#;
    let config: AuthConfig = serde_json::from_str(text).unwrap();
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("the-client-secret") && !shown.contains("redis-password"),
        "{shown}"
    );
    let again: serde_json::Value = serde_json::to_value(&config).unwrap();
    assert_eq!(
        again,
        serde_json::from_str::<serde_json::Value>(text).unwrap()
    );
    assert_eq!(
        config.method.identity().unwrap(),
        "boxauth:cid:enterprise:899905961"
    );

    let json = AuthConfig::new(AuthMethod::Jwt {
        config_file: None,
        config_json: Some(
            r#"{"boxAppSettings":{"clientID":"app1","clientSecret":"the-client-secret"}}"#.into(),
        ),
        user_id: Some("22".into()),
    });
    assert!(!format!("{json:?}").contains("the-client-secret"));
    assert_eq!(
        json.method.identity().unwrap(),
        "boxauth:app1:user:22",
        "read without a key"
    );
}
