//! PKCE (RFC 7636, S256) against the emulator: the authorization URL carries the challenge, the
//! code exchange its verifier; a wrong verifier and a missing one are refused (and do not burn
//! the code); a login without PKCE is unchanged.

use boxauth::{
    AuthOptions, AuthorizationManager, AuthorizeOptions, BoxClient, CodeVerifier, OAuth,
    OAuthConfig, RequestAccessTokenArgs,
};
use boxauth_emulator::headless::{self, Decision};
use boxauth_emulator::{
    DEFAULT_ADMIN_ID, DEFAULT_ADMIN_LOGIN, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};
use boxauth_test_support::emulator;

fn oauth(emu: &boxauth_emulator::EmulatorHandle) -> OAuth {
    OAuth::with_options(
        OAuthConfig::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        emulator::options_for(emu, AuthOptions::default()),
    )
    .unwrap()
}

fn exchange(code: &str, verifier: Option<&str>) -> RequestAccessTokenArgs {
    let mut args =
        RequestAccessTokenArgs::authorization_code(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, code);
    args.code_verifier = verifier.map(CodeVerifier::from);
    args
}

#[tokio::test]
async fn a_pkce_login_works_and_a_wrong_or_missing_verifier_is_refused() {
    let emu = emulator::start().await;
    let auth = oauth(&emu);
    let request = auth.authorize_url(AuthorizeOptions::default().pkce());
    assert_eq!(
        emulator::query_value(&request.url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let challenge = emulator::query_value(&request.url, "code_challenge").unwrap();
    assert_eq!(challenge.len(), 43, "base64url of a SHA-256, unpadded");
    let verifier = request.code_verifier().unwrap().clone();
    assert!(!format!("{request:?}").contains(verifier.secret()));
    assert_ne!(challenge, verifier.secret());

    let location = headless::answer(&request.url, DEFAULT_ADMIN_LOGIN, Decision::Approve)
        .await
        .unwrap();
    let code = emulator::query_value(&location, "code").unwrap();
    let manager = AuthorizationManager::new(emulator::session(&emu));

    // Without the verifier, or with another one: refused, and the code is not spent.
    let missing = manager
        .request_access_token(exchange(&code, None))
        .await
        .unwrap_err();
    assert!(missing.is_invalid_grant(), "{missing:?}");
    let wrong = manager
        .request_access_token(exchange(&code, Some(&"x".repeat(43))))
        .await
        .unwrap_err();
    assert!(wrong.is_invalid_grant(), "{wrong:?}");
    assert_ne!(
        missing.as_api().unwrap().error_description,
        wrong.as_api().unwrap().error_description
    );

    // The library's own completion sends the verifier.
    auth.complete_authorization(&request, &location)
        .await
        .unwrap();
    let me = BoxClient::new(auth.clone()).users_me().await.unwrap();
    assert_eq!(me.id, DEFAULT_ADMIN_ID);
    emu.shutdown().await;
}

#[tokio::test]
async fn without_pkce_nothing_changes_and_a_bad_challenge_is_refused_on_the_page() {
    let emu = emulator::start().await;
    let auth = oauth(&emu);
    let request = auth.authorize_url(AuthorizeOptions::default());
    assert!(request.code_verifier().is_none());
    assert!(!request.url.contains("code_challenge"));
    let location = headless::answer(&request.url, DEFAULT_ADMIN_LOGIN, Decision::Approve)
        .await
        .unwrap();
    auth.complete_authorization(&request, &location)
        .await
        .unwrap();

    // A challenge method other than S256 or plain, and a challenge too short: Box's error page.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for query in [
        format!(
            "code_challenge={}&code_challenge_method=S512",
            "a".repeat(43)
        ),
        "code_challenge=short&code_challenge_method=S256".to_owned(),
        "code_challenge_method=S256".to_owned(),
    ] {
        let url = format!(
            "{}/authorize?response_type=code&client_id={DEFAULT_CLIENT_ID}&{query}",
            emu.oauth2_url()
        );
        let page = client.get(&url).send().await.unwrap();
        assert_eq!(page.status(), 400, "{query}");
        assert!(
            page.text().await.unwrap().contains("invalid_request"),
            "{query}"
        );
    }
    emu.shutdown().await;
}
