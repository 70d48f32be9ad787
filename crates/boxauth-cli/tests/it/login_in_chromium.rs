//! `boxauth login --no-browser` driven by real headless Chromium against the emulator; and a
//! callback with a wrong `state` refused.

use std::os::unix::fs::PermissionsExt;

use boxauth_emulator::{DEFAULT_ADMIN_LOGIN, EmulatorHandle};
use boxauth_test_support::browser::Browser;
use boxauth_test_support::emulator as emu;
use tokio::process::{Child, Command};

use common::start_login;

use crate::common;

fn boxauth(config_dir: &std::path::Path) -> Command {
    common::boxauth(Some(config_dir))
}

/// Asserts that `boxauth token get` with the environment the login saved in `config_dir` prints
/// a token Box takes as the admin's.
async fn acts_as_the_admin(emulator: &EmulatorHandle, config_dir: &std::path::Path) {
    let got = common::run(boxauth(config_dir).args(["token", "get"]))
        .await
        .ok();
    let (status, _, me) = emu::users_me(emulator, got.token(), None).await;
    assert_eq!(
        (status, me["login"].as_str()),
        (200, Some(DEFAULT_ADMIN_LOGIN))
    );
}

/// The login's callback address (`redirect_uri` of its `url`) with a made-up code and `state`.
fn forged_callback(url: &str, state: &str) -> String {
    let redirect = emu::query_value(url, "redirect_uri").unwrap();
    format!("{redirect}?code=n22JPxrh18m4Y0wIZPIqYZK7VRrsMTWW&state={state}")
}

#[tokio::test]
async fn login_in_chromium_then_token_get_works_on_users_me() {
    let emulator = emu::start().await;
    let config_dir = tempfile::tempdir().unwrap();
    let login = start_login(&emulator, config_dir.path(), &[]).await;
    let url = login.url.clone();
    let state = emu::query_value(&url, "state").expect("the URL carries a state");
    assert!(state.len() >= 43, "at least 256 bits of state");

    let browser = Browser::start().await;
    browser.goto(&url).await;
    browser.fill("#login", DEFAULT_ADMIN_LOGIN).await;
    browser.click("#approve").await;
    browser.wait_for_url(|u| u.contains("/callback?")).await;
    let message = browser.text("#message").await;
    assert!(
        message.contains(&format!("Logged in as {DEFAULT_ADMIN_LOGIN}")),
        "{message}"
    );
    assert!(message.contains("You may close this window"));

    let out = login.finish().await.ok();
    assert!(
        out.stdout
            .contains(&format!("Logged in as {DEFAULT_ADMIN_LOGIN}")),
        "{}",
        out.stdout
    );

    // The environment and its token file are private to the user.
    for file in ["environments.json", "tokens/default.json"] {
        let mode = std::fs::metadata(config_dir.path().join(file))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
    acts_as_the_admin(&emulator, config_dir.path()).await;
}

#[tokio::test]
async fn a_callback_with_a_wrong_state_is_refused() {
    let emulator = emu::start().await;
    let config_dir = tempfile::tempdir().unwrap();
    let login = start_login(&emulator, config_dir.path(), &["--timeout", "3"]).await;
    let forged = forged_callback(&login.url, "forged-state");
    let answer = boxauth_test_support::http()
        .get(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("state does not match")
    );
    let out = login.finish().await;
    assert_eq!(out.code, 1, "the login does not succeed");
    let stderr = out.stderr;
    assert!(
        stderr.contains("refused a callback with a wrong state"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no callback from the browser within 3 s"),
        "{stderr}"
    );
    assert!(
        !config_dir.path().join("tokens/default.json").exists(),
        "no token was stored"
    );
    assert_eq!(
        emulator
            .stats()
            .requests(boxauth_emulator::Grant::AuthorizationCode),
        0,
        "the forged code was never sent to Box"
    );
}

/// Writes `line` to the login's standard input, as a person pasting it would.
async fn paste(child: &mut Child, line: &str) {
    use tokio::io::AsyncWriteExt;
    let stdin = child.stdin.as_mut().expect("the login's stdin is piped");
    stdin
        .write_all(format!("{line}\n").as_bytes())
        .await
        .unwrap();
    stdin.flush().await.unwrap();
}

#[tokio::test]
async fn a_login_over_ssh_takes_the_pasted_address_the_browser_ended_on() {
    let emulator = emu::start().await;
    let config_dir = tempfile::tempdir().unwrap();
    let mut login = start_login(&emulator, config_dir.path(), &[]).await;
    let url = login.url.clone();

    // The browser runs on another machine: its localhost is not this one, so Box's redirect
    // does not reach the login's listener, and the person copies the address instead.
    let browser = Browser::start_with(&["--host-resolver-rules=MAP localhost 127.0.0.2"]).await;
    browser.goto(&url).await;
    browser.fill("#login", DEFAULT_ADMIN_LOGIN).await;
    browser.click("#approve").await;
    let landed = browser.wait_for_url(|u| u.contains("/callback?")).await;
    assert!(
        landed.contains("code=") && landed.contains("state="),
        "{landed}"
    );

    // A forged address first (wrong state): refused, the login keeps waiting.
    paste(&mut login.child, &forged_callback(&url, "forged")).await;
    paste(&mut login.child, &landed).await;
    drop(login.child.stdin.take());
    let out = login.finish().await.ok();
    assert!(
        out.stderr
            .contains("refused a pasted address with a wrong state"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout
            .contains(&format!("Logged in as {DEFAULT_ADMIN_LOGIN}")),
        "{}",
        out.stdout
    );
    assert_eq!(
        emulator
            .stats()
            .requests(boxauth_emulator::Grant::AuthorizationCode),
        1,
        "only the real code was sent to Box"
    );

    // The saved environment works.
    acts_as_the_admin(&emulator, config_dir.path()).await;
}

#[tokio::test]
async fn a_pasted_address_with_a_wrong_state_is_refused() {
    let emulator = emu::start().await;
    let config_dir = tempfile::tempdir().unwrap();
    let mut login = start_login(&emulator, config_dir.path(), &[]).await;
    let forged = forged_callback(&login.url, "forged");
    paste(&mut login.child, &forged).await;
    drop(login.child.stdin.take());
    let out = login.finish().await;
    assert_eq!(out.code, 1, "the login does not succeed");
    let stderr = out.stderr;
    assert!(
        stderr.contains("refused a pasted address with a wrong state"),
        "{stderr}"
    );
    assert!(stderr.contains("does not match the one sent"), "{stderr}");
    assert!(!config_dir.path().join("tokens/default.json").exists());
    assert_eq!(
        emulator
            .stats()
            .requests(boxauth_emulator::Grant::AuthorizationCode),
        0,
        "the forged code was never sent to Box"
    );
}
