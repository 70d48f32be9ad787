//! `boxauth login --env NAME` saves the login in NAME and makes it current only when there is no
//! current environment (or with `--use`), saying so; a plain `token get` keeps its identity.

use boxauth_emulator::{DEFAULT_ADMIN_ID, DEFAULT_APP_USER_ID};

use crate::common::World;

async fn plain_token_get(world: &World) -> String {
    let run = world.run(&["token", "get"], &[]).await.ok();
    world.whose(run.token()).await
}

#[tokio::test]
async fn a_login_does_not_switch_the_current_environment() {
    let world = World::start().await;
    world.add_ccg_user("app-user", DEFAULT_APP_USER_ID).await;
    assert_eq!(plain_token_get(&world).await, DEFAULT_APP_USER_ID);

    let login = world.login(&["--env", "work"]).await.ok();
    assert!(
        login
            .stderr
            .contains("the current environment is still \"app-user\""),
        "{}",
        login.stderr
    );
    assert_eq!(
        plain_token_get(&world).await,
        DEFAULT_APP_USER_ID,
        "the same identity as before the login"
    );
    let run = world
        .run(&["token", "get", "--env", "work"], &[])
        .await
        .ok();
    assert_eq!(world.whose(run.token()).await, DEFAULT_ADMIN_ID);

    // --use makes it current, and says so.
    let login = world.login(&["--env", "work", "--use"]).await.ok();
    assert!(
        login
            .stderr
            .contains("\"work\" is now the current environment"),
        "{}",
        login.stderr
    );
    assert_eq!(plain_token_get(&world).await, DEFAULT_ADMIN_ID);
}

#[tokio::test]
async fn the_first_login_becomes_current_and_says_so() {
    let world = World::start().await;
    let login = world.login(&[]).await.ok();
    assert!(
        login
            .stderr
            .contains("\"default\" is now the current environment"),
        "{}",
        login.stderr
    );
    assert_eq!(plain_token_get(&world).await, DEFAULT_ADMIN_ID);
}
