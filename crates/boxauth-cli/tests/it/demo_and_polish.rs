//! `boxauth demo` (the README's main job), completions, and `--verbose` with secrets masked.

use crate::common;

async fn boxauth(args: &[&str]) -> (i32, String, String) {
    let run = common::run(common::boxauth(None).args(args)).await;
    (run.code, run.stdout, run.stderr)
}

#[tokio::test]
async fn the_demo_walks_through_every_capability_and_exits_0() {
    let (code, out, err) = boxauth(&["demo"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    for step in [
        "Start the emulator",
        "authorize_url",
        "Consent",
        "request_access_token",
        "GET /2.0/users/me",
        "refresh_access_token",
        "Downscope",
        "restricted_to: item_preview on file",
        "revoke_access_token",
        "revoked token is refused",
        "Export box_config.json",
        "JwtAuth",
        "CcgAuth",
        "Single flight",
        "Vault: three users connect",
        "one refresh each",
        "bob disconnects; Box refuses his token",
    ] {
        assert!(out.contains(step), "missing step {step:?} in:\n{out}");
    }
    assert!(out.contains("19 of 19 steps worked"), "{out}");
    assert!(!out.contains('\u{1b}'), "plain text when piped");
    assert!(!out.contains('✗'));
    let (code, json, _) = boxauth(&["demo", "--json"]).await;
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["ok"], true);
    assert!(
        json["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["ok"] == true && s["ms"].is_number())
    );
}

#[tokio::test]
async fn completions_are_generated_for_each_shell() {
    for (shell, marker) in [
        ("bash", "_boxauth()"),
        ("zsh", "#compdef boxauth"),
        ("fish", "complete -c boxauth"),
    ] {
        let (code, out, _) = boxauth(&["completions", shell]).await;
        assert_eq!(code, 0);
        assert!(out.contains(marker), "{shell}");
        assert!(out.contains("downscope"), "{shell} knows the subcommands");
    }
}

#[tokio::test]
async fn verbose_shows_the_http_exchange_with_secrets_masked() {
    let emulator = boxauth_test_support::emulator::start().await;
    let secret = boxauth_emulator::DEFAULT_CLIENT_SECRET;
    let out = common::boxauth(None)
        .args([
            "token",
            "get",
            "--verbose",
            "--ccg",
            "--client-id",
            boxauth_emulator::DEFAULT_CLIENT_ID,
            "--enterprise-id",
            boxauth_emulator::DEFAULT_ENTERPRISE_ID,
            "--base-url",
            emulator.base_url(),
        ])
        .env("BOX_CLIENT_SECRET", secret)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let token = stdout.trim();
    assert!(
        stderr.contains("→ POST") && stderr.contains("/oauth2/token"),
        "{stderr}"
    );
    assert!(
        stderr.contains("client_secret=***") && stderr.contains("grant_type=client_credentials"),
        "{stderr}"
    );
    assert!(
        stderr.contains("← 200 OK") && stderr.contains(r#""access_token":"***""#),
        "{stderr}"
    );
    assert!(
        !stderr.contains(secret) && !stderr.contains(token),
        "no secret in the verbose output"
    );
}

#[tokio::test]
async fn every_command_has_help_with_an_example() {
    for command in [
        &["demo"][..],
        &["login"],
        &["token"],
        &["token", "get"],
        &["env"],
        &["env", "add"],
        &["api"],
        &["api", "request-access-token"],
        &["emulator"],
        &["completions"],
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let (code, out, _) = boxauth(&args).await;
        assert_eq!(code, 0, "{command:?}");
        assert!(
            out.contains("Example"),
            "{command:?} --help has no example:\n{out}"
        );
    }
}
