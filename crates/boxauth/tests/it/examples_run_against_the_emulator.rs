//! Each `examples/` program runs against the emulator, as its header says to run it.

use boxauth_emulator::{
    DEFAULT_ADMIN_LOGIN, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ENTERPRISE_ID,
    EmulatorHandle,
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

/// Example `name` run as the emulator's default app: `BOX_BASE_URL`, `BOX_OAUTH2_URL`,
/// `BOX_CLIENT_ID` and `BOX_CLIENT_SECRET` set.
fn example_as_the_app(name: &str, emulator: &EmulatorHandle) -> Command {
    let mut command = example(name);
    command
        .env("BOX_BASE_URL", emulator.base_url())
        .env("BOX_OAUTH2_URL", emulator.oauth2_url())
        .env("BOX_CLIENT_ID", DEFAULT_CLIENT_ID)
        .env("BOX_CLIENT_SECRET", DEFAULT_CLIENT_SECRET);
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
    let out =
        run(example_as_the_app("ccg", &emulator).env("BOX_ENTERPRISE_ID", DEFAULT_ENTERPRISE_ID))
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
    let out =
        run(example_as_the_app("oauth", &emulator).env("BOX_LOGIN", DEFAULT_ADMIN_LOGIN)).await;
    assert!(
        out.contains(&format!("logged in as {DEFAULT_ADMIN_LOGIN}")),
        "{out}"
    );
    assert!(out.contains("refreshed"), "{out}");
}

#[tokio::test]
async fn developer_token_example() {
    let emulator = emu::start().await;
    let token = emu::user_token(&emulator, boxauth_emulator::DEFAULT_ADMIN_ID).await;
    let out = run(example("developer_token")
        .env("BOX_BASE_URL", emulator.base_url())
        .env("BOX_DEVELOPER_TOKEN", &token))
    .await;
    assert!(out.contains("hello, Ada Admin"), "{out}");
}

#[tokio::test]
async fn custom_scheme_example() {
    let emulator = emu::start().await;
    let out = run(example_as_the_app("custom_scheme", &emulator)
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
        let out = run(example_as_the_app(name, &emulator)
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

/// `vault_web`, driven as a browser would: sign in, connect Box through the consent page, see the
/// Box account, and disconnect; a callback for another signed-in user is refused.
#[tokio::test]
async fn vault_web_example() {
    use tokio::io::AsyncBufReadExt;
    let emulator = emu::start().await;
    let mut child = example_as_the_app("vault_web", &emulator)
        .env("PORT", "0")
        .env_remove("BOXAUTH_VAULT_STORE")
        .env_remove("BOXAUTH_VAULT_KEY")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the app printed its URL");
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    let browser = boxauth_test_support::http_no_redirects();
    let get = |path: String, user: &str| {
        browser
            .get(if path.starts_with("http") {
                path
            } else {
                format!("{base}{path}")
            })
            .header("Cookie", format!("user={user}"))
            .send()
    };
    let location =
        |response: &reqwest::Response| response.headers()["location"].to_str().unwrap().to_owned();
    let signed_in = browser
        .get(format!("{base}/signin?user=alice"))
        .send()
        .await
        .unwrap();
    assert!(
        signed_in.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("user=alice")
    );
    let to_box = get("/connect".into(), "alice").await.unwrap();
    let consent = location(&to_box);
    assert!(consent.starts_with(&emulator.oauth2_url()), "{consent}");
    let callback = emu::approve(&consent).await;
    // Mallory's browser cannot complete Alice's connection.
    let forged = get(callback.clone(), "mallory").await.unwrap();
    assert_eq!(forged.status(), 502);
    assert!(
        forged
            .text()
            .await
            .unwrap()
            .contains("not issued by this vault")
    );
    let landed = get(callback, "alice").await.unwrap();
    assert_eq!(location(&landed), "/me");
    let me = get("/me".into(), "alice")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(me.contains(boxauth_emulator::DEFAULT_ADMIN_ID), "{me}");
    let home = get("/".into(), "alice")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Box is connected"), "{home}");
    let gone = browser
        .post(format!("{base}/disconnect"))
        .header("Cookie", "user=alice")
        .send()
        .await
        .unwrap();
    assert_eq!(location(&gone), "/");
    let home = get("/".into(), "alice")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Connect Box"), "{home}");
    child.kill().await.unwrap();
}
