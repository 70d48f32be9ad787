//! Developer tokens, told honestly: their expiry is Box's secret (no figures made up), Box is
//! asked whether one still works before it is printed, a refresh is refused without a request,
//! and a downscope with an expired one says it expired.

use std::time::Duration;

use boxauth_emulator::{DEFAULT_APP_USER_ID, Grant};

use crate::common::World;

#[tokio::test]
async fn a_token_box_does_not_take_is_not_printed() {
    let world = World::start().await;
    let run = world
        .run(&["token", "get", "--developer-token", "garbage"], &[])
        .await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.stdout, "", "nothing is printed as if it were a token");
    assert!(
        run.stderr.contains("Box refused the developer token"),
        "{}",
        run.stderr
    );
    // The same from BOX_DEVELOPER_TOKEN.
    let run = world
        .run(&["token", "get"], &[("BOX_DEVELOPER_TOKEN", "garbage")])
        .await;
    assert_eq!((run.code, run.stdout.as_str()), (1, ""));
}

#[tokio::test]
async fn a_working_token_is_checked_and_its_expiry_is_not_made_up() {
    let world = World::start().await;
    let token = world.token_for(DEFAULT_APP_USER_ID).await;
    let run = world
        .run(
            &["token", "get", "--developer-token", &token, "--json"],
            &[],
        )
        .await
        .ok();
    let json = run.json();
    assert_eq!(json["access_token"], token.as_str());
    assert!(json["expires_in"].is_null(), "{json}");
    assert!(json["expires_at"].is_null(), "{json}");
    assert!(
        json["expiry"].as_str().unwrap().starts_with("unknown"),
        "{json}"
    );
    assert_eq!(json["identity"]["method"], "developer-token");
    assert_eq!(
        json["identity"]["user"]["id"], DEFAULT_APP_USER_ID,
        "checked with Box"
    );
    let plain = world
        .run(&["token", "get", "--developer-token", &token], &[])
        .await
        .ok();
    assert_eq!(plain.token(), token);
}

#[tokio::test]
async fn an_expired_token_is_refused_and_no_check_invents_nothing() {
    let world = World::start().await;
    let token = world.token_for(DEFAULT_APP_USER_ID).await;
    world.emulator.clock().advance(Duration::from_secs(3601));
    let run = world
        .run(
            &["token", "get", "--developer-token", &token, "--json"],
            &[],
        )
        .await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("Box refused the developer token") && run.stderr.contains("expired"),
        "{}",
        run.stderr
    );
    // Printed unchecked when asked, still without an expiry of its own making.
    let run = world
        .run(
            &[
                "token",
                "get",
                "--developer-token",
                &token,
                "--json",
                "--no-check",
            ],
            &[],
        )
        .await
        .ok();
    let json = run.json();
    assert!(
        json["expires_in"].is_null() && json["expires_at"].is_null(),
        "{json}"
    );
}

#[tokio::test]
async fn a_refresh_is_refused_without_a_request_and_without_pretending_box_refused() {
    let world = World::start().await;
    let token = world.token_for(DEFAULT_APP_USER_ID).await;
    let before = world.emulator.stats();
    let run = world
        .run(&["token", "refresh", "--developer-token", &token], &[])
        .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("a developer token cannot be refreshed"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("refused"), "{}", run.stderr);
    let after = world.emulator.stats();
    assert_eq!(
        (after.requests(Grant::ClientCredentials), after.revocations),
        (
            before.requests(Grant::ClientCredentials),
            before.revocations
        ),
        "nothing was sent"
    );
    assert_eq!(
        world.whose(&token).await,
        DEFAULT_APP_USER_ID,
        "still works"
    );
}

#[tokio::test]
async fn a_downscope_with_an_expired_token_says_it_expired() {
    let world = World::start().await;
    let token = world.token_for(DEFAULT_APP_USER_ID).await;
    let downscope = [
        "token",
        "downscope",
        "--developer-token",
        &token,
        "--scope",
        "item_preview",
        "--resource",
        "https://api.box.com/2.0/files/400000001",
    ];
    let run = world.run(&downscope, &[]).await.ok();
    assert!(run.token().starts_with("1!"), "{}", run.stdout);
    world.emulator.clock().advance(Duration::from_secs(3601));
    let run = world.run(&downscope, &[]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("the developer token has expired (or was revoked)"),
        "{}",
        run.stderr
    );
}
