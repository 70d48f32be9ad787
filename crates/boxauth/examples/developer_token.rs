//! A developer token (60 minutes, from the Developer Console → Configuration): the quickest start.
//!
//! ```sh
//! BOX_DEVELOPER_TOKEN=… cargo run -p boxauth --example developer_token
//! ```

use boxauth::{
    AuthOptions, BoxClient, BoxUrls, DeveloperTokenAuth, DeveloperTokenConfig, Error,
    NetworkSession,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = NetworkSession::builder()
        .urls(BoxUrls::from_env()?)
        .build()?;
    let token = std::env::var("BOX_DEVELOPER_TOKEN").map_err(|_| "set BOX_DEVELOPER_TOKEN")?;
    let auth = DeveloperTokenAuth::with_options(
        DeveloperTokenConfig::new(token),
        AuthOptions::default().session(session),
    )?;

    match BoxClient::new(auth).users_me().await {
        Ok(me) => println!("hello, {}", me.name.unwrap_or_default()),
        // After 60 minutes Box refuses it: the error says to generate a new one.
        Err(error @ Error::DeveloperTokenExpired) => eprintln!("{error}"),
        Err(error) => return Err(error.into()),
    }
    Ok(())
}
