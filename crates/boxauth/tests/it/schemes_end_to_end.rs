//! Every scheme against the emulator: a token is obtained, it works on /2.0/users/me, refresh
//! rotates, revoke makes it fail, downscope returns restricted_to.

use std::sync::Arc;

use boxauth::{
    AuthOptions, Authentication, AuthorizeOptions, BoxClient, CcgAuth, CcgConfig,
    DeveloperTokenAuth, DeveloperTokenConfig, Error, JwtAuth, JwtConfig, OAuth, OAuthConfig,
    Resource,
};
use boxauth_emulator::headless::{self, Decision};
use boxauth_emulator::{
    DEFAULT_ADMIN_ID, DEFAULT_ADMIN_LOGIN, DEFAULT_APP_USER_ID, DEFAULT_CLIENT_ID as ID,
    DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID, DEFAULT_SERVICE_ACCOUNT_ID,
    EmulatorHandle,
};
use boxauth_test_support::emulator as emu;

const FILE: &str = "https://api.box.com/2.0/files/400000001";

fn options(emulator: &EmulatorHandle) -> AuthOptions {
    AuthOptions::default().session(emu::session(emulator))
}

/// The checks every refreshable scheme passes.
async fn exercise(emulator: &EmulatorHandle, auth: Arc<dyn Authentication>, expected_user: &str) {
    let client = BoxClient::from_shared(auth.clone());
    let first = auth.retrieve_token().await.unwrap();
    assert_eq!(client.users_me().await.unwrap().id, expected_user);
    assert!(
        Arc::ptr_eq(&first, &auth.retrieve_token().await.unwrap()),
        "the second call is served from the cache"
    );

    let refreshed = auth.refresh_token().await.unwrap();
    assert_ne!(refreshed.access_token.secret(), first.access_token.secret());
    assert_eq!(
        client.users_me().await.unwrap().id,
        expected_user,
        "the refreshed token works"
    );

    let header = auth.authorization_header().await.unwrap();
    assert_eq!(
        header.secret(),
        format!("Bearer {}", refreshed.access_token.secret())
    );

    let down = auth
        .downscope_token(&["item_preview"], Some(FILE), None)
        .await
        .unwrap();
    let restricted = down.restricted_to.unwrap();
    assert!(matches!(&restricted[0].object, Some(Resource::File(f)) if f.id == "400000001"));
    assert!(down.refresh_token.is_none());

    auth.revoke_token().await.unwrap();
    let revoked = refreshed.access_token.secret().to_owned();
    assert_eq!(
        emu::users_me(emulator, &revoked, None).await.0,
        401,
        "revoke makes the token fail"
    );
}

#[tokio::test]
async fn client_credentials_grant_end_to_end() {
    let emulator = emu::start().await;
    let auth = CcgAuth::with_options(
        CcgConfig::enterprise(ID, SECRET, DEFAULT_ENTERPRISE_ID),
        options(&emulator),
    )
    .unwrap();
    exercise(
        &emulator,
        Arc::new(auth.clone()),
        DEFAULT_SERVICE_ACCOUNT_ID,
    )
    .await;
    let as_user = auth.with_user_subject(DEFAULT_APP_USER_ID).unwrap();
    assert_eq!(
        BoxClient::new(as_user.clone()).users_me().await.unwrap().id,
        DEFAULT_APP_USER_ID
    );
    let back = as_user
        .with_enterprise_subject(DEFAULT_ENTERPRISE_ID)
        .unwrap();
    assert_eq!(
        BoxClient::new(back).users_me().await.unwrap().id,
        DEFAULT_SERVICE_ACCOUNT_ID
    );
}

#[tokio::test]
async fn jwt_end_to_end_from_the_exported_config_file() {
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let exported = emulator.export_config(dir.path()).unwrap();
    let config = JwtConfig::from_config_file(&exported.box_config).unwrap();
    let auth = JwtAuth::with_options(config, options(&emulator)).unwrap();
    exercise(
        &emulator,
        Arc::new(auth.clone()),
        DEFAULT_SERVICE_ACCOUNT_ID,
    )
    .await;
    let admin = auth.with_user_subject(DEFAULT_ADMIN_ID).unwrap();
    assert_eq!(
        BoxClient::new(admin).users_me().await.unwrap().id,
        DEFAULT_ADMIN_ID
    );
}

#[tokio::test]
async fn oauth_end_to_end_with_consent_state_and_rotation() {
    let emulator = emu::start().await;
    let auth = OAuth::with_options(OAuthConfig::new(ID, SECRET), options(&emulator)).unwrap();
    let missing = auth.retrieve_token().await.unwrap_err();
    assert!(
        matches!(missing, Error::ReauthorizationRequired(_)),
        "{missing}"
    );

    let login = emu::log_in(&auth, AuthorizeOptions::default()).await;
    let url = &login.request.url;
    assert!(
        login.request.state().len() >= 43,
        "at least 256 bits of state"
    );
    assert!(
        url.starts_with(&format!("{}/", emulator.oauth2_url())),
        "the session's OAuth 2.0 URL is used: {url}"
    );
    let stored = login.token;
    let first_refresh = stored.refresh_token.clone().unwrap();

    exercise(&emulator, Arc::new(auth.clone()), DEFAULT_ADMIN_ID).await;
    // Rotation: the first refresh token was spent by the refresh inside `exercise`.
    let reuse = emu::refresh(&emulator, first_refresh.secret()).await;
    assert_eq!(reuse.0, 400);
    // Revoked: storage is empty, so the user must log in again.
    assert!(matches!(
        auth.retrieve_token().await.unwrap_err(),
        Error::ReauthorizationRequired(_)
    ));
}

#[tokio::test]
async fn oauth_callback_with_a_wrong_state_or_a_denial_is_refused() {
    let emulator = emu::start().await;
    let auth = OAuth::with_options(OAuthConfig::new(ID, SECRET), options(&emulator)).unwrap();
    let request = auth.authorize_url(AuthorizeOptions::default());
    let callback = emu::approve(&request.url).await;
    let forged = callback.replace(&format!("state={}", request.state()), "state=forged");
    assert!(matches!(
        auth.complete_authorization(&request, &forged)
            .await
            .unwrap_err(),
        Error::StateMismatch
    ));
    let other = auth.authorize_url(AuthorizeOptions::default());
    assert!(matches!(
        auth.complete_authorization(&other, &callback)
            .await
            .unwrap_err(),
        Error::StateMismatch
    ));

    let denied_request = auth.authorize_url(AuthorizeOptions::default());
    let denied = headless::answer(&denied_request.url, DEFAULT_ADMIN_LOGIN, Decision::Deny)
        .await
        .unwrap();
    let error = auth
        .complete_authorization(&denied_request, &denied)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::AccessDenied { error, .. } if error == "access_denied"),
        "{error}"
    );
}

#[tokio::test]
async fn developer_token_works_until_box_refuses_it() {
    let emulator = emu::start().await;
    // A developer token is an ordinary access token Box made for the developer: take one.
    let token = emu::user_token(&emulator, DEFAULT_ADMIN_ID).await;
    let config = DeveloperTokenConfig::new(token.as_str()).client_credentials(ID, SECRET);
    let auth = DeveloperTokenAuth::with_options(config, options(&emulator)).unwrap();
    let client = BoxClient::new(auth.clone());
    assert_eq!(client.users_me().await.unwrap().id, DEFAULT_ADMIN_ID);
    let down = auth
        .downscope_token(&["item_preview"], Some(FILE), None)
        .await
        .unwrap();
    assert!(down.restricted_to.is_some());
    assert!(matches!(
        auth.refresh_token().await.unwrap_err(),
        Error::DeveloperTokenExpired
    ));

    // Sixty minutes later Box answers 401: the error says the developer token expired.
    emulator
        .clock()
        .advance(std::time::Duration::from_secs(3601));
    let error = client.users_me().await.unwrap_err();
    assert!(matches!(error, Error::DeveloperTokenExpired), "{error:?}");
    assert!(error.to_string().contains("generate a new one"), "{error}");

    let fresh = DeveloperTokenAuth::with_options(
        DeveloperTokenConfig::new(token.as_str()).client_credentials(ID, SECRET),
        options(&emulator),
    )
    .unwrap();
    fresh.revoke_token().await.unwrap();
}
