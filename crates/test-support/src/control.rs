//! The emulator's control API over HTTP (`/__emulator/…`), as a test in another language uses it.

use boxauth_emulator::EmulatorHandle;
use serde_json::Value;

async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `GET /__emulator/{path}`: the status and JSON body (`Null` if not JSON).
pub async fn get(emulator: &EmulatorHandle, path: &str) -> (u16, Value) {
    get_at(emulator.base_url(), path).await
}

/// [`get`] from the emulator at `base_url`, for one the test runs as a process.
pub async fn get_at(base_url: &str, path: &str) -> (u16, Value) {
    let url = format!("{base_url}/__emulator/{path}");
    answer(crate::http().get(url).send().await.unwrap()).await
}

/// `POST /__emulator/{path}` with `body` as JSON: the status and JSON body.
pub async fn post(emulator: &EmulatorHandle, path: &str, body: Value) -> (u16, Value) {
    post_raw(emulator, path, body.to_string().into_bytes()).await
}

/// `POST /__emulator/{path}` with these bytes as the body.
pub async fn post_raw(emulator: &EmulatorHandle, path: &str, body: Vec<u8>) -> (u16, Value) {
    let url = format!("{}/__emulator/{path}", emulator.base_url());
    let request = crate::http()
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    answer(request.send().await.unwrap()).await
}

/// An app of the App Token kind registered over the control API (`POST /__emulator/apps`), with
/// a primary and a secondary App Token, allowed token exchange only (as Box's limited-access
/// apps are): its answer (`client_id`, `service_account_id`, `primary_app_token`,
/// `secondary_app_token`, …).
pub async fn app_token_app(emulator: &EmulatorHandle) -> Value {
    let token = || crate::emulator::random_id(32);
    let (status, app) = post(
        emulator,
        "apps",
        serde_json::json!({
            "grants": ["token_exchange"],
            "primary_app_token": token(),
            "secondary_app_token": token(),
        }),
    )
    .await;
    assert_eq!(status, 201, "{app}");
    app
}
