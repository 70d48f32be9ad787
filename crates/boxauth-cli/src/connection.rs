//! The options every command that talks to Box shares: where Box is, and extra headers.

use boxauth::{BoxUrls, DEFAULT_BASE_URL, DEFAULT_OAUTH2_URL, NetworkSession};
use clap::Args;

/// Where to send requests.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection options")]
pub struct ConnectionArgs {
    /// Box's API host (the emulator's base URL to test offline).
    #[arg(long, env = "BOX_BASE_URL", default_value = DEFAULT_BASE_URL, global = true, value_name = "URL")]
    pub base_url: String,

    /// Box's OAuth 2.0 host, where the consent page lives.
    #[arg(long = "oauth2-url", env = "BOX_OAUTH2_URL", default_value = DEFAULT_OAUTH2_URL, global = true, value_name = "URL")]
    pub oauth2_url: String,

    /// A header to add to the request, as 'Name: value' (repeatable).
    #[arg(
        long = "header",
        short = 'H',
        global = true,
        value_name = "'NAME: VALUE'"
    )]
    pub headers: Vec<String>,
}

impl ConnectionArgs {
    /// A session for these URLs.
    pub fn session(&self) -> boxauth::Result<NetworkSession> {
        NetworkSession::builder()
            .urls(BoxUrls::new(&self.base_url, &self.oauth2_url)?)
            .build()
    }

    /// `--header` values split into name and value.
    pub fn extra_headers(&self) -> boxauth::Result<Vec<(String, String)>> {
        self.headers
            .iter()
            .map(|header| match header.split_once(':') {
                Some((name, value)) if !name.trim().is_empty() => {
                    Ok((name.trim().to_owned(), value.trim().to_owned()))
                }
                _ => Err(boxauth::Error::config(format!(
                    "--header {header:?} must look like 'Name: value'"
                ))),
            })
            .collect()
    }
}
