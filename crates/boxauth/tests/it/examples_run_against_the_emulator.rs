//! Each `examples/` program runs against the emulator, as its header says to run it.

use boxauth_emulator::{
    DEFAULT_ADMIN_LOGIN, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ENTERPRISE_ID,
};
use boxauth_test_support::emulator as emu;
use tokio::process::Command;

/// Example `name`, as its header says to run it.
fn example(name: &str) -> Command {
    let mut command = Command::new(crate::common::example_binary(name));
    command
        .kill_on_drop(true)
        .env("NO_PROXY", "*")
        .env_remove("BOX_USER_ID")
        .env_remove("BOX_FILE_URL");
    command
}

async fn run(command: &mut Command) -> String {
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), command.output())
        .await
        .expect("the example finished within 60 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test]
async fn ccg_example() {
    let emulator = emu::start().await;
    let out = run(example("ccg")
        .env("BOX_BASE_URL", emulator.base_url())
        .env("BOX_CLIENT_ID", DEFAULT_CLIENT_ID)
        .env("BOX_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
        .env("BOX_ENTERPRISE_ID", DEFAULT_ENTERPRISE_ID))
    .await;
    assert!(
        out.contains("the service account is AutomationUser_"),
        "{out}"
    );
}

#[tokio::test]
async fn jwt_example() {
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let exported = emulator.export_config(dir.path()).unwrap();
    let out = run(example("jwt")
        .env("BOX_BASE_URL", emulator.base_url())
        .env("BOX_CONFIG", &exported.box_config)
        .env("BOX_USER_ID", boxauth_emulator::DEFAULT_ADMIN_ID)
        .env("BOX_FILE_URL", "https://api.box.com/2.0/files/400000001"))
    .await;
    assert!(out.contains("service account: AutomationUser_"), "{out}");
    assert!(
        out.contains(&format!("as a user: {DEFAULT_ADMIN_LOGIN}")),
        "{out}"
    );
    assert!(out.contains("restricted to 1 item(s)"), "{out}");
}

#[tokio::test]
async fn oauth_example() {
    let emulator = emu::start().await;
    let out = run(example("oauth")
        .env("BOX_BASE_URL", emulator.base_url())
        .env("BOX_OAUTH2_URL", emulator.oauth2_url())
        .env("BOX_CLIENT_ID", DEFAULT_CLIENT_ID)
        .env("BOX_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
        .env("BOX_LOGIN", DEFAULT_ADMIN_LOGIN))
    .await;
    assert!(
        out.contains(&format!("logged in as {DEFAULT_ADMIN_LOGIN}")),
        "{out}"
    );
    assert!(out.contains("refreshed"), "{out}");
}

#[tokio::test]
async fn developer_token_example() {
    let emulator = emu::start().await;
    let (_, body) = emu::post_token(
        &emulator,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("box_subject_type", "user"),
            ("box_subject_id", boxauth_emulator::DEFAULT_ADMIN_ID),
        ],
    )
    .await;
    let out = run(example("developer_token")
        .env("BOX_BASE_URL", emulator.base_url())
        .env(
            "BOX_DEVELOPER_TOKEN",
            body["access_token"].as_str().unwrap(),
        ))
    .await;
    assert!(out.contains("hello, Ada Admin"), "{out}");
}

#[tokio::test]
async fn custom_scheme_example() {
    let emulator = emu::start().await;
    let out = run(example("custom_scheme")
        .env("BOX_BASE_URL", emulator.base_url())
        .env("BOX_CLIENT_ID", DEFAULT_CLIENT_ID)
        .env("BOX_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
        .env("BOX_ENTERPRISE_ID", DEFAULT_ENTERPRISE_ID)
        .env("BOX_FILE_URL", "https://api.box.com/2.0/files/400000001"))
    .await;
    assert!(out.contains("restricted to [\"item_preview\"]"), "{out}");
    assert!(out.contains("100 tasks shared the cached token"), "{out}");
    assert_eq!(
        emulator
            .stats()
            .requests(boxauth_emulator::Grant::TokenExchange),
        1,
        "one exchange for 101 calls"
    );
}

#[tokio::test]
async fn middleware_examples() {
    let emulator = emu::start().await;
    for name in ["reqwest_middleware", "tower_layer"] {
        let out = run(example(name)
            .env("BOX_BASE_URL", emulator.base_url())
            .env("BOX_CLIENT_ID", DEFAULT_CLIENT_ID)
            .env("BOX_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
            .env("BOX_ENTERPRISE_ID", DEFAULT_ENTERPRISE_ID)
            .env_remove("BOX_DEVELOPER_TOKEN")
            .env_remove("BOX_JWT_CONFIG")
            .env_remove("BOX_JWT_CONFIG_JSON"))
        .await;
        assert!(
            out.contains("the token acts as \"AutomationUser_"),
            "{name}: {out}"
        );
    }
}
