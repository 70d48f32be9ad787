//! A scheme of your own on boxauth's token manager: a preview-only token for one file, exchanged
//! from a Client Credentials token, cached and refreshed like any Box scheme.
//!
//! ```sh
//! BOX_CLIENT_ID=… BOX_CLIENT_SECRET=… BOX_ENTERPRISE_ID=… BOX_FILE_URL=https://api.box.com/2.0/files/123 \
//!   cargo run -p boxauth --example custom_scheme
//! # against the emulator (boxauth emulator prints these values):
//! BOX_BASE_URL=http://127.0.0.1:8080 BOX_CLIENT_ID=boxauthemulatorclientid000000001 \
//!   BOX_CLIENT_SECRET=BoxAuthEmulatorClientSecret00001 BOX_ENTERPRISE_ID=100000001 \
//!   BOX_FILE_URL=https://api.box.com/2.0/files/400000001 cargo run -p boxauth --example custom_scheme
//! ```

mod downscoped;

use std::sync::Arc;

use boxauth::{
    AuthOptions, Authentication, BoxUrls, CachedAuth, CcgAuth, CcgConfig, NetworkSession,
};
use downscoped::DownscopedToken;

fn var(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name).map_err(|_| format!("set {name}").into())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = NetworkSession::builder()
        .urls(BoxUrls::from_env()?)
        .build()?;
    let options = AuthOptions::default().session(session);
    let parent = CcgAuth::with_options(
        CcgConfig::enterprise(
            var("BOX_CLIENT_ID")?,
            var("BOX_CLIENT_SECRET")?,
            var("BOX_ENTERPRISE_ID")?,
        ),
        options.clone(),
    )?;
    let file = var("BOX_FILE_URL")?;

    // The user's scheme gets caching, single flight, back-off and storage from CachedAuth.
    let preview = CachedAuth::from_source(
        DownscopedToken::new(Arc::new(parent), &["item_preview"], &file),
        options,
    )?;
    let token = preview.retrieve_token().await?;
    let scopes: Vec<String> = token
        .restricted_to
        .iter()
        .flatten()
        .filter_map(|entry| entry.scope.as_ref().map(ToString::to_string))
        .collect();
    println!("a token for {file}, restricted to {scopes:?}");

    // A hundred tasks at once: the cached token, no new request.
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let preview = preview.clone();
            tokio::spawn(async move { preview.retrieve_token().await })
        })
        .collect();
    for task in tasks {
        let same = task.await??;
        if !same.has_access_token(&token.access_token) {
            return Err("a task got another token than the cached one".into());
        }
    }
    println!("100 tasks shared the cached token");
    Ok(())
}
