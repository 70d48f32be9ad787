//! World edits while the emulator runs: users, apps and items added, and a user's tokens revoked,
//! through the Rust handle and over HTTP, each then used through Box's own paths.

use boxauth::AuthorizeUserArgs;
use boxauth_emulator::headless::{self, Decision};
use boxauth_emulator::{
    AccessLevel, App, DEFAULT_CLIENT_ID as ID, DEFAULT_ENTERPRISE_ID, DEFAULT_SERVICE_ACCOUNT_ID,
    EmulatorHandle, Grant, Item, ItemKind, Role, User,
};
use boxauth_test_support::{control, emulator as emu};
use serde_json::{Value, json};

/// Approves the default app's consent as `login` and exchanges the code: the access token.
async fn logged_in_as(emulator: &EmulatorHandle, login: &str) -> (u16, Value) {
    let url = emu::manager(emulator).authorize_url(&AuthorizeUserArgs::new(ID).state("s"));
    let location = headless::answer(&url, login, Decision::Approve).await;
    let Ok(location) = location else {
        return (0, json!(format!("{location:?}")));
    };
    let code = emu::query_value(&location, "code").expect("a code");
    emu::exchange_code(emulator, &code).await
}

/// App `id`'s Client Credentials for the default enterprise's service account.
async fn ccg(emulator: &EmulatorHandle, id: &str, secret: &str) -> (u16, Value) {
    let form = emu::ccg_form(id, secret, "enterprise", DEFAULT_ENTERPRISE_ID);
    emu::post_token(emulator, &form).await
}

#[tokio::test]
async fn an_added_user_signs_in_on_the_consent_page() {
    let emulator = emu::start().await;
    assert_eq!(logged_in_as(&emulator, "new@example.com").await.0, 0);
    emulator
        .add_user(User {
            id: "700000001".into(),
            login: "new@example.com".into(),
            name: "New".into(),
            role: Role::User,
            enterprise_id: DEFAULT_ENTERPRISE_ID.into(),
            app_client_id: None,
        })
        .unwrap();
    let (status, pair) = logged_in_as(&emulator, "new@example.com").await;
    assert_eq!(status, 200, "{pair}");
    let token = pair["access_token"].as_str().unwrap();
    let (_, _, me) = emu::users_me(&emulator, token, None).await;
    assert_eq!(me["id"], "700000001");

    let (status, user) = control::post(
        &emulator,
        "users",
        json!({"login": "over-http@example.com"}),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    assert_eq!(user["id"], "700000002", "the next free ID");
    assert_eq!(user["role"], "user");
    let (status, pair) = logged_in_as(&emulator, "over-http@example.com").await;
    assert_eq!(status, 200, "{pair}");
    let (_, _, me) = emu::users_me(&emulator, pair["access_token"].as_str().unwrap(), None).await;
    assert_eq!(me["login"], "over-http@example.com");
    assert_eq!(
        emulator.world().users.len(),
        emulator.config().world.users.len() + 2
    );
}

#[tokio::test]
async fn an_edit_that_breaks_the_worlds_rules_is_refused_and_changes_nothing() {
    let emulator = emu::start().await;
    let before = emulator.world().users.len();
    let (status, body) = control::post(
        &emulator,
        "users",
        json!({"login": boxauth_emulator::DEFAULT_ADMIN_LOGIN}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("login"),
        "{body}"
    );
    let (status, body) = control::post(
        &emulator,
        "users",
        json!({"login": "a@b.c", "enterprise": "9"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("not defined"),
        "{body}"
    );
    let (status, _) = control::post(
        &emulator,
        "items",
        json!({"type": "file", "id": "400000001", "name": "again"}),
    )
    .await;
    assert_eq!(status, 400, "item IDs are unique within their type");
    assert_eq!(emulator.world().users.len(), before);
}

#[tokio::test]
async fn an_added_app_gets_tokens_with_its_credentials() {
    let emulator = emu::start().await;
    emulator
        .add_user(User {
            id: "710000001".into(),
            login: "AutomationUser_710000001@boxdevedition.com".into(),
            name: "Second app".into(),
            role: Role::ServiceAccount,
            enterprise_id: DEFAULT_ENTERPRISE_ID.into(),
            app_client_id: Some("secondappclientid000000000000001".into()),
        })
        .expect_err("a service account of an app not yet registered is refused");
    let app = App {
        name: "Second app".into(),
        client_id: "secondappclientid000000000000001".into(),
        client_secret: "second-secret".into(),
        enterprise_id: DEFAULT_ENTERPRISE_ID.into(),
        grants: vec![Grant::ClientCredentials],
        redirect_uris: Vec::new(),
        scopes: vec!["root_readwrite".into()],
        keys: Vec::new(),
        access_level: AccessLevel::AppOnly,
        generate_user_tokens: false,
        as_user: false,
        authorized: true,
        service_account_id: DEFAULT_SERVICE_ACCOUNT_ID.into(),
        cors_origins: Vec::new(),
        app_tokens: Default::default(),
    };
    emulator.add_app(app).unwrap();
    let (status, body) = ccg(
        &emulator,
        "secondappclientid000000000000001",
        "second-secret",
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let (status, app) = control::post(
        &emulator,
        "apps",
        json!({"grants": ["client_credentials"], "keys": [{"id": "k2", "generate": true}]}),
    )
    .await;
    assert_eq!(status, 201, "{app}");
    assert_eq!(app["public_key_ids"], json!(["k2"]));
    let (id, secret) = (
        app["client_id"].as_str().unwrap(),
        app["client_secret"].as_str().unwrap(),
    );
    let (status, body) = ccg(&emulator, id, secret).await;
    assert_eq!(status, 200, "{body}");
    let (_, _, me) = emu::users_me(&emulator, body["access_token"].as_str().unwrap(), None).await;
    assert_eq!(
        me["id"], app["service_account_id"],
        "the new app's own service account"
    );
    assert_eq!(ccg(&emulator, id, "wrong").await.0, 400);
}

#[tokio::test]
async fn an_added_item_can_be_downscoped_to() {
    let emulator = emu::start().await;
    let subject = emu::service_token(&emulator).await;
    let downscope = |file: String| {
        let (subject, emulator) = (&subject, &emulator);
        async move {
            let resource = format!("https://api.box.com/2.0/files/{file}");
            let extra = [("scope", "item_preview"), ("resource", resource.as_str())];
            emu::exchange_token(emulator, subject, &extra).await
        }
    };
    assert_eq!(downscope("400000009".into()).await.0, 400);
    emulator
        .add_item(Item {
            kind: ItemKind::File,
            id: "400000009".into(),
            name: "Added.txt".into(),
            owner_id: DEFAULT_SERVICE_ACCOUNT_ID.into(),
            collaborators: Vec::new(),
            shared_link: None,
            sha1: None,
        })
        .unwrap();
    let (status, body) = downscope("400000009".into()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["restricted_to"][0]["object"]["id"], "400000009");

    let (status, item) = control::post(
        &emulator,
        "items",
        json!({"type": "file", "name": "Over HTTP.txt", "owner": DEFAULT_SERVICE_ACCOUNT_ID}),
    )
    .await;
    assert_eq!(status, 201, "{item}");
    let (status, body) = downscope(item["id"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn revoking_a_users_tokens_ends_their_sessions_and_no_one_elses() {
    for over_http in [false, true] {
        let emulator = emu::start().await;
        let service = emu::service_token(&emulator).await;
        let (_, admin) = logged_in_as(&emulator, boxauth_emulator::DEFAULT_ADMIN_LOGIN).await;
        let admin_access = admin["access_token"].as_str().unwrap();
        let revoked = if over_http {
            let path = format!("users/{DEFAULT_SERVICE_ACCOUNT_ID}/revoke-tokens");
            let (status, body) = control::post(&emulator, &path, json!({})).await;
            assert_eq!(status, 200, "{body}");
            body["revoked"].as_u64().unwrap() as usize
        } else {
            emulator
                .revoke_user_tokens(DEFAULT_SERVICE_ACCOUNT_ID)
                .unwrap()
        };
        assert_eq!(revoked, 1);
        assert_eq!(emu::users_me(&emulator, &service, None).await.0, 401);
        assert_eq!(
            emu::users_me(&emulator, admin_access, None).await.0,
            200,
            "the admin's session is untouched"
        );
    }
    let emulator = emu::start().await;
    assert_eq!(
        emulator.revoke_user_tokens("999").unwrap_err().kind(),
        boxauth_emulator::ConfigErrorKind::Invalid
    );
    let (status, body) = control::post(&emulator, "users/999/revoke-tokens", json!({})).await;
    assert_eq!(status, 404, "{body}");
}
