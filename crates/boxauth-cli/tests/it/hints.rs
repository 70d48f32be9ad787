//! After an error, a hint that says what to do with this CLI: the flag that fixes it, the
//! environment to log in again, the URL that was asked.

use boxauth_emulator::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ENTERPRISE_ID};
use boxauth_test_support::redis::RedisServer;

use crate::common::{self, Run, World};

/// The line of `run`'s stderr that starts with `hint:`.
fn hint(run: &Run) -> &str {
    run.stderr
        .lines()
        .find(|line| line.starts_with("hint:"))
        .unwrap_or_else(|| panic!("no hint in:\n{}", run.stderr))
}

fn ccg(base_url: &str) -> Vec<String> {
    [
        "token",
        "get",
        "--ccg",
        "--client-id",
        DEFAULT_CLIENT_ID,
        "--client-secret",
        DEFAULT_CLIENT_SECRET,
        "--enterprise-id",
        DEFAULT_ENTERPRISE_ID,
        "--base-url",
        base_url,
    ]
    .map(str::to_owned)
    .to_vec()
}

#[tokio::test]
async fn an_unknown_issuer_names_ca_file() {
    let emulator = boxauth_test_support::emulator::start_tls().await;
    let run = common::run(common::boxauth(None).args(ccg(emulator.base_url()))).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("UnknownIssuer"), "{}", run.stderr);
    let hint = hint(&run);
    assert!(
        hint.contains("--ca-file") && hint.contains("BOX_CA_FILE"),
        "{hint}"
    );
    assert!(!hint.contains("NetworkSessionBuilder"), "{hint}");
}

#[tokio::test]
async fn a_wrong_redis_password_says_authentication_failed_once() {
    let world = World::start().await;
    let redis = RedisServer::start_in_memory();
    redis.require_password("right-password");
    let store = format!("redis://:wrong-password@127.0.0.1:{}/0", redis.port());
    let mut args = ccg(world.emulator.base_url());
    args.extend(["--token-store".to_owned(), store]);
    let run = world
        .run(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[])
        .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("refused the user or password"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("did not answer"), "{}", run.stderr);
    assert!(!run.stderr.contains("wrong-password"), "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    for pair in lines.windows(2) {
        assert_ne!(pair[0], pair[1], "a line repeated:\n{}", run.stderr);
    }
    assert!(hint(&run).contains("password"), "{}", run.stderr);

    // Nothing listening: "did not answer", its cause said once.
    let port = boxauth_test_support::free_port();
    let mut args = ccg(world.emulator.base_url());
    args.extend([
        "--token-store".to_owned(),
        format!("redis://127.0.0.1:{port}/0"),
    ]);
    let run = world
        .run(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[])
        .await;
    assert!(run.stderr.contains("did not answer"), "{}", run.stderr);
    let causes = run.stderr.matches("Connection refused").count();
    assert_eq!(causes, 1, "{}", run.stderr);
}

#[tokio::test]
async fn oauth_without_tokens_names_the_login_for_that_environment() {
    let world = World::start().await;
    world
        .run(
            &[
                "env",
                "add",
                "work",
                "--oauth",
                "--client-id",
                DEFAULT_CLIENT_ID,
                "--client-secret",
                DEFAULT_CLIENT_SECRET,
            ],
            &[],
        )
        .await
        .ok();
    let run = world.run(&["token", "get", "--env", "work"], &[]).await;
    assert_eq!(run.code, 1);
    let hint = hint(&run);
    assert!(hint.contains("boxauth login --env work"), "{hint}");
    assert!(
        !run.stderr.contains("authorize_url") && !run.stderr.contains("exchange_code"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_base_url_with_a_wrong_path_names_the_url_asked() {
    let world = World::start().await;
    let wrong = format!("{}/wrong-prefix", world.emulator.base_url());
    let run = common::run(common::boxauth(None).args(ccg(&wrong))).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("404"), "{}", run.stderr);
    let said = hint(&run);
    assert!(
        said.contains(&format!("POST {wrong}/oauth2/token"))
            && said.contains("the base URL may be wrong")
            && said.contains("--base-url"),
        "{said}"
    );
    // The same URL from BOX_BASE_URL is named as such.
    let mut args = ccg(&wrong);
    args.truncate(args.len() - 2);
    let run = common::run(common::boxauth(None).args(args).env("BOX_BASE_URL", &wrong)).await;
    assert!(hint(&run).contains("from BOX_BASE_URL"), "{}", run.stderr);
}

#[tokio::test]
async fn a_missing_config_file_says_what_to_do() {
    let world = World::start().await;
    let missing = world.dir.path().join("no-such-config.json");
    let missing = missing.to_str().unwrap();
    for run in [
        world
            .run(&["token", "get", "--jwt-config", missing], &[])
            .await,
        world
            .run(&["token", "get"], &[("BOX_JWT_CONFIG", missing)])
            .await,
    ] {
        assert_eq!(run.code, 1);
        let hint = hint(&run);
        assert!(
            hint.contains("Developer Console") && hint.contains("BOX_JWT_CONFIG_JSON"),
            "{hint}"
        );
    }
    let run = world
        .run(&["env", "import-box-cli", "--file", missing], &[])
        .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("box configure:environments:add") && run.stderr.contains("--file"),
        "{}",
        run.stderr
    );
}
