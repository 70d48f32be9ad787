//! Client Credentials Grant: a token for the app's service account (or a user), cached and
//! refreshed on its own, used on `/2.0/users/me`.
//!
//! ```sh
//! BOX_CLIENT_ID=… BOX_CLIENT_SECRET=… BOX_ENTERPRISE_ID=… cargo run -p boxauth --example ccg
//! # against the emulator (boxauth emulator prints these values):
//! BOX_BASE_URL=http://127.0.0.1:8080 BOX_CLIENT_ID=boxauthemulatorclientid000000001 \
//!   BOX_CLIENT_SECRET=BoxAuthEmulatorClientSecret00001 BOX_ENTERPRISE_ID=100000001 \
//!   cargo run -p boxauth --example ccg
//! ```

use boxauth::{
    AuthOptions, Authentication, BoxClient, BoxUrls, CcgAuth, CcgConfig, NetworkSession,
};

fn var(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name).map_err(|_| format!("set {name}").into())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = NetworkSession::builder()
        .urls(BoxUrls::from_env()?)
        .build()?;
    let config = CcgConfig::enterprise(
        var("BOX_CLIENT_ID")?,
        var("BOX_CLIENT_SECRET")?,
        var("BOX_ENTERPRISE_ID")?,
    );
    let auth = CcgAuth::with_options(config, AuthOptions::default().session(session))?;

    let token = auth.retrieve_token().await?;
    let left = token
        .expires_at
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    println!("token valid for another {} s", left.as_secs());
    let me = BoxClient::new(auth.clone()).users_me().await?;
    println!(
        "the service account is {} ({})",
        me.login.unwrap_or_default(),
        me.id
    );
    Ok(())
}
