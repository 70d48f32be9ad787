//! The consent page: real HTML that works without JavaScript; approve redirects with `code` and
//! `state`, deny with `error=access_denied` and `state`; bad clients and redirect URIs get an error
//! page, never a redirect; the POST needs the CSRF token; framing is forbidden.

use std::sync::Arc;

use boxauth::AuthorizeUserArgs;
use boxauth_emulator::headless::{self, ConsentError, Decision};
use boxauth_emulator::{
    DEFAULT_ADMIN_LOGIN, DEFAULT_CLIENT_ID as ID, EmulatorConfig, EmulatorHandle,
};
use boxauth_test_support::emulator as emu;

fn url(emulator: &EmulatorHandle, args: AuthorizeUserArgs) -> String {
    emu::manager(emulator).authorize_url(&args)
}

#[tokio::test]
async fn the_page_shows_the_app_the_scopes_and_the_admin_login_and_forbids_framing() {
    let emulator = emu::start().await;
    let response = boxauth_test_support::http_no_redirects()
        .get(url(
            &emulator,
            AuthorizeUserArgs::new(ID).scope("root_readwrite manage_webhook"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("box_csrf=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("boxauth emulator app"));
    assert!(
        html.contains(r#"data-scope="root_readwrite""#)
            && html.contains(r#"data-scope="manage_webhook""#)
    );
    assert!(
        !html.contains(r#"data-scope="manage_users""#),
        "only the scopes asked for"
    );
    assert!(html.contains(&format!(r#"name="login" value="{DEFAULT_ADMIN_LOGIN}""#)));
    assert!(
        html.contains(r#"name="decision" value="approve""#)
            && html.contains(r#"name="decision" value="deny""#)
    );
    assert!(html.contains(r#"name="csrf_token""#));
    assert!(!html.contains("<script"), "works without JavaScript");
}

#[tokio::test]
async fn approve_redirects_with_code_and_state_echoed() {
    let emulator = emu::start().await;
    let state = "st@te with spaces & symbols/~*";
    let location = emu::consent(
        &emulator,
        AuthorizeUserArgs::new(ID).state(state),
        Decision::Approve,
    )
    .await;
    assert!(
        location.starts_with("http://localhost:3000/callback?code="),
        "{location}"
    );
    assert_eq!(emu::query_value(&location, "state").as_deref(), Some(state));
    assert!(emu::query_value(&location, "code").is_some());
}

#[tokio::test]
async fn deny_redirects_with_access_denied_and_state() {
    let emulator = emu::start().await;
    let location = emu::consent(
        &emulator,
        AuthorizeUserArgs::new(ID).state("s1"),
        Decision::Deny,
    )
    .await;
    assert_eq!(
        emu::query_value(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(emu::query_value(&location, "state").as_deref(), Some("s1"));
    assert_eq!(emu::query_value(&location, "code"), None);
}

#[tokio::test]
async fn a_loopback_redirect_uri_matches_on_any_port() {
    let emulator = emu::start().await;
    let args = AuthorizeUserArgs::new(ID)
        .redirect_uri("http://localhost:49217/callback")
        .state("p");
    let location = emu::consent(&emulator, args, Decision::Approve).await;
    assert!(
        location.starts_with("http://localhost:49217/callback?code="),
        "{location}"
    );
}

#[tokio::test]
async fn an_unregistered_redirect_uri_gets_an_error_page_not_a_redirect() {
    let emulator = emu::start().await;
    for redirect in [
        "https://evil.example/callback",
        "http://localhost:3000/other",
        "http://localhost:3000/callback?extra=1",
    ] {
        let response = boxauth_test_support::http_no_redirects()
            .get(url(
                &emulator,
                AuthorizeUserArgs::new(ID).redirect_uri(redirect),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{redirect}");
        assert!(response.headers().get("location").is_none());
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("redirect_uri_mismatch")
        );
    }
}

#[tokio::test]
async fn an_unknown_client_gets_an_error_page() {
    let emulator = emu::start().await;
    let response = boxauth_test_support::http_no_redirects()
        .get(url(&emulator, AuthorizeUserArgs::new("nosuchclient")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    assert!(response.text().await.unwrap().contains("invalid_client"));
}

#[tokio::test]
async fn a_missing_redirect_uri_with_several_registered_fails_after_the_decision() {
    let mut config = EmulatorConfig::default();
    let mut world = (*config.world).clone();
    world.apps[0]
        .redirect_uris
        .push("https://app.example/callback".into());
    config.world = Arc::new(world);
    let emulator = emu::start_with(config).await;
    let error = headless::answer(
        &url(&emulator, AuthorizeUserArgs::new(ID)),
        DEFAULT_ADMIN_LOGIN,
        Decision::Approve,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, ConsentError::Refused { status: 400, message } if message.contains("redirect_uri")),
        "{error}"
    );
}

#[tokio::test]
async fn a_post_without_the_csrf_cookie_and_token_is_refused() {
    let emulator = emu::start().await;
    let target = url(&emulator, AuthorizeUserArgs::new(ID).state("x"));
    let forged = boxauth_test_support::http_no_redirects()
        .post(&target)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "login={DEFAULT_ADMIN_LOGIN}&decision=approve&csrf_token=guess"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.headers().get("location").is_none());
    let with_wrong_cookie = boxauth_test_support::http_no_redirects()
        .post(&target)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", "box_csrf=abc")
        .body(format!(
            "login={DEFAULT_ADMIN_LOGIN}&decision=approve&csrf_token=abd"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(with_wrong_cookie.status(), 403);
}

#[tokio::test]
async fn an_unknown_login_is_shown_on_the_page_again() {
    let emulator = emu::start().await;
    let error = headless::answer(
        &url(&emulator, AuthorizeUserArgs::new(ID)),
        "nobody@example.com",
        Decision::Approve,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, ConsentError::Refused { status: 200, message } if message.contains("No Box account")),
        "{error}"
    );
}

#[tokio::test]
async fn a_scope_the_app_does_not_have_gets_an_error_page() {
    let emulator = emu::start().await;
    let response = boxauth_test_support::http_no_redirects()
        .get(url(
            &emulator,
            AuthorizeUserArgs::new(ID).scope("manage_legal_holds"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("manage_legal_holds")
    );
}
