//! OAuth 2.0 (3-legged) in a terminal program: print the consent URL, receive Box's redirect on a
//! loopback port, check `state`, exchange the code, keep the tokens in a file and refresh them
//! with rotation.
//!
//! ```sh
//! BOX_CLIENT_ID=… BOX_CLIENT_SECRET=… cargo run -p boxauth --example oauth
//! # then open the printed URL; the app's redirect URI must be http://localhost:3000/callback
//! ```
//!
//! `BOX_LOGIN=email` answers the consent page itself, over HTTP, as a person would: that only
//! works against the emulator (`BOX_BASE_URL`, `BOX_OAUTH2_URL`), where there is no password.

use boxauth::{
    AuthOptions, Authentication, AuthorizeOptions, BoxClient, BoxUrls, FileStorage, NetworkSession,
    OAuth, OAuthConfig,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn var(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name).map_err(|_| format!("set {name}").into())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let urls = BoxUrls::new(
        &std::env::var("BOX_BASE_URL").unwrap_or_else(|_| boxauth::DEFAULT_BASE_URL.into()),
        &std::env::var("BOX_OAUTH2_URL").unwrap_or_else(|_| boxauth::DEFAULT_OAUTH2_URL.into()),
    )?;
    let session = NetworkSession::builder().urls(urls).build()?;
    let storage = FileStorage::new(std::env::temp_dir().join("boxauth-example-oauth-token.json"));
    let auth = OAuth::with_options(
        OAuthConfig::new(var("BOX_CLIENT_ID")?, var("BOX_CLIENT_SECRET")?),
        AuthOptions::default().session(session).storage(storage),
    )?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let redirect_uri = format!(
        "http://localhost:{}/callback",
        listener.local_addr()?.port()
    );
    let request = auth.authorize_url(AuthorizeOptions::default().redirect_uri(redirect_uri));
    println!("open: {}", request.url);
    if let Ok(login) = std::env::var("BOX_LOGIN") {
        // What the user's browser does: approve, then follow Box's redirect to the callback.
        let url = request.url.clone();
        tokio::spawn(async move {
            let approve = boxauth_emulator::headless::Decision::Approve;
            if let Ok(callback) = boxauth_emulator::headless::answer(&url, &login, approve).await {
                let browser = reqwest::Client::builder().no_proxy().build();
                if let Ok(browser) = browser {
                    let _ = browser.get(callback).send().await;
                }
            }
        });
    }

    // Box redirects the browser to redirect_uri?code=…&state=…
    let (mut stream, _) = listener.accept().await?;
    let mut head = vec![0u8; 4096];
    let read = stream.read(&mut head).await?;
    let request_line = String::from_utf8_lossy(&head[..read])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let target = request_line
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let outcome = auth.complete_authorization(&request, &target).await; // checks state
    let page = if outcome.is_ok() {
        "Logged in: you may close this window."
    } else {
        "Login failed."
    };
    stream
        .write_all(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{page}",
                page.len()
            )
            .as_bytes(),
        )
        .await?;
    outcome?;

    let me = BoxClient::new(auth.clone()).users_me().await?;
    println!("logged in as {}", me.login.unwrap_or_default());
    let rotated = auth.refresh_token().await?; // the new refresh token is stored before this returns
    let left = rotated
        .expires_at
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    println!("refreshed; the new token is valid for {} s", left.as_secs());
    Ok(())
}
