//! App Tokens in the CLI: `--app-token` (and `BOX_APP_TOKEN`), checked with Box before printing,
//! the secondary taking over from a revoked primary, one more method at each level of the
//! identity rule, and a saved environment.

use boxauth_emulator::AppTokenSlot::Primary;
use boxauth_test_support::control;

use crate::common::World;

fn text(value: &serde_json::Value, name: &str) -> String {
    value[name].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_revoked_primary_prints_the_secondary_checked_with_box() {
    let world = World::start().await;
    let app = control::app_token_app(&world.emulator).await;
    let (primary, secondary) = (
        text(&app, "primary_app_token"),
        text(&app, "secondary_app_token"),
    );
    let args = [
        "token",
        "get",
        "--app-token",
        &primary,
        "--app-token-secondary",
        &secondary,
        "--json",
    ];
    let json = world.run(&args, &[]).await.ok().json();
    assert_eq!(json["access_token"], primary.as_str());
    assert_eq!(json["app_token"], "primary");
    assert_eq!(json["identity"]["method"], "app-token");
    assert_eq!(json["identity"]["user"]["id"], app["service_account_id"]);
    assert!(json["expires_at"].is_null(), "{json}");

    world
        .emulator
        .revoke_app_token(&text(&app, "client_id"), Primary)
        .unwrap();
    let json = world.run(&args, &[]).await.ok().json();
    assert_eq!(json["access_token"], secondary.as_str());
    assert_eq!(json["app_token"], "secondary");

    // The same from the variables; a revoked primary alone is refused, with what to do.
    let run = world
        .run(&["token", "get"], &[("BOX_APP_TOKEN", &primary)])
        .await;
    assert_eq!((run.code, run.stdout.as_str()), (1, ""));
    assert!(run.stderr.contains("App Token"), "{}", run.stderr);
    let run = world
        .run(
            &["token", "get"],
            &[
                ("BOX_APP_TOKEN", &primary),
                ("BOX_APP_TOKEN_SECONDARY", &secondary),
            ],
        )
        .await
        .ok();
    assert_eq!(run.token(), secondary);
}

#[tokio::test]
async fn app_tokens_follow_the_identity_rule_and_save_as_an_environment() {
    let world = World::start().await;
    let app = control::app_token_app(&world.emulator).await;
    let primary = text(&app, "primary_app_token");
    // Flags win over the variables, with a note naming what was shadowed.
    let run = world
        .run(
            &["token", "get", "--app-token", &primary, "--no-check"],
            &[("BOX_DEVELOPER_TOKEN", "another")],
        )
        .await
        .ok();
    assert_eq!(run.token(), primary);
    assert!(run.stderr.contains("BOX_DEVELOPER_TOKEN"), "{}", run.stderr);
    // Two methods in the variables: refused, naming both, showing neither secret.
    let run = world
        .run(
            &["token", "get"],
            &[
                ("BOX_APP_TOKEN", &primary),
                ("BOX_DEVELOPER_TOKEN", "another"),
            ],
        )
        .await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("BOX_APP_TOKEN"), "{}", run.stderr);
    assert!(!run.stderr.contains(&primary));

    world
        .run(&["env", "add", "view", "--app-token", &primary], &[])
        .await
        .ok();
    let saved = std::fs::read_to_string(world.config_dir().join("environments.json")).unwrap();
    assert!(saved.contains("\"app_token\""), "{saved}");
    let run = world
        .run(&["token", "get", "--env", "view"], &[])
        .await
        .ok();
    assert_eq!(run.token(), primary);
}
