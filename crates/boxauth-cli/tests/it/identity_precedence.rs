//! Which identity `boxauth token get` acts as, by one rule for every source: flags (a method, or
//! `--env NAME`), then credentials in the process environment (`BOX_*` variables, or
//! `BOXAUTH_ENV`), then the current saved environment. Each source here acts as a different
//! user of the emulator, so `/2.0/users/me` tells which one won; two at one level are refused
//! naming both; a shadowed lower level is named on stderr (`--quiet` silences it); `--json`
//! names the identity.

use boxauth_emulator::{DEFAULT_ADMIN_ID, DEFAULT_APP_USER_ID, DEFAULT_SERVICE_ACCOUNT_ID};

use crate::common::World;

/// The flag: JWT as the app user.
fn jwt_flag(world: &World) -> Vec<String> {
    [
        "--jwt-config",
        world.jwt_config(),
        "--user-id",
        DEFAULT_APP_USER_ID,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// A world whose current environment `saved` is Client Credentials as the admin.
async fn with_saved_environment() -> World {
    let world = World::start().await;
    world.add_ccg_user("saved", DEFAULT_ADMIN_ID).await;
    world
}

/// Runs `token get ARGS` with `vars`: the user its token acts as, and its stderr.
async fn token_get(world: &World, args: &[String], vars: &[(&str, &str)]) -> (String, String) {
    let mut all = vec!["token".to_owned(), "get".to_owned()];
    all.extend_from_slice(args);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let run = world.run(&all, vars).await.ok();
    (world.whose(run.token()).await, run.stderr)
}

#[tokio::test]
async fn flags_win_over_variables_and_the_saved_environment_with_a_note() {
    let world = with_saved_environment().await;
    let json = std::fs::read_to_string(&world.box_config).unwrap();
    let admin_token = world.token_for(DEFAULT_ADMIN_ID).await;

    // Flag over the saved environment.
    let (user, stderr) = token_get(&world, &jwt_flag(&world), &[]).await;
    assert_eq!(user, DEFAULT_APP_USER_ID);
    assert!(
        stderr.contains("using --jwt-config")
            && stderr.contains("the current environment \"saved\""),
        "{stderr}"
    );

    // Flag over a variable (and the saved environment).
    for (name, value) in [
        ("BOX_JWT_CONFIG_JSON", json.as_str()),
        ("BOX_JWT_CONFIG", world.jwt_config()),
        ("BOX_DEVELOPER_TOKEN", admin_token.as_str()),
    ] {
        let (user, stderr) = token_get(&world, &jwt_flag(&world), &[(name, value)]).await;
        assert_eq!(user, DEFAULT_APP_USER_ID, "{name}");
        assert!(stderr.contains(&format!("not {name}")), "{name}: {stderr}");
        assert!(!stderr.contains(&admin_token), "{stderr}");
    }

    // --env NAME is a flag too: it wins over the variables.
    let env_flag = ["--env".to_owned(), "saved".to_owned()];
    let (user, stderr) =
        token_get(&world, &env_flag, &[("BOX_JWT_CONFIG", world.jwt_config())]).await;
    assert_eq!(user, DEFAULT_ADMIN_ID);
    assert!(
        stderr.contains("using --env saved") && stderr.contains("not BOX_JWT_CONFIG"),
        "{stderr}"
    );
}

#[tokio::test]
async fn variables_win_over_the_saved_environment_with_a_note() {
    let world = with_saved_environment().await;
    let json = std::fs::read_to_string(&world.box_config).unwrap();
    let app_user_token = world.token_for(DEFAULT_APP_USER_ID).await;
    let user = DEFAULT_APP_USER_ID;
    // The variables set, how the note names them, and the user they act as.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case; 5] = [
        // The README's example after `boxauth login`.
        (
            &[("BOX_JWT_CONFIG_JSON", &json)],
            "BOX_JWT_CONFIG_JSON",
            DEFAULT_SERVICE_ACCOUNT_ID,
        ),
        (
            &[("BOX_JWT_CONFIG", world.jwt_config())],
            "BOX_JWT_CONFIG",
            DEFAULT_SERVICE_ACCOUNT_ID,
        ),
        (
            &[
                ("BOX_JWT_CONFIG", world.jwt_config()),
                ("BOX_USER_ID", user),
            ],
            "BOX_JWT_CONFIG",
            DEFAULT_APP_USER_ID,
        ),
        (
            &[("BOX_DEVELOPER_TOKEN", &app_user_token)],
            "BOX_DEVELOPER_TOKEN",
            DEFAULT_APP_USER_ID,
        ),
        (
            &[
                ("BOX_CLIENT_ID", boxauth_emulator::DEFAULT_CLIENT_ID),
                ("BOX_CLIENT_SECRET", boxauth_emulator::DEFAULT_CLIENT_SECRET),
                ("BOX_ENTERPRISE_ID", boxauth_emulator::DEFAULT_ENTERPRISE_ID),
            ],
            "BOX_CLIENT_ID, BOX_CLIENT_SECRET and BOX_ENTERPRISE_ID",
            DEFAULT_SERVICE_ACCOUNT_ID,
        ),
    ];
    for (vars, named, expected) in cases {
        let (user, stderr) = token_get(&world, &[], vars).await;
        assert_eq!(user, expected, "{named}");
        assert!(
            stderr.contains(&format!("using {named} (environment variables)"))
                && stderr.contains("not the current environment \"saved\""),
            "{named}: {stderr}"
        );
    }

    // BOXAUTH_ENV names a saved environment at the same level: it wins over the current one.
    world.add_ccg_user("other", DEFAULT_APP_USER_ID).await;
    let (user, stderr) = token_get(&world, &[], &[("BOXAUTH_ENV", "other")]).await;
    assert_eq!(user, DEFAULT_APP_USER_ID);
    assert!(
        stderr.contains("using BOXAUTH_ENV=other")
            && stderr.contains("not the current environment \"saved\""),
        "{stderr}"
    );

    // A client ID and secret alone are no identity (a developer token's revoke credentials): the
    // saved environment is used, and nothing is said.
    let (user, stderr) = token_get(
        &world,
        &[],
        &[
            ("BOX_CLIENT_ID", boxauth_emulator::DEFAULT_CLIENT_ID),
            ("BOX_CLIENT_SECRET", boxauth_emulator::DEFAULT_CLIENT_SECRET),
        ],
    )
    .await;
    assert_eq!(user, DEFAULT_ADMIN_ID);
    assert_eq!(stderr, "");
}

#[tokio::test]
async fn quiet_silences_the_note_and_nothing_shadowed_says_nothing() {
    let world = with_saved_environment().await;
    let (user, stderr) = token_get(
        &world,
        &["--quiet".to_owned()],
        &[("BOX_JWT_CONFIG", world.jwt_config())],
    )
    .await;
    assert_eq!(
        (user.as_str(), stderr.as_str()),
        (DEFAULT_SERVICE_ACCOUNT_ID, "")
    );
    let (user, stderr) = token_get(&world, &[], &[]).await;
    assert_eq!((user.as_str(), stderr.as_str()), (DEFAULT_ADMIN_ID, ""));
}

#[tokio::test]
async fn two_identities_at_one_level_are_refused_naming_both() {
    let world = with_saved_environment().await;
    let token = world.token_for(DEFAULT_ADMIN_ID).await;
    let refused = [
        // Two variables.
        world
            .run(
                &["token", "get"],
                &[
                    ("BOX_DEVELOPER_TOKEN", token.as_str()),
                    ("BOX_JWT_CONFIG", world.jwt_config()),
                ],
            )
            .await,
        // A variable and BOXAUTH_ENV.
        world
            .run(
                &["token", "get"],
                &[
                    ("BOXAUTH_ENV", "saved"),
                    ("BOX_JWT_CONFIG", world.jwt_config()),
                ],
            )
            .await,
        // Two flags.
        world
            .run(
                &[
                    "token",
                    "get",
                    "--jwt-config",
                    world.jwt_config(),
                    "--developer-token",
                    &token,
                ],
                &[],
            )
            .await,
        world
            .run(
                &[
                    "token",
                    "get",
                    "--jwt-config",
                    world.jwt_config(),
                    "--env",
                    "saved",
                ],
                &[],
            )
            .await,
    ];
    let names = [
        ("BOX_DEVELOPER_TOKEN", "BOX_JWT_CONFIG"),
        ("BOXAUTH_ENV", "BOX_JWT_CONFIG"),
        ("--jwt-config", "--developer-token"),
        ("--jwt-config", "--env"),
    ];
    for (run, (a, b)) in refused.iter().zip(names) {
        assert_ne!(run.code, 0, "{a} and {b}: {}", run.stdout);
        assert!(run.stdout.is_empty());
        assert!(
            run.stderr.contains(a) && run.stderr.contains(b),
            "{a} and {b}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains(&token), "{}", run.stderr);
    }
}

#[tokio::test]
async fn json_names_the_identity_and_where_it_came_from() {
    let world = with_saved_environment().await;
    let run = world.run(&["token", "get", "--json"], &[]).await.ok();
    let identity = &run.json()["identity"];
    assert_eq!(identity["method"], "ccg");
    assert_eq!(identity["level"], "saved environment");
    assert_eq!(identity["environment"], "saved");
    assert_eq!(identity["client_id"], boxauth_emulator::DEFAULT_CLIENT_ID);
    assert_eq!(identity["subject"]["type"], "user");
    assert_eq!(identity["subject"]["id"], DEFAULT_ADMIN_ID);

    let run = world
        .run(
            &["token", "get", "--json", "--check"],
            &[("BOX_JWT_CONFIG", world.jwt_config())],
        )
        .await
        .ok();
    let json = run.json();
    let identity = &json["identity"];
    assert_eq!(identity["method"], "jwt");
    assert_eq!(identity["source"], "BOX_JWT_CONFIG");
    assert_eq!(identity["level"], "variables");
    assert_eq!(identity["subject"]["type"], "enterprise");
    assert_eq!(
        identity["subject"]["id"],
        boxauth_emulator::DEFAULT_ENTERPRISE_ID
    );
    // --check asked Box whose token it is.
    assert_eq!(identity["user"]["id"], DEFAULT_SERVICE_ACCOUNT_ID);
    assert_eq!(
        world.whose(json["access_token"].as_str().unwrap()).await,
        DEFAULT_SERVICE_ACCOUNT_ID
    );
}

#[tokio::test]
async fn parts_of_a_method_without_one_and_store_flags_with_an_environment_are_refused() {
    let world = with_saved_environment().await;
    // Once silently dropped: the saved environment's identity came back instead.
    let run = world
        .run(&["token", "get", "--user-id", DEFAULT_APP_USER_ID], &[])
        .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("--user-id goes with an auth method flag"),
        "{}",
        run.stderr
    );
    let file = world.dir.path().join("elsewhere.json");
    let run = world
        .run(
            &["token", "get", "--token-file", file.to_str().unwrap()],
            &[],
        )
        .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("keeps its tokens in its own store"),
        "{}",
        run.stderr
    );
    // With BOX_* variables, --token-file says where their tokens live.
    let run = world
        .run(
            &["token", "get", "--token-file", file.to_str().unwrap()],
            &[("BOX_JWT_CONFIG", world.jwt_config())],
        )
        .await
        .ok();
    assert!(file.exists(), "{}", run.stderr);
}
