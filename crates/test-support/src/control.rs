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
