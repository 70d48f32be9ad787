//! boxauth in your own reqwest client: `BoxAuthMiddleware` adds a Box token to every request and
//! survives a 401 with one refresh and one retry. The auth comes from the environment
//! (`boxauth::from_env`: a developer token, a JWT config, or Client Credentials).
//!
//! ```sh
//! BOX_CLIENT_ID=… BOX_CLIENT_SECRET=… BOX_ENTERPRISE_ID=… \
//!   cargo run -p boxauth --features reqwest-middleware --example reqwest_middleware
//! # against the emulator (boxauth emulator prints these values):
//! BOX_BASE_URL=http://127.0.0.1:8080 BOX_CLIENT_ID=boxauthemulatorclientid000000001 \
//!   BOX_CLIENT_SECRET=BoxAuthEmulatorClientSecret00001 BOX_ENTERPRISE_ID=100000001 \
//!   cargo run -p boxauth --features reqwest-middleware --example reqwest_middleware
//! ```

use boxauth::{BoxAuthMiddleware, BoxUrls};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let auth = boxauth::from_env()?;
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(BoxAuthMiddleware::new(auth))
        .build();
    // Any Box endpoint, through your own client: here /2.0/users/me.
    let url = BoxUrls::from_env()?.api_url("/users/me");
    let response = client.get(url).send().await?.error_for_status()?;
    let me: serde_json::Value = serde_json::from_str(&response.text().await?)?;
    println!("the token acts as {} ({})", me["login"], me["id"]);
    Ok(())
}
