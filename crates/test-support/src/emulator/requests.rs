//! Box's endpoints called by hand, as a client in another language would: one helper per request
//! the tests send over and over (a Client Credentials token, a code exchange, a refresh, a
//! revocation, a downscope), each as the default app, and the raw posts under them for the
//! tests that send something else. A test of a grant's own rules (`client_credentials_rules`,
//! `authorization_code_rules`, …) writes its form out instead, so the reader sees what is sent.

use boxauth_emulator::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ENTERPRISE_ID, EmulatorHandle,
};
use serde_json::Value;

/// The grant type of a token exchange (a downscope).
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// The only subject token type Box takes: an access token.
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The form of a Client Credentials request: the app `client_id`/`client_secret` acting as
/// `subject_type` (`enterprise`: its service account; `user`) `subject_id`.
pub fn ccg_form<'a>(
    client_id: &'a str,
    client_secret: &'a str,
    subject_type: &'a str,
    subject_id: &'a str,
) -> [(&'a str, &'a str); 5] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", client_secret),
        ("box_subject_type", subject_type),
        ("box_subject_id", subject_id),
    ]
}

/// [`ccg_form`] of the default app for its enterprise's service account.
pub fn service_form() -> [(&'static str, &'static str); 5] {
    ccg_form(
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        "enterprise",
        DEFAULT_ENTERPRISE_ID,
    )
}

/// A token of the default app's service account (Client Credentials); panics when Box refuses.
pub async fn service_token(emulator: &EmulatorHandle) -> String {
    issued(post_token(emulator, &service_form()).await)
}

/// A token of the default app acting as user `user_id` (Client Credentials, as a developer
/// token is); panics when Box refuses.
pub async fn user_token(emulator: &EmulatorHandle, user_id: &str) -> String {
    let form = ccg_form(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "user", user_id);
    issued(post_token(emulator, &form).await)
}

/// The access token of a 200 answer.
fn issued((status, body): (u16, Value)) -> String {
    assert_eq!(status, 200, "Box refused the token request: {body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// Exchanges authorization code `code` as the default app: the status and body.
pub async fn exchange_code(emulator: &EmulatorHandle, code: &str) -> (u16, Value) {
    post_token(
        emulator,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
        ],
    )
    .await
}

/// Refreshes with `refresh_token` as the default app: the status and body.
pub async fn refresh(emulator: &EmulatorHandle, refresh_token: &str) -> (u16, Value) {
    post_token(
        emulator,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// Revokes `token` (access or refresh) as the default app at `/oauth2/revoke`: the status and
/// body.
pub async fn revoke(emulator: &EmulatorHandle, token: &str) -> (u16, Value) {
    post_form(
        emulator,
        "/oauth2/revoke",
        &[
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("token", token),
        ],
    )
    .await
}

/// Exchanges access token `subject` for a downscoped one, with the `extra` fields (`scope`,
/// `resource`, `box_shared_link`, …): the status and body.
pub async fn exchange_token(
    emulator: &EmulatorHandle,
    subject: &str,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", TOKEN_EXCHANGE),
        ("subject_token_type", ACCESS_TOKEN_TYPE),
        ("subject_token", subject),
    ];
    form.extend_from_slice(extra);
    post_token(emulator, &form).await
}

/// `GET /2.0/users/me` with `token` (and `As-User` if given): the status, the `WWW-Authenticate`
/// header and the JSON body (`Null` if empty).
pub async fn users_me(
    emulator: &EmulatorHandle,
    token: &str,
    as_user: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut request = crate::http()
        .get(format!("{}/2.0/users/me", emulator.base_url()))
        .bearer_auth(token);
    if let Some(user) = as_user {
        request = request.header("As-User", user);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.text().await.unwrap();
    (
        status,
        challenge,
        serde_json::from_str(&body).unwrap_or(Value::Null),
    )
}

/// Posts a raw form to `/oauth2/token` and returns the status and JSON body.
pub async fn post_token(emulator: &EmulatorHandle, form: &[(&str, &str)]) -> (u16, Value) {
    post_form(emulator, "/oauth2/token", form).await
}

/// Posts a raw form to `path` and returns the status and JSON body (`Null` if empty).
pub async fn post_form(
    emulator: &EmulatorHandle,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter())
        .finish();
    post_body(
        emulator,
        path,
        "application/x-www-form-urlencoded",
        body.into_bytes(),
    )
    .await
}

/// Posts `body` as `content_type` to `path` and returns the status and JSON body (`Null` if
/// empty).
pub async fn post_body(
    emulator: &EmulatorHandle,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let response = crate::http()
        .post(format!("{}{path}", emulator.base_url()))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
