//! The request log: one record per exchange with what a developer needs to see why a client was
//! refused (method, path, grant type, client ID, status, Box's error), and never a secret.

use boxauth::{AuthOptions, Authentication, AuthorizeOptions, OAuth, OAuthConfig};
use boxauth_emulator::headless::{self, Decision};
use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID, EmulatorConfig,
};
use boxauth_test_support::{control, emulator as emu};

#[tokio::test]
async fn each_exchange_is_recorded_with_its_refusal_and_no_secret() {
    let emulator = emu::start_with(EmulatorConfig {
        keep_requests: 100,
        ..EmulatorConfig::default()
    })
    .await;
    let mut secrets: Vec<String> = vec![SECRET.into(), "a-wrong-client-secret".into()];

    // A refused client, then a good one.
    let wrong = emu::ccg_form(
        ID,
        "a-wrong-client-secret",
        "enterprise",
        DEFAULT_ENTERPRISE_ID,
    );
    let (status, _) = emu::post_token(&emulator, &wrong).await;
    assert_eq!(status, 400);
    let ccg = emu::ccg_auth(&emulator, AuthOptions::default());
    let token = ccg.retrieve_token().await.unwrap();
    secrets.push(token.access_token.secret().into());
    assert_eq!(
        emu::users_me(&emulator, token.access_token.secret(), None)
            .await
            .0,
        200
    );

    // JWT, with its assertion.
    let assertion = emu::assertion(&emulator);
    secrets.push(assertion.clone());
    let (status, body) = emu::post_token(
        &emulator,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("client_id", ID),
            ("client_secret", SECRET),
            ("assertion", &assertion),
        ],
    )
    .await;
    assert_eq!(status, 200);
    secrets.push(body["access_token"].as_str().unwrap().into());

    // OAuth 2.0: the consent page (state and code in URLs), the exchange, a refresh, a revoke.
    let oauth = OAuth::with_options(
        OAuthConfig::new(ID, SECRET),
        emu::options_for(
            &emulator,
            AuthOptions::default().storage(boxauth::MemoryStorage::new()),
        ),
    )
    .unwrap();
    let login = emu::log_in(
        &oauth,
        AuthorizeOptions::default().state("a-state-value-to-hide"),
    )
    .await;
    secrets.extend([login.request.state().to_owned(), login.code]);
    let first = login.token;
    secrets.push(first.access_token.secret().into());
    secrets.push(first.refresh_token.as_ref().unwrap().secret().into());
    let second = oauth.refresh_token().await.unwrap();
    secrets.push(second.access_token.secret().into());
    secrets.push(second.refresh_token.as_ref().unwrap().secret().into());
    oauth.revoke_token().await.unwrap();

    let log = emulator.requests();
    let refused = &log[0];
    assert_eq!(
        (
            refused.method.as_str(),
            refused.path.as_str(),
            refused.status,
            refused.grant_type.as_deref(),
            refused.client_id.as_deref(),
            refused.error.as_deref(),
        ),
        (
            "POST",
            "/oauth2/token",
            400,
            Some("client_credentials"),
            Some(ID),
            Some("invalid_client")
        )
    );
    assert!(
        refused
            .error_description
            .as_deref()
            .unwrap()
            .contains("client credentials")
    );
    assert!(!refused.request_id.is_empty());
    let grants: Vec<&str> = log.iter().filter_map(|e| e.grant_type.as_deref()).collect();
    assert_eq!(
        grants,
        [
            "client_credentials",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "authorization_code",
            "refresh_token",
        ]
    );
    assert!(
        log.iter()
            .any(|e| e.path == "/2.0/users/me" && e.status == 200)
    );
    assert!(
        log.iter()
            .any(|e| e.path == "/oauth2/revoke" && e.client_id.as_deref() == Some(ID))
    );
    let consent = log
        .iter()
        .find(|e| e.path.starts_with("/api/oauth2/authorize?"))
        .unwrap();
    assert!(consent.path.contains("state=***"), "{}", consent.path);

    // The same over HTTP, for a client in any language; and no secret anywhere in it.
    let (_, served) = control::get(&emulator, "requests").await;
    assert!(served.as_array().unwrap().len() >= log.len());
    let everything = format!("{served} {log:?}");
    for secret in &secrets {
        assert!(
            !everything.contains(secret.as_str()),
            "a secret is in the log"
        );
    }
}

#[tokio::test]
async fn without_a_log_nothing_is_kept() {
    let emulator = emu::start().await;
    emu::ccg_auth(&emulator, AuthOptions::default())
        .retrieve_token()
        .await
        .unwrap();
    assert!(emulator.requests().is_empty());
}

#[tokio::test]
async fn each_grant_names_the_user_it_concerned() {
    use boxauth_emulator::generated_users;
    let config = EmulatorConfig {
        keep_requests: 100,
        ..EmulatorConfig::default()
    }
    .with_generated_users(5)
    .unwrap();
    let emulator = emu::start_with(config).await;
    let user = generated_users::id(3);
    let url = emu::manager(&emulator).authorize_url(&boxauth::AuthorizeUserArgs::new(ID));
    let callback = headless::answer(&url, &generated_users::login(3), Decision::Approve)
        .await
        .unwrap();
    let code = emu::query_value(&callback, "code").unwrap();
    let form = |grant: &'static str, name: &'static str, value: String| {
        vec![
            ("grant_type", grant.to_owned()),
            ("client_id", ID.to_owned()),
            ("client_secret", SECRET.to_owned()),
            (name, value),
        ]
    };
    let post = |form: Vec<(&'static str, String)>| {
        let emulator = &emulator;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(n, v)| (*n, v.as_str())).collect();
            emu::post_token(emulator, &form).await
        }
    };
    let (status, first) = post(form("authorization_code", "code", code.clone())).await;
    assert_eq!(status, 200);
    let first_refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let (status, second) = post(form(
        "refresh_token",
        "refresh_token",
        first_refresh.clone(),
    ))
    .await;
    assert_eq!(status, 200);
    // Refused: the spent token again (its family is revoked), the code again, a made-up token.
    assert_eq!(
        post(form("refresh_token", "refresh_token", first_refresh))
            .await
            .0,
        400
    );
    assert_eq!(post(form("authorization_code", "code", code)).await.0, 400);
    assert_eq!(
        post(form(
            "refresh_token",
            "refresh_token",
            "no-such-token".into()
        ))
        .await
        .0,
        400
    );
    let (status, _) = emu::revoke(&emulator, second["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    emu::ccg_auth(&emulator, AuthOptions::default())
        .retrieve_token()
        .await
        .unwrap();

    let log = emulator.requests();
    let users: Vec<(&str, Option<&str>, u16, Option<&str>)> = log
        .iter()
        .filter(|e| e.method == "POST")
        .map(|e| {
            (
                e.path.split('?').next().unwrap(),
                e.grant_type.as_deref(),
                e.status,
                e.user_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        users,
        [
            ("/api/oauth2/authorize", None, 302, Some(user.as_str())),
            (
                "/oauth2/token",
                Some("authorization_code"),
                200,
                Some(user.as_str())
            ),
            (
                "/oauth2/token",
                Some("refresh_token"),
                200,
                Some(user.as_str())
            ),
            (
                "/oauth2/token",
                Some("refresh_token"),
                400,
                Some(user.as_str())
            ),
            (
                "/oauth2/token",
                Some("authorization_code"),
                400,
                Some(user.as_str())
            ),
            ("/oauth2/token", Some("refresh_token"), 400, None),
            ("/oauth2/revoke", None, 200, Some(user.as_str())),
            (
                "/oauth2/token",
                Some("client_credentials"),
                200,
                Some(boxauth_emulator::DEFAULT_SERVICE_ACCOUNT_ID)
            ),
        ]
    );
    let (_, served) = boxauth_test_support::control::get(&emulator, "requests").await;
    assert!(
        served
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["user_id"] == user.as_str() && e["grant_type"] == "refresh_token"),
        "{served}"
    );
}
