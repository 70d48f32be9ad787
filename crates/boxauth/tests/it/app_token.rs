//! App Token auth against the emulator: the primary until Box refuses it, then the secondary;
//! tokens replaced at run time; downscoping; both refused.

use boxauth::{
    AppTokenAuth, AppTokenConfig, AuthConfig, AuthOptions, Authentication, BoxClient, Error,
};
use boxauth_emulator::AppTokenSlot::{Primary, Secondary};
use boxauth_test_support::{control, emulator};
use serde_json::{Value, json};

fn text(value: &Value, name: &str) -> String {
    value[name].as_str().unwrap().to_owned()
}

fn auth_for(emu: &boxauth_emulator::EmulatorHandle, app: &Value) -> AppTokenAuth {
    AppTokenAuth::with_options(
        AppTokenConfig::new(text(app, "primary_app_token"))
            .secondary(text(app, "secondary_app_token")),
        emulator::options_for(emu, AuthOptions::default()),
    )
    .unwrap()
}

#[tokio::test]
async fn a_revoked_primary_moves_to_the_secondary_and_a_rotated_one_is_taken_at_run_time() {
    let emu = emulator::start().await;
    let app = control::app_token_app(&emu).await;
    let client_id = text(&app, "client_id");
    let service_account = text(&app, "service_account_id");
    let auth = auth_for(&emu, &app);
    let client = BoxClient::new(auth.clone());

    // The primary acts as the app's service account.
    assert_eq!(client.users_me().await.unwrap().id, service_account);
    assert!(!auth.using_secondary());

    // Revoked in the console: the next call gets a 401, and is sent again with the secondary.
    emu.revoke_app_token(&client_id, Primary).unwrap();
    assert_eq!(client.users_me().await.unwrap().id, service_account);
    assert!(auth.using_secondary());
    assert_eq!(
        auth.retrieve_token().await.unwrap().access_token.secret(),
        text(&app, "secondary_app_token")
    );

    // The primary regenerated and given to the running program: used from the next call.
    let regenerated = emu.rotate_app_token(&client_id, Primary).unwrap();
    auth.set_primary(regenerated.as_str());
    assert!(!auth.using_secondary());
    assert_eq!(client.users_me().await.unwrap().id, service_account);
    assert_eq!(
        auth.cached_token().unwrap().access_token.secret(),
        regenerated
    );

    // Both refused: a typed error, and no request loops.
    emu.rotate_app_token(&client_id, Primary).unwrap();
    emu.revoke_app_token(&client_id, Secondary).unwrap();
    let refused = client.users_me().await.unwrap_err();
    assert!(
        matches!(refused, Error::Api(ref api) if api.status == 401),
        "{refused:?}"
    );
    let refused = client.users_me().await.unwrap_err();
    assert!(matches!(refused, Error::AppTokensRefused), "{refused:?}");
    assert!(refused.hint().is_some());

    // A new secondary, and the program is back.
    let secondary = emu.rotate_app_token(&client_id, Secondary).unwrap();
    auth.set_secondary(secondary.as_str());
    assert_eq!(client.users_me().await.unwrap().id, service_account);
    emu.shutdown().await;
}

#[tokio::test]
async fn an_app_token_downscopes_and_its_children_die_with_it() {
    let emu = emulator::start().await;
    let app = control::app_token_app(&emu).await;
    let (status, item) = control::post(
        &emu,
        "items",
        json!({"type": "file", "name": "view-me.pdf", "owner": app["service_account_id"]}),
    )
    .await;
    assert_eq!(status, 201, "{item}");
    let auth = auth_for(&emu, &app);
    let resource = format!("https://api.box.com/2.0/files/{}", text(&item, "id"));
    let preview = auth
        .downscope_token(&["item_preview"], Some(&resource), None)
        .await
        .unwrap();
    let restricted = preview.restricted_to.unwrap();
    assert_eq!(restricted.len(), 1);
    let preview = preview.access_token.unwrap();
    // A downscoped token cannot read the profile (403), but Box knows it.
    let (status, _, _) = emulator::users_me(&emu, preview.secret(), None).await;
    assert_eq!(status, 403);

    emu.rotate_app_token(&text(&app, "client_id"), Primary)
        .unwrap();
    let (status, _, _) = emulator::users_me(&emu, preview.secret(), None).await;
    assert_eq!(
        status, 401,
        "a token downscoped from a rotated App Token dies with it"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn app_tokens_are_one_more_auth_config_and_cannot_be_revoked_through_the_api() {
    let emu = emulator::start().await;
    let app = control::app_token_app(&emu).await;
    let config: AuthConfig = serde_json::from_value(json!({
        "method": "app_token",
        "primary_token": app["primary_app_token"],
        "secondary_token": app["secondary_app_token"],
        "base_url": emu.base_url(),
    }))
    .unwrap();
    assert!(!format!("{config:?}").contains(&text(&app, "primary_app_token")));
    assert_eq!(config.method.name(), "app-token");
    let auth = config.build().unwrap();
    let me = BoxClient::from_shared(auth.clone())
        .users_me()
        .await
        .unwrap();
    assert_eq!(me.id, text(&app, "service_account_id"));
    let revoke = auth.revoke_token().await.unwrap_err();
    assert_eq!(
        revoke.config_error_kind(),
        Some(boxauth::ConfigErrorKind::Invalid)
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn box_app_token_variables_are_one_more_method_refused_beside_another() {
    let emu = emulator::start().await;
    let app = control::app_token_app(&emu).await;
    let primary = text(&app, "primary_app_token");
    let secondary = text(&app, "secondary_app_token");
    let base = emu.base_url().to_owned();
    let from = |pairs: &[(&str, &str)]| {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    };
    let config = AuthConfig::from_vars(from(&[
        ("BOX_APP_TOKEN", &primary),
        ("BOX_APP_TOKEN_SECONDARY", &secondary),
        ("BOX_BASE_URL", &base),
    ]))
    .unwrap();
    assert!(matches!(
        &config.method,
        boxauth::AuthMethod::AppToken {
            secondary_token: Some(_),
            ..
        }
    ));
    emu.revoke_app_token(&text(&app, "client_id"), Primary)
        .unwrap();
    let me = BoxClient::from_shared(config.build().unwrap())
        .users_me()
        .await
        .unwrap();
    assert_eq!(me.id, text(&app, "service_account_id"));

    let two = AuthConfig::from_vars(from(&[
        ("BOX_APP_TOKEN", &primary),
        ("BOX_DEVELOPER_TOKEN", "dev"),
    ]))
    .unwrap_err();
    assert_eq!(
        two.config_error_kind(),
        Some(boxauth::ConfigErrorKind::Conflict)
    );
    assert!(!two.to_string().contains(&primary));
    let alone =
        AuthConfig::from_vars(from(&[("BOX_APP_TOKEN_SECONDARY", &secondary)])).unwrap_err();
    assert_eq!(
        alone.config_error_kind(),
        Some(boxauth::ConfigErrorKind::Missing)
    );
    emu.shutdown().await;
}
