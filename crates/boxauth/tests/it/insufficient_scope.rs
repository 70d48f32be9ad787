//! `[insufficient-scope]`: a `403 insufficient_scope` on a JWT or CCG token drops that token once,
//! so scopes added in the Developer Console since it was issued are picked up; a token refused
//! again is kept (no new token per call), until 10 minutes have passed on the auth's clock.

use std::time::Duration;

use boxauth::{AuthOptions, BoxClient, Error};
use boxauth_emulator::{DEFAULT_CLIENT_ID, Grant};
use boxauth_test_support::emulator;

fn scopes(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn insufficient_scope(error: &Error) -> bool {
    matches!(error, Error::Api(api) if api.status == 403 && api.is("insufficient_scope"))
}

#[tokio::test]
async fn a_scope_added_in_the_console_is_picked_up_by_one_new_token() {
    let emu = emulator::start().await;
    emu.set_app_scopes(DEFAULT_CLIENT_ID, scopes(&["root_readwrite"]))
        .unwrap();
    let auth = emulator::ccg_auth(&emu, AuthOptions::default());
    let client = BoxClient::new(auth.clone());
    // The token is issued without manage_webhook.
    let me = client.users_me().await.unwrap();
    assert_eq!(emu.stats().issued(Grant::ClientCredentials), 1);

    // The admin adds the scope: the old token is refused once, a new one carries it.
    emu.set_app_scopes(
        DEFAULT_CLIENT_ID,
        scopes(&["root_readwrite", "manage_webhook"]),
    )
    .unwrap();
    let hooks = client.get_json("/webhooks").await.unwrap();
    assert_eq!(hooks["entries"], serde_json::json!([]));
    assert_eq!(emu.stats().issued(Grant::ClientCredentials), 2);
    assert_eq!(client.users_me().await.unwrap().id, me.id);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_scope_the_app_lacks_costs_one_new_token_not_one_per_call() {
    let emu = emulator::start().await;
    emu.set_app_scopes(DEFAULT_CLIENT_ID, scopes(&["root_readwrite"]))
        .unwrap();
    let auth = emulator::ccg_auth(&emu, AuthOptions::default());
    let client = BoxClient::new(auth);
    let first = client.get_json("/webhooks").await.unwrap_err();
    assert!(insufficient_scope(&first), "{first:?}");
    assert_eq!(
        emu.stats().issued(Grant::ClientCredentials),
        2,
        "one token dropped once"
    );
    for _ in 0..3 {
        let again = client.get_json("/webhooks").await.unwrap_err();
        assert!(insufficient_scope(&again), "{again:?}");
    }
    assert_eq!(
        emu.stats().issued(Grant::ClientCredentials),
        2,
        "no new token per call"
    );
    // Ten minutes later one more try is allowed (the token itself is still valid).
    emu.clock().advance(Duration::from_secs(601));
    client.get_json("/webhooks").await.unwrap_err();
    assert_eq!(emu.stats().issued(Grant::ClientCredentials), 3);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_fixed_token_is_not_dropped_for_a_scope() {
    let emu = emulator::start().await;
    emu.set_app_scopes(DEFAULT_CLIENT_ID, scopes(&["root_readwrite"]))
        .unwrap();
    let app = boxauth_test_support::control::app_token_app(&emu).await;
    let auth = boxauth::AppTokenAuth::with_options(
        boxauth::AppTokenConfig::new(app["primary_app_token"].as_str().unwrap()),
        emulator::options_for(&emu, AuthOptions::default()),
    )
    .unwrap();
    let client = BoxClient::new(auth.clone());
    let refused = client.get_json("/webhooks").await.unwrap_err();
    assert!(insufficient_scope(&refused), "{refused:?}");
    assert!(!auth.using_secondary() && boxauth::Authentication::cached_token(&auth).is_some());
    emu.shutdown().await;
}
