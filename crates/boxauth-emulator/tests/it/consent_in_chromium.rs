//! The consent page in real headless Chromium: open the authorize URL, fill the login, approve,
//! land on the redirect with `code` and `state`; and the same for deny.

use boxauth::AuthorizeUserArgs;
use boxauth_emulator::{
    DEFAULT_ADMIN_LOGIN, DEFAULT_CLIENT_ID as ID, DEFAULT_MANAGED_USER_ID, EmulatorHandle,
};
use boxauth_test_support::browser::Browser;
use boxauth_test_support::emulator as emu;
use boxauth_test_support::{RecordingServer, Reply};

/// The consent page's URL for the default app with `state`, redirecting to a server of the
/// test's own that answers `page`: the server, its callback address, and the URL. (The app's
/// redirect URI is http://localhost:3000/callback; any port on localhost matches, so the browser
/// lands on the test's server.)
async fn consent_with_own_callback(
    emulator: &EmulatorHandle,
    page: &'static str,
    state: &str,
) -> (RecordingServer, String, String) {
    let callback = RecordingServer::start().await;
    callback.set_fallback(Reply::body(200, "text/html", page));
    let port = callback.url().rsplit(':').next().unwrap().to_owned();
    let redirect = format!("http://localhost:{port}/callback");
    let url = emu::manager(emulator).authorize_url(
        &AuthorizeUserArgs::new(ID)
            .redirect_uri(&redirect)
            .state(state),
    );
    (callback, redirect, url)
}

#[tokio::test]
async fn approve_in_chromium_lands_on_the_redirect_with_code_and_state() {
    let emulator = emu::start().await;
    let (callback, redirect, url) = consent_with_own_callback(
        &emulator,
        "<p>You may close this window.</p>",
        "chromium-state-42",
    )
    .await;

    let browser = Browser::start().await;
    browser.goto(&url).await;
    assert_eq!(browser.text("#app-name").await, "boxauth emulator app");
    assert_eq!(
        browser.property("#login", "value").await,
        DEFAULT_ADMIN_LOGIN,
        "the admin's login is prefilled"
    );
    browser.fill("#login", "managed@emulated.example").await;
    browser.click("#approve").await;
    let landed = browser.wait_for_url(|u| u.contains("/callback?")).await;

    assert!(landed.starts_with(&redirect), "{landed}");
    let code = emu::query_value(&landed, "code").expect("a code");
    assert_eq!(
        emu::query_value(&landed, "state").as_deref(),
        Some("chromium-state-42")
    );
    let arrived = callback.requests();
    assert!(
        arrived
            .iter()
            .any(|r| r.path == "/callback" && r.query.contains(&format!("code={code}"))),
        "the browser followed the redirect to the callback: {arrived:?}"
    );

    // The code is real: it belongs to the user who signed in.
    let (status, tokens) = emu::exchange_code(&emulator, &code).await;
    assert_eq!(status, 200, "{tokens}");
    let (_, _, me) = emu::users_me(&emulator, tokens["access_token"].as_str().unwrap(), None).await;
    assert_eq!(me["id"], DEFAULT_MANAGED_USER_ID);
}

#[tokio::test]
async fn deny_in_chromium_lands_on_the_redirect_with_access_denied() {
    let emulator = emu::start().await;
    let (_callback, _, url) = consent_with_own_callback(&emulator, "<p>denied</p>", "s-deny").await;
    let browser = Browser::start().await;
    browser.goto(&url).await;
    browser.click("#deny").await;
    let landed = browser.wait_for_url(|u| u.contains("/callback?")).await;
    assert_eq!(
        emu::query_value(&landed, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        emu::query_value(&landed, "state").as_deref(),
        Some("s-deny")
    );
}
