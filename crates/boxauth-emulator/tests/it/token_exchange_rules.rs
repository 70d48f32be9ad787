//! Token exchange: an active subject token, requested scopes within the subject's, `resource` or
//! `box_shared_link` (not both), `restricted_to` and `issued_token_type` in the answer, no refresh
//! token; annotator tokens through `actor_token`.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use boxauth_emulator::{DEFAULT_CLIENT_ID as ID, EmulatorHandle};
use boxauth_test_support::emulator as emu;
use serde_json::{Value, json};

const SUBJECT_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const FILE: &str = "https://api.box.com/2.0/files/400000001";

async fn exchange(emulator: &EmulatorHandle, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("subject_token_type", SUBJECT_TYPE),
    ];
    form.extend_from_slice(extra);
    emu::post_token(emulator, &form).await
}

#[tokio::test]
async fn downscoping_to_a_resource_returns_restricted_to_and_no_refresh_token() {
    let emulator = emu::start().await;
    let subject = emu::service_token(&emulator).await;
    let (status, body) = exchange(
        &emulator,
        &[
            ("subject_token", &subject),
            ("scope", "item_preview item_download"),
            ("resource", FILE),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].as_str().unwrap().starts_with("1!"));
    assert_eq!(body["issued_token_type"], SUBJECT_TYPE);
    assert_eq!(body["token_type"], "bearer");
    assert!(body.get("refresh_token").is_none());
    let restricted = body["restricted_to"].as_array().unwrap();
    assert_eq!(restricted.len(), 2, "one entry per (scope, object)");
    assert_eq!(restricted[0]["scope"], "item_preview");
    assert_eq!(restricted[1]["scope"], "item_download");
    assert_eq!(restricted[0]["object"]["type"], "file");
    assert_eq!(restricted[0]["object"]["id"], "400000001");
    assert_eq!(restricted[0]["object"]["name"], "Contract.pdf");
    assert_eq!(
        restricted[0]["object"]["file_version"]["type"],
        "file_version"
    );
    // Box's own schema parses it.
    let parsed: boxauth::AccessToken = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(parsed.restricted_to.unwrap().len(), 2);
}

#[tokio::test]
async fn downscoping_to_a_shared_link_or_folder() {
    let emulator = emu::start().await;
    let subject = emu::service_token(&emulator).await;
    let (status, body) = exchange(
        &emulator,
        &[
            ("subject_token", &subject),
            ("scope", "base_preview"),
            (
                "box_shared_link",
                "https://app.box.com/s/emulatedcontractsfolder0001",
            ),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["restricted_to"][0]["object"],
        json!({"type": "folder", "id": "300000001", "sequence_id": "1", "etag": "1", "name": "Contracts"})
    );
    let (status, _) = exchange(
        &emulator,
        &[
            ("subject_token", &subject),
            ("scope", "item_upload"),
            ("resource", "https://api.box.com/2.0/folders/300000001"),
        ],
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn resource_and_shared_link_together_are_refused() {
    let emulator = emu::start().await;
    let subject = emu::service_token(&emulator).await;
    let (status, body) = exchange(
        &emulator,
        &[
            ("subject_token", &subject),
            ("scope", "item_preview"),
            ("resource", FILE),
            (
                "box_shared_link",
                "https://app.box.com/s/emulatedcontractpdf000001",
            ),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[tokio::test]
async fn scopes_the_subject_does_not_hold_give_401() {
    let emulator = emu::start().await;
    let subject = emu::service_token(&emulator).await;
    let (_, narrowed) = exchange(
        &emulator,
        &[
            ("subject_token", &subject),
            ("scope", "item_preview"),
            ("resource", FILE),
        ],
    )
    .await;
    let narrowed = narrowed["access_token"].as_str().unwrap();
    for (token, scope) in [
        (narrowed, "item_download"),
        (subject.as_str(), "manage_groups"),
        (subject.as_str(), "root_readwrite"),
    ] {
        let (status, _) = exchange(
            &emulator,
            &[
                ("subject_token", token),
                ("scope", scope),
                ("resource", FILE),
            ],
        )
        .await;
        assert_eq!(status, 401, "{scope}");
    }
    let (status, _) = exchange(
        &emulator,
        &[
            ("subject_token", narrowed),
            ("scope", "item_preview"),
            ("resource", FILE),
        ],
    )
    .await;
    assert_eq!(status, 200, "narrowing to the same scope works");
}

#[tokio::test]
async fn a_resource_the_user_cannot_see_is_invalid() {
    let emulator = emu::start().await;
    let subject = emu::service_token(&emulator).await;
    for resource in [
        "https://api.box.com/2.0/files/400000002",
        "https://api.box.com/2.0/files/999",
        "https://api.box.com/2.0/users/1",
        "not a url",
    ] {
        let (status, body) = exchange(
            &emulator,
            &[
                ("subject_token", &subject),
                ("scope", "item_preview"),
                ("resource", resource),
            ],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_resource")),
            "{resource}"
        );
        assert_eq!(body["error_description"], "The target resource is invalid.");
    }
}

#[tokio::test]
async fn an_expired_or_revoked_subject_token_is_refused() {
    let emulator = emu::start().await;
    let subject = emu::service_token(&emulator).await;
    let (_, child) = exchange(
        &emulator,
        &[
            ("subject_token", &subject),
            ("scope", "item_preview"),
            ("resource", FILE),
        ],
    )
    .await;
    let child = child["access_token"].as_str().unwrap().to_owned();
    emu::revoke(&emulator, &subject).await;
    let (status, body) = exchange(
        &emulator,
        &[("subject_token", &subject), ("scope", "item_preview")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = exchange(
        &emulator,
        &[
            ("subject_token", &child),
            ("scope", "item_preview"),
            ("resource", FILE),
        ],
    )
    .await;
    assert_eq!(status, 400, "a downscoped token dies with its parent");

    let subject = emu::service_token(&emulator).await;
    emulator.clock().advance(Duration::from_secs(3601));
    let (status, _) = exchange(
        &emulator,
        &[("subject_token", &subject), ("scope", "item_preview")],
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_downscoped_token_cannot_outlive_its_parent() {
    let emulator = emu::start().await;
    let subject = emu::service_token(&emulator).await;
    emulator.clock().advance(Duration::from_secs(3000));
    let (_, body) = exchange(
        &emulator,
        &[
            ("subject_token", &subject),
            ("scope", "item_preview"),
            ("resource", FILE),
        ],
    )
    .await;
    let expires_in = body["expires_in"].as_i64().unwrap();
    assert!((590..=600).contains(&expires_in), "{expires_in}");
}

fn actor_jwt(emulator: &EmulatorHandle, claims: Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string());
    let _ = emulator;
    format!("{header}.{}.", URL_SAFE_NO_PAD.encode(claims.to_string()))
}

#[tokio::test]
async fn annotator_tokens_through_actor_token() {
    let emulator = emu::start().await;
    let subject = emu::service_token(&emulator).await;
    let claims = json!({
        "iss": ID, "sub": "external-user-42", "name": "Ann Otator", "box_sub_type": "external",
        "aud": "https://api.box.com/oauth2/token", "jti": emu::random_id(36), "exp": emu::now(&emulator) + 60,
    });
    let actor = actor_jwt(&emulator, claims.clone());
    let id_token = "urn:ietf:params:oauth:token-type:id_token";
    let (status, body) = exchange(
        &emulator,
        &[
            ("subject_token", &subject),
            ("scope", "item_preview"),
            ("resource", FILE),
            ("actor_token", &actor),
            ("actor_token_type", id_token),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["restricted_to"][0]["scope"], "item_preview");

    let mut wrong = claims;
    wrong["box_sub_type"] = json!("user");
    let (status, body) = exchange(
        &emulator,
        &[
            ("subject_token", &subject),
            ("scope", "item_preview"),
            ("resource", FILE),
            ("actor_token", &actor_jwt(&emulator, wrong)),
            ("actor_token_type", id_token),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}
