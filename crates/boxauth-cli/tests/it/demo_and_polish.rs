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

#[tokio::test]
async fn global_options_have_a_heading_of_their_own_in_every_subcommands_help() {
    for command in [
        &["token", "get"][..],
        &["token", "refresh"],
        &["env", "add"],
        &["login"],
        &["api", "authorize-user"],
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let (code, out, _) = boxauth(&args).await;
        assert_eq!(code, 0, "{command:?}");
        let options = out
            .split("\nOptions:\n")
            .nth(1)
            .map(|rest| rest.split("\n\n").next().unwrap_or_default())
            .unwrap_or_default();
        assert!(
            !options.contains("--quiet") && !options.contains("--verbose"),
            "{command:?}: -q/-v among the command's own options:\n{out}"
        );
        let global = out
            .split("\nGlobal options:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{command:?}: no Global options heading:\n{out}"));
        assert!(global.contains("--quiet") && global.contains("--verbose"));
    }
}

#[tokio::test]
async fn env_list_lines_its_columns_up() {
    let world = common::World::start().await;
    world
        .add_ccg_user("short", boxauth_emulator::DEFAULT_ADMIN_ID)
        .await;
    world
        .run(
            &[
                "env",
                "add",
                "a-much-longer-name",
                "--developer-token",
                "t",
                "--base-url",
                "https://a-much-longer-host.example.com:8443",
            ],
            &[],
        )
        .await
        .ok();
    let listed = world.run(&["env", "list"], &[]).await.ok().stdout;
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    for column in ["tokens:", "http"] {
        let at: Vec<usize> = lines.iter().map(|l| l.find(column).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] == w[1]), "{column}:\n{listed}");
    }
}

#[tokio::test]
async fn authorize_user_send_reports_the_status() {
    let emulator = boxauth_test_support::emulator::start().await;
    let run = common::run(common::boxauth(None).args([
        "api",
        "authorize-user",
        "--client-id",
        boxauth_emulator::DEFAULT_CLIENT_ID,
        "--send",
        "--oauth2-url",
        &emulator.oauth2_url(),
    ]))
    .await
    .ok();
    assert!(run.stderr.contains("HTTP 200"), "{}", run.stderr);
}

#[tokio::test]
async fn the_readmes_command_table_has_every_subcommand() {
    let readme = include_str!("../../../../README.md");
    let table = readme
        .split("## The commands")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").nth(1))
        .expect("the README's command table");
    for group in ["token", "env", "api", "emulator"] {
        let (_, help, _) = boxauth(&[group, "--help"]).await;
        let commands = help
            .split("Commands:\n")
            .nth(1)
            .unwrap()
            .split("\n\n")
            .next()
            .unwrap();
        for line in commands.lines() {
            // A command's own line; a description wrapped onto the next one is indented more.
            let Some(name) = line
                .strip_prefix("  ")
                .filter(|l| !l.starts_with(' '))
                .and_then(|l| l.split_whitespace().next())
            else {
                continue;
            };
            if name == "help" {
                continue;
            }
            assert!(
                table.contains(&format!("{group} {name}"))
                    || table.contains(&format!("/{name}"))
                    || table.contains(&format!("`boxauth {group} {name}")),
                "the README's command table lacks `boxauth {group} {name}`:\n{table}"
            );
        }
    }
}

#[test]
fn the_redis_fleet_example_reads_where_a_login_keeps_the_tokens() {
    // `boxauth login --env fleet` keeps them under boxauth:env:fleet (tested with Redis in
    // token_store_redis); the example's default namespace is that one.
    let example = include_str!("../../../boxauth/examples/redis_fleet.rs");
    assert!(
        example.contains(r#"unwrap_or_else(|_| "boxauth:env:fleet".into())"#),
        "the example's default namespace is not boxauth:env:fleet"
    );
}
