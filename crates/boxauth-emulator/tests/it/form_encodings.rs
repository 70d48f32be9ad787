//! The token and revoke endpoints read `multipart/form-data` as well as urlencoded forms, as Box
//! does (`curl -F …`; reference §10), with the same rules and the same errors.

use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID, EmulatorHandle,
};
use boxauth_test_support::emulator as emu;
use serde_json::Value;

const BOUNDARY: &str = "------------------------9c65445400c5ea1d";

/// The body `curl -F name=value …` sends.
fn multipart(form: &[(&str, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (name, value) in form {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body.into_bytes()
}

async fn post_multipart(
    emulator: &EmulatorHandle,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    emu::post_body(
        emulator,
        path,
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        multipart(form),
    )
    .await
}

/// The service account's Client Credentials form, with `secret` as the client secret.
fn ccg(secret: &str) -> [(&str, &str); 5] {
    emu::ccg_form(ID, secret, "enterprise", DEFAULT_ENTERPRISE_ID)
}

#[tokio::test]
async fn a_multipart_token_request_gets_a_token_that_works() {
    let emulator = emu::start().await;
    let (status, body) = post_multipart(&emulator, "/oauth2/token", &ccg(SECRET)).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(emu::users_me(&emulator, token, None).await.0, 200);

    // Revoked through a multipart body too.
    let (status, _) = post_multipart(
        &emulator,
        "/oauth2/revoke",
        &[
            ("client_id", ID),
            ("client_secret", SECRET),
            ("token", token),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(emu::users_me(&emulator, token, None).await.0, 401);
}

#[tokio::test]
async fn multipart_and_urlencoded_requests_get_the_same_errors() {
    let emulator = emu::start().await;
    let bad_secret = ccg("not-the-secret");
    let no_grant = &ccg(SECRET)[1..];
    for form in [&bad_secret[..], no_grant] {
        let urlencoded = emu::post_token(&emulator, form).await;
        assert!(urlencoded.0 >= 400, "{urlencoded:?}");
        assert_eq!(
            post_multipart(&emulator, "/oauth2/token", form).await,
            urlencoded
        );
    }
    // A body that does not match its multipart type is a request without a grant_type.
    let missing = emu::post_token(&emulator, no_grant).await;
    for (content_type, body) in [
        (
            format!("multipart/form-data; boundary={BOUNDARY}"),
            b"grant_type=client_credentials".to_vec(),
        ),
        (
            "multipart/form-data; boundary=other".to_owned(),
            multipart(&ccg(SECRET)),
        ),
        (
            format!("multipart/form-data; boundary={BOUNDARY}"),
            multipart(&ccg(SECRET))[..40].to_vec(),
        ),
    ] {
        assert_eq!(
            emu::post_body(&emulator, "/oauth2/token", &content_type, body).await,
            missing,
            "{content_type}"
        );
    }
    assert_eq!(missing.1["error"], "invalid_request");
    assert_eq!(
        missing.1["error_description"],
        "Invalid grant_type parameter or parameter missing"
    );
}
