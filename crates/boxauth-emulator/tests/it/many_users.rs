//! Worlds with many users: generated users (`EmulatorConfig::with_generated_users`,
//! `[settings] generated_users`, `boxauth emulator --users`), each a person who can approve an
//! app on the consent page and gets tokens of its own.

use boxauth::AuthorizeUserArgs;
use boxauth_emulator::headless::Decision;
use boxauth_emulator::{
    ConfigErrorKind, DEFAULT_CLIENT_ID, DEFAULT_ENTERPRISE_ID, EmulatorConfig, Role, User,
    generated_users,
};
use boxauth_test_support::emulator as emu;

#[tokio::test]
async fn a_generated_user_approves_the_app_and_its_tokens_act_as_that_user() {
    let config = EmulatorConfig::default()
        .with_generated_users(1000)
        .unwrap();
    let emulator = emu::start_with(config).await;
    let url = emu::manager(&emulator)
        .authorize_url(&AuthorizeUserArgs::new(DEFAULT_CLIENT_ID).state("s"));
    let location =
        boxauth_emulator::headless::answer(&url, &generated_users::login(999), Decision::Approve)
            .await
            .unwrap();
    let code = emu::query_value(&location, "code").unwrap();
    let (status, pair) = emu::post_token(
        &emulator,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", boxauth_emulator::DEFAULT_CLIENT_SECRET),
        ],
    )
    .await;
    assert_eq!(status, 200, "{pair}");
    let (status, _, me) =
        emu::users_me(&emulator, pair["access_token"].as_str().unwrap(), None).await;
    assert_eq!(status, 200);
    assert_eq!(me["id"], generated_users::id(999));
    assert_eq!(me["login"], generated_users::login(999));
    let user = emulator
        .world()
        .users
        .iter()
        .find(|u| u.id == generated_users::id(999))
        .cloned()
        .unwrap();
    assert_eq!(
        (
            user.role,
            user.enterprise_id.as_str(),
            generated_users::index(&user)
        ),
        (Role::User, DEFAULT_ENTERPRISE_ID, Some(999))
    );
    // One past the last is no one.
    let refused =
        boxauth_emulator::headless::answer(&url, &generated_users::login(1000), Decision::Approve)
            .await;
    assert!(refused.is_err(), "{refused:?}");
}

const SMALL_WORLD: &str = r#"
[[enterprises]]
id = "500000001"
name = "Acme"

[[apps]]
name = "Acme Web"
client_id = "acmewebclientid00000000000000001"
client_secret = "AcmeWebClientSecret0000000000001"
enterprise = "500000001"
redirect_uris = ["http://localhost:3000/callback"]
"#;

#[test]
fn a_config_file_generates_users_and_refuses_too_many() {
    let config = EmulatorConfig::from_toml_str(&format!(
        "[settings]\ngenerated_users = 2500\n{SMALL_WORLD}"
    ))
    .unwrap();
    let generated: Vec<&User> = config
        .world
        .users
        .iter()
        .filter(|u| generated_users::index(u).is_some())
        .collect();
    assert_eq!(generated.len(), 2500);
    assert!(generated.iter().all(|u| u.enterprise_id == "500000001"));
    let too_many = EmulatorConfig::from_toml_str(&format!(
        "[settings]\ngenerated_users = {}\n{SMALL_WORLD}",
        generated_users::MAX + 1
    ))
    .unwrap_err();
    assert_eq!(too_many.kind(), ConfigErrorKind::Invalid);
    assert!(
        too_many
            .message()
            .contains(&generated_users::MAX.to_string()),
        "the error says the cap: {too_many}"
    );
    let example =
        EmulatorConfig::from_toml_str(include_str!("../../examples/emulator.toml")).unwrap();
    assert_eq!(
        example
            .world
            .users
            .iter()
            .filter_map(generated_users::index)
            .collect::<Vec<_>>(),
        [0, 1, 2],
        "the example file generates three"
    );
}

#[tokio::test]
async fn a_world_of_many_users_still_takes_edits() {
    // Edits may add up to MAX_WORLD_ENTRIES beyond the world the emulator started with, however
    // large that is.
    let config = EmulatorConfig::default()
        .with_generated_users(20_000)
        .unwrap();
    let emulator = emu::start_with(config).await;
    emulator
        .add_user(User {
            id: "720000001".into(),
            login: "late@emulated.example".into(),
            name: "Late".into(),
            role: Role::User,
            enterprise_id: DEFAULT_ENTERPRISE_ID.into(),
            app_client_id: None,
        })
        .unwrap();
    assert!(
        emulator
            .world()
            .users
            .iter()
            .any(|u| u.login == "late@emulated.example")
    );
}
