//! JWT bearer assertions: RS256/RS384/RS512 only, `kid` naming a registered key, a valid signature,
//! `iss` = client id, `aud` = Box's token URL, `sub` a string naming an enterprise or user per
//! `box_sub_type`, `jti` of 16–128 characters never seen before, `exp` in the future and at most
//! 60 s ahead — each refusal with Box's own words.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use boxauth_emulator::{
    DEFAULT_ADMIN_ID, DEFAULT_APP_USER_ID, DEFAULT_CLIENT_ID as ID,
    DEFAULT_CLIENT_SECRET as SECRET, EmulatorConfig, EmulatorHandle,
};
use boxauth_test_support::emulator as emu;
use serde_json::{Value, json};

async fn present(emulator: &EmulatorHandle, assertion: &str) -> (u16, Value) {
    emu::post_token(
        emulator,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion),
            ("client_id", ID),
            ("client_secret", SECRET),
        ],
    )
    .await
}

async fn refused_with(emulator: &EmulatorHandle, assertion: &str, description: &str) {
    let (status, body) = present(emulator, assertion).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert_eq!(body["error_description"], description, "{body}");
}

const SIGNATURE_ERROR: &str = "Signature verification error. The public key identified by \"kid\" must correspond to the private key used for signing.";

/// A valid RS256 assertion for the service account, but for `change` made to its claims.
fn signed_with(emulator: &EmulatorHandle, change: impl FnOnce(&mut Value)) -> String {
    let mut claims = emu::enterprise_claims(emulator);
    change(&mut claims);
    emu::sign(emulator, &emu::header("RS256"), &claims)
}

#[tokio::test]
async fn rs256_rs384_and_rs512_are_accepted() {
    let emulator = emu::start().await;
    for alg in ["RS256", "RS384", "RS512"] {
        let assertion = emu::sign(
            &emulator,
            &emu::header(alg),
            &emu::enterprise_claims(&emulator),
        );
        let (status, body) = present(&emulator, &assertion).await;
        assert_eq!(status, 200, "{alg}: {body}");
        assert!(
            body.get("refresh_token").is_none(),
            "server tokens have no refresh token"
        );
        assert_eq!(body["restricted_to"], json!([]));
        let token = body["access_token"].as_str().unwrap();
        let (status, _, me) = emu::users_me(&emulator, token, None).await;
        assert_eq!(
            (status, me["id"].as_str()),
            (200, Some(boxauth_emulator::DEFAULT_SERVICE_ACCOUNT_ID))
        );
    }
}

#[tokio::test]
async fn alg_none_is_refused() {
    let emulator = emu::start().await;
    let assertion = emu::sign(
        &emulator,
        &json!({"alg": "none", "kid": "emu1key1"}),
        &emu::enterprise_claims(&emulator),
    );
    assert!(assertion.ends_with('.'), "an unsigned JWT");
    refused_with(&emulator, &assertion, SIGNATURE_ERROR).await;
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_as_secret_is_refused() {
    let emulator = emu::start().await;
    let public_key = emulator.default_app().keys[0].public_der.clone();
    let header = URL_SAFE_NO_PAD
        .encode(json!({"alg": "HS256", "typ": "JWT", "kid": "emu1key1"}).to_string());
    let claims = URL_SAFE_NO_PAD.encode(emu::enterprise_claims(&emulator).to_string());
    let input = format!("{header}.{claims}");
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &public_key);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    let assertion = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
    refused_with(&emulator, &assertion, SIGNATURE_ERROR).await;
}

#[tokio::test]
async fn an_unknown_kid_or_one_that_is_not_a_string_is_refused() {
    let emulator = emu::start().await;
    let claims = emu::enterprise_claims(&emulator);
    let unknown = emu::sign(
        &emulator,
        &json!({"alg": "RS256", "kid": "nokey000"}),
        &claims,
    );
    refused_with(
        &emulator,
        &unknown,
        "\"kid\" invalid, unable to lookup correct key",
    )
    .await;
    let not_a_string = emu::sign(
        &emulator,
        &json!({"alg": "RS256", "kid": 7}),
        &emu::enterprise_claims(&emulator),
    );
    refused_with(
        &emulator,
        &not_a_string,
        "\"kid\" invalid, unable to lookup correct key",
    )
    .await;
}

#[tokio::test]
async fn without_kid_the_apps_keys_are_tried() {
    // One key: an assertion without kid, as Box's Node SDKs sign it, is accepted.
    let emulator = emu::start().await;
    let no_kid = json!({"alg": "RS256", "typ": "JWT"});
    let signed = emu::sign(&emulator, &no_kid, &emu::enterprise_claims(&emulator));
    assert_eq!(present(&emulator, &signed).await.0, 200);

    // Two keys: either one signs. The second is a key of its own, registered beside the default.
    let mut config = EmulatorConfig::default();
    let second = boxauth_emulator::AppKey::generate("second1").unwrap();
    let second_pkcs8 = second.private_pkcs8.clone().unwrap();
    std::sync::Arc::make_mut(&mut config.world).apps[0]
        .keys
        .push(second);
    let emulator = emu::start_with(config).await;
    let by_first = emu::sign(&emulator, &no_kid, &emu::enterprise_claims(&emulator));
    assert_eq!(present(&emulator, &by_first).await.0, 200);
    let by_second = emu::sign_with(&second_pkcs8, &no_kid, &emu::enterprise_claims(&emulator));
    assert_eq!(present(&emulator, &by_second).await.0, 200);

    // Neither signed it (another app's key): the signature is refused.
    let other = boxauth_emulator::AppKey::generate("other001").unwrap();
    let by_other = emu::sign_with(
        other.private_pkcs8.as_ref().unwrap(),
        &no_kid,
        &emu::enterprise_claims(&emulator),
    );
    refused_with(&emulator, &by_other, SIGNATURE_ERROR).await;
}

#[tokio::test]
async fn tampered_signature_or_claims_are_refused() {
    let emulator = emu::start().await;
    let assertion = emu::assertion(&emulator);
    let mut signature = URL_SAFE_NO_PAD
        .decode(assertion.rsplit('.').next().unwrap())
        .unwrap();
    signature[10] ^= 0x01;
    let (input, _) = assertion.rsplit_once('.').unwrap();
    let tampered = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&signature));
    refused_with(&emulator, &tampered, SIGNATURE_ERROR).await;

    // Claims changed after signing: `sub` swapped for the admin's user ID.
    let mut parts: Vec<String> = emu::assertion(&emulator)
        .split('.')
        .map(str::to_owned)
        .collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    claims["sub"] = json!(DEFAULT_ADMIN_ID);
    claims["box_sub_type"] = json!("user");
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    refused_with(&emulator, &parts.join("."), SIGNATURE_ERROR).await;
}

#[tokio::test]
async fn a_key_of_another_app_does_not_verify() {
    let mut config = EmulatorConfig::default();
    let mut world = (*config.world).clone();
    world.apps[0].keys = vec![boxauth_emulator::AppKey::generate("emu1key1").unwrap()];
    config.world = Arc::new(world);
    let emulator = emu::start_with(config).await;
    // emu::sign uses the app's (new) key; sign with the process-wide default key instead.
    let other = boxauth_emulator::AppKey::default_key("emu1key1").unwrap();
    let pkcs8 = other.private_pkcs8.unwrap();
    let key = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&pkcs8).unwrap();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(emu::header("RS256").to_string()),
        URL_SAFE_NO_PAD.encode(emu::enterprise_claims(&emulator).to_string())
    );
    let mut signature = vec![0u8; key.public_modulus_len()];
    key.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .unwrap();
    let assertion = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature));
    refused_with(&emulator, &assertion, SIGNATURE_ERROR).await;
}

#[tokio::test]
async fn exp_more_than_60_seconds_ahead_is_refused() {
    let emulator = emu::start().await;
    let now = emu::now(&emulator);
    let assertion = signed_with(&emulator, |c| c["exp"] = json!(now + 120));
    refused_with(
        &emulator,
        &assertion,
        "Please check the 'exp' claim. The 'exp' value exceeds the maximum value of 60 seconds beyond the issue time.",
    )
    .await;
    // The leeway for clock skew does not stretch the 60 s maximum.
    let assertion = signed_with(&emulator, |c| c["exp"] = json!(now + 65));
    refused_with(
        &emulator,
        &assertion,
        "Please check the 'exp' claim. The 'exp' value exceeds the maximum value of 60 seconds beyond the issue time.",
    )
    .await;
    let assertion = signed_with(&emulator, |c| c["exp"] = json!(now + 60));
    assert_eq!(present(&emulator, &assertion).await.0, 200);
}

#[tokio::test]
async fn exp_in_the_past_is_refused() {
    let emulator = emu::start().await;
    let now = emu::now(&emulator);
    let assertion = signed_with(&emulator, |c| c["exp"] = json!(now - 30));
    refused_with(
        &emulator,
        &assertion,
        "Current date time must be before the expiration date time listed in the 'exp' claim.",
    )
    .await;
}

#[tokio::test]
async fn replayed_jti_is_refused() {
    let emulator = emu::start().await;
    let assertion = emu::assertion(&emulator);
    assert_eq!(present(&emulator, &assertion).await.0, 200);
    refused_with(
        &emulator,
        &assertion,
        "Please check the 'jti' claim. A unique 'jti' value is required.",
    )
    .await;
}

#[tokio::test]
async fn jti_shorter_than_16_or_longer_than_128_is_refused() {
    let emulator = emu::start().await;
    for jti in [emu::random_id(15), emu::random_id(129)] {
        let assertion = signed_with(&emulator, |c| c["jti"] = json!(jti));
        refused_with(
            &emulator,
            &assertion,
            "Please check the 'jti' claim. A unique 'jti' value is required.",
        )
        .await;
    }
    for jti in [emu::random_id(16), emu::random_id(128)] {
        let assertion = signed_with(&emulator, |c| c["jti"] = json!(jti));
        assert_eq!(present(&emulator, &assertion).await.0, 200);
    }
}

#[tokio::test]
async fn wrong_aud_or_iss_is_refused() {
    let emulator = emu::start().await;
    let assertion = signed_with(&emulator, |c| {
        c["aud"] = json!("https://api.box.com/oauth2/token/")
    });
    refused_with(&emulator, &assertion, "Please check the 'aud' claim.").await;
    let assertion = signed_with(&emulator, |c| {
        c["iss"] = json!("someoneelse0000000000000000000000")
    });
    refused_with(&emulator, &assertion, "Please check the 'iss' claim.").await;
}

#[tokio::test]
async fn integer_sub_is_refused() {
    let emulator = emu::start().await;
    let assertion = signed_with(&emulator, |c| c["sub"] = json!(100000001));
    refused_with(
        &emulator,
        &assertion,
        "Please check the 'sub' claim. The 'sub' specified is invalid.",
    )
    .await;
}

#[tokio::test]
async fn unknown_user_or_enterprise_is_refused() {
    let emulator = emu::start().await;
    for (kind, sub) in [
        ("user", "999999999"),
        ("enterprise", "999999999"),
        ("user", "100000001"),
        ("group", "100000001"),
    ] {
        let assertion = signed_with(&emulator, |c| {
            c["sub"] = json!(sub);
            c["box_sub_type"] = json!(kind);
        });
        refused_with(
            &emulator,
            &assertion,
            "Please check the 'sub' claim. The 'sub' specified is invalid.",
        )
        .await;
    }
}

#[tokio::test]
async fn user_tokens_need_generate_user_access_tokens() {
    let emulator = emu::start().await;
    let assertion = signed_with(&emulator, |c| {
        c["sub"] = json!(DEFAULT_APP_USER_ID);
        c["box_sub_type"] = json!("user");
    });
    let (status, body) = present(&emulator, &assertion).await;
    assert_eq!(status, 200, "{body}");
    let (_, _, me) = emu::users_me(&emulator, body["access_token"].as_str().unwrap(), None).await;
    assert_eq!(me["id"], DEFAULT_APP_USER_ID);

    let mut config = EmulatorConfig::default();
    let mut world = (*config.world).clone();
    world.apps[0].generate_user_tokens = false;
    config.world = Arc::new(world);
    let emulator = emu::start_with(config).await;
    let assertion = signed_with(&emulator, |c| {
        c["sub"] = json!(DEFAULT_APP_USER_ID);
        c["box_sub_type"] = json!("user");
    });
    let (status, body) = present(&emulator, &assertion).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    assert_eq!(
        body["error_description"],
        "Cannot obtain user token based on the enterprise configuration for your app"
    );
}

#[tokio::test]
async fn an_app_not_authorized_by_the_admin_is_refused() {
    let mut config = EmulatorConfig::default();
    let mut world = (*config.world).clone();
    world.apps[0].authorized = false;
    config.world = Arc::new(world);
    let emulator = emu::start_with(config).await;
    let (status, body) = present(&emulator, &emu::assertion(&emulator)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    assert_eq!(
        body["error_description"],
        "This app is not authorized by the enterprise admin"
    );
}

#[tokio::test]
async fn garbage_assertions_are_refused_without_a_crash() {
    let emulator = emu::start().await;
    for garbage in [
        "x",
        "a.b.c",
        "....",
        "eyJhbGciOiJSUzI1NiJ9..",
        "\u{1F600}.\u{1F600}.\u{1F600}",
    ] {
        let (status, body) = present(&emulator, garbage).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{garbage}: {body}"
        );
    }
}
