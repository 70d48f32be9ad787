//! The library's AuthorizationManager runs all four operations and every grant against the emulator.

use boxauth::{
    AuthorizeUserArgs, RefreshAccessTokenArgs, RequestAccessTokenArgs,
    RequestAccessTokenBoxSubjectType, RequestAccessTokenGrantType, Resource, RevokeAccessTokenArgs,
};
use boxauth_emulator::{
    DEFAULT_APP_USER_ID, DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET,
    DEFAULT_ENTERPRISE_ID,
};
use boxauth_test_support::emulator as emu;

#[tokio::test]
async fn all_four_operations_and_every_grant() {
    let emulator = emu::start().await;
    let manager = emu::manager(&emulator);

    // authorize_user: the GET of the consent page succeeds.
    manager
        .authorize_user(AuthorizeUserArgs::new(ID).state("xyz"))
        .await
        .unwrap();

    // authorization_code
    let code = emu::authorization_code(&emulator).await;
    let oauth = manager
        .request_access_token(RequestAccessTokenArgs::authorization_code(ID, SECRET, code))
        .await
        .unwrap();
    let access = oauth.access_token.clone().unwrap();
    let refresh = oauth.refresh_token.clone().unwrap();
    assert_eq!(oauth.expires_in, Some(3600));
    assert_eq!(emu::users_me(&emulator, access.secret(), None).await.0, 200);

    // refresh_token through request_access_token, then refresh_access_token
    let rotated = manager
        .request_access_token(
            RequestAccessTokenArgs::new(RequestAccessTokenGrantType::RefreshToken)
                .client_id(ID)
                .client_secret(SECRET)
                .refresh_token(refresh),
        )
        .await
        .unwrap();
    let rotated_again = manager
        .refresh_access_token(RefreshAccessTokenArgs::new(
            ID,
            SECRET,
            rotated.refresh_token.clone().unwrap(),
        ))
        .await
        .unwrap();
    assert_ne!(
        rotated_again.refresh_token.as_ref().unwrap().secret(),
        rotated.refresh_token.as_ref().unwrap().secret()
    );

    // client_credentials, enterprise and user
    for (kind, id) in [
        (
            RequestAccessTokenBoxSubjectType::Enterprise,
            DEFAULT_ENTERPRISE_ID,
        ),
        (RequestAccessTokenBoxSubjectType::User, DEFAULT_APP_USER_ID),
    ] {
        let ccg = manager
            .request_access_token(RequestAccessTokenArgs::client_credentials(
                ID, SECRET, kind, id,
            ))
            .await
            .unwrap();
        assert!(ccg.refresh_token.is_none());
    }

    // jwt-bearer
    let jwt = manager
        .request_access_token(RequestAccessTokenArgs::jwt_bearer(
            ID,
            SECRET,
            emu::assertion(&emulator),
        ))
        .await
        .unwrap();
    assert!(jwt.refresh_token.is_none());

    // token exchange
    let down = manager
        .request_access_token(
            RequestAccessTokenArgs::token_exchange(
                jwt.access_token.clone().unwrap(),
                "item_preview",
            )
            .resource("https://api.box.com/2.0/files/400000001"),
        )
        .await
        .unwrap();
    let restricted = down.restricted_to.unwrap();
    assert!(matches!(restricted[0].object, Some(Resource::File(ref f)) if f.id == "400000001"));

    // revoke
    let live = rotated_again.access_token.unwrap();
    manager
        .revoke_access_token(RevokeAccessTokenArgs::new(ID, SECRET, live.clone()))
        .await
        .unwrap();
    assert_eq!(emu::users_me(&emulator, live.secret(), None).await.0, 401);
    emulator.shutdown().await;
}
