//! JWT: Box's app config file (its private key encrypted, as the Developer Console makes it), a
//! service account token, a user token, and a downscoped token.
//!
//! ```sh
//! BOX_CONFIG=config.json cargo run -p boxauth --example jwt
//! # against the emulator: boxauth emulator --export-config ./emu, then
//! BOX_BASE_URL=http://127.0.0.1:8080 BOX_CONFIG=emu/box_config.json cargo run -p boxauth --example jwt
//! ```

use boxauth::{
    AuthOptions, Authentication, BoxClient, BoxUrls, FileStorage, JwtAuth, JwtConfig,
    NetworkSession,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = NetworkSession::builder()
        .urls(BoxUrls::from_env()?)
        .build()?;
    let path = std::env::var("BOX_CONFIG").map_err(|_| "set BOX_CONFIG to Box's config.json")?;
    let config = JwtConfig::from_config_file(path)?;
    // Tokens in a file: every process of this program on this host shares one token and one refresh.
    let storage = FileStorage::new(std::env::temp_dir().join("boxauth-example-jwt-token.json"));
    let auth = JwtAuth::with_options(
        config,
        AuthOptions::default().session(session).storage(storage),
    )?;

    let me = BoxClient::new(auth.clone()).users_me().await?;
    println!("service account: {}", me.login.unwrap_or_default());

    if let Ok(user_id) = std::env::var("BOX_USER_ID") {
        let user = BoxClient::new(auth.with_user_subject(user_id)?)
            .users_me()
            .await?;
        println!("as a user: {}", user.login.unwrap_or_default());
    }
    if let Ok(file) = std::env::var("BOX_FILE_URL") {
        let preview = auth
            .downscope_token(&["item_preview"], Some(&file), None)
            .await?;
        println!(
            "a preview-only token, restricted to {} item(s)",
            preview.restricted_to.unwrap_or_default().len()
        );
    }
    Ok(())
}
