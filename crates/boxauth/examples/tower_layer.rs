//! boxauth in a tower stack: `BoxAuthLayer` around hyper's client adds a Box token to every
//! request and survives a 401 with one refresh and one retry. The auth comes from the
//! environment (`boxauth::from_env`).
//!
//! ```sh
//! BOX_BASE_URL=http://127.0.0.1:8080 BOX_CLIENT_ID=boxauthemulatorclientid000000001 \
//!   BOX_CLIENT_SECRET=BoxAuthEmulatorClientSecret00001 BOX_ENTERPRISE_ID=100000001 \
//!   cargo run -p boxauth --features tower --example tower_layer
//! ```
//! (hyper's plain client speaks http only: point it at the emulator, or give it an https
//! connector for Box.)

use boxauth::{BoxAuthLayer, BoxUrls};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower_layer::Layer;
use tower_service::Service;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let auth = boxauth::from_env()?;
    let hyper = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut client = BoxAuthLayer::new(auth).layer(hyper);
    let url = BoxUrls::from_env()?.api_url("/users/me");
    let request = http::Request::get(url).body(Empty::new())?;
    std::future::poll_fn(|cx| client.poll_ready(cx)).await?;
    let response = client.call(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        return Err(format!("Box answered {status}").into());
    }
    let me: serde_json::Value = serde_json::from_slice(&body)?;
    println!("the token acts as {} ({})", me["login"], me["id"]);
    Ok(())
}
