//! Annotator tokens against the emulator: the actor token boxauth builds is taken, the token
//! issued is restricted to the file and scopes asked for; an actor token of another app, or a
//! stale one, is refused.

use std::time::{Duration, SystemTime};

use boxauth::{ActorToken, AuthOptions, Authentication, RequestAccessTokenArgs};
use boxauth_emulator::DEFAULT_CLIENT_ID;
use boxauth_test_support::emulator;

const FILE: &str = "https://api.box.com/2.0/files/400000001";

#[tokio::test]
async fn an_annotator_token_is_issued_restricted_to_its_file_and_scopes() {
    let emu = emulator::start().await;
    let auth = emulator::ccg_auth(&emu, AuthOptions::default());
    let annotator = ActorToken::new(DEFAULT_CLIENT_ID, "customer-42", "Ada Lovelace");
    let token = annotator
        .exchange(&auth, &["item_preview", "annotation_edit"], FILE)
        .await
        .unwrap();
    let restricted = token.restricted_to.unwrap();
    assert_eq!(restricted.len(), 2);
    assert!(token.refresh_token.is_none());
    assert!(token.issued_token_type.is_some());
    let token = token.access_token.unwrap();
    let (status, _, _) = emulator::users_me(&emu, token.secret(), None).await;
    assert_eq!(status, 403, "an annotator token reads no profile");

    // The actor token's shape: unsigned, Box's claims.
    let actor = annotator.build(SystemTime::now()).unwrap();
    let parts: Vec<&str> = actor.secret().split('.').collect();
    assert_eq!((parts.len(), parts[2]), (3, ""));
    let claims: serde_json::Value = serde_json::from_slice(
        &<base64ct::Base64UrlUnpadded as base64ct::Encoding>::decode_vec(parts[1]).unwrap(),
    )
    .unwrap();
    assert_eq!(claims["box_sub_type"], "external");
    assert_eq!(claims["name"], "Ada Lovelace");
    assert_eq!(claims["sub"], "customer-42");

    // Another app's annotator, or one built ten minutes ago: refused.
    let subject = auth.retrieve_token().await.unwrap().access_token.clone();
    let manager = boxauth::AuthorizationManager::new(emulator::session(&emu));
    for actor in [
        ActorToken::new("another-app", "customer-42", "Ada")
            .build(SystemTime::now())
            .unwrap(),
        annotator
            .build(SystemTime::now() - Duration::from_secs(600))
            .unwrap(),
    ] {
        let args = RequestAccessTokenArgs::token_exchange(subject.clone(), "item_preview")
            .resource(FILE)
            .actor_token(actor)
            .actor_token_type(boxauth::RequestAccessTokenActorTokenType::IdToken);
        let refused = manager.request_access_token(args).await.unwrap_err();
        assert!(refused.is_invalid_grant(), "{refused:?}");
    }
    let missing = ActorToken::new(DEFAULT_CLIENT_ID, " ", "Ada")
        .build(SystemTime::now())
        .unwrap_err();
    assert_eq!(
        missing.config_error_kind(),
        Some(boxauth::ConfigErrorKind::Missing)
    );
    emu.shutdown().await;
}
