//! The options every command that talks to Box shares: where Box is, which CA to trust, and extra
//! headers.

use std::path::PathBuf;

use boxauth::{
    BoxUrls, ConfigError, ConfigErrorKind, DEFAULT_BASE_URL, DEFAULT_OAUTH2_URL, NetworkSession,
};
use clap::Args;

/// Where to send requests.
#[derive(Clone, Args)]
#[command(next_help_heading = "Connection options")]
pub struct ConnectionArgs {
    /// Box's API host [default: https://api.box.com, or the environment's].
    #[arg(long, env = "BOX_BASE_URL", global = true, value_name = "URL")]
    pub base_url: Option<String>,

    /// Box's OAuth 2.0 host [default: https://account.box.com/api/oauth2, or the environment's].
    #[arg(
        long = "oauth2-url",
        env = "BOX_OAUTH2_URL",
        global = true,
        value_name = "URL"
    )]
    pub oauth2_url: Option<String>,

    /// Trust this CA certificate (PEM) for https, as well as the system's: a TLS-inspecting
    /// corporate proxy, or `boxauth emulator --tls`.
    #[arg(long, env = "BOX_CA_FILE", global = true, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// A header to add to the request, as 'Name: value' (repeatable).
    #[arg(
        long = "header",
        short = 'H',
        global = true,
        value_name = "'NAME: VALUE'"
    )]
    pub headers: Vec<String>,
}

impl std::fmt::Debug for ConnectionArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A header's value may be a credential: the names only.
        let names: Vec<&str> = self
            .headers
            .iter()
            .map(|h| h.split(':').next().unwrap_or_default().trim())
            .collect();
        f.debug_struct("ConnectionArgs")
            .field(
                "base_url",
                &self
                    .base_url
                    .as_deref()
                    .map(boxauth::internal::mask::url_password),
            )
            .field(
                "oauth2_url",
                &self
                    .oauth2_url
                    .as_deref()
                    .map(boxauth::internal::mask::url_password),
            )
            .field("ca_file", &self.ca_file)
            .field("headers", &names)
            .finish()
    }
}

impl ConnectionArgs {
    /// The URLs: a flag or variable wins, then `fallback` (an environment's), then Box's.
    pub fn urls(
        &self,
        fallback_base: Option<&str>,
        fallback_oauth2: Option<&str>,
    ) -> boxauth::Result<BoxUrls> {
        let base = self
            .base_url
            .as_deref()
            .or(fallback_base)
            .unwrap_or(DEFAULT_BASE_URL);
        let oauth2 = self
            .oauth2_url
            .as_deref()
            .or(fallback_oauth2)
            .unwrap_or(DEFAULT_OAUTH2_URL);
        BoxUrls::new(base, oauth2)
    }

    /// A session for these URLs (with the `--header`s on every request).
    pub fn session_for(&self, urls: BoxUrls) -> boxauth::Result<NetworkSession> {
        let mut builder = NetworkSession::builder().urls(urls);
        for (name, value) in self.extra_headers()? {
            builder = builder.header(name, value);
        }
        if let Some(path) = &self.ca_file {
            let pem = boxauth::internal::private_file::read_regular(
                path,
                boxauth::internal::private_file::MAX_CONFIG_BYTES,
            )
            .map_err(|e| {
                ConfigError::new(
                    ConfigErrorKind::Unreadable,
                    format!("cannot read the CA file {} (--ca-file)", path.display()),
                )
                .with_source(e)
            })?;
            builder = builder.add_root_certificates(pem);
        }
        builder
            .build()
            .map_err(|error| match (&self.ca_file, error) {
                (Some(path), boxauth::Error::Config(config)) => ConfigError::new(
                    config.kind(),
                    format!("--ca-file {}: {}", path.display(), config.message()),
                )
                .into(),
                (_, error) => error,
            })
    }

    /// A session for Box, or the URLs given on the command line.
    pub fn session(&self) -> boxauth::Result<NetworkSession> {
        self.session_for(self.urls(None, None)?)
    }

    /// `--header` values split into name and value.
    pub fn extra_headers(&self) -> boxauth::Result<Vec<(String, String)>> {
        self.headers
            .iter()
            .enumerate()
            .map(|(index, header)| match header.split_once(':') {
                Some((name, value)) if !name.trim().is_empty() => {
                    Ok((name.trim().to_owned(), value.trim().to_owned()))
                }
                // The text may be a credential written wrongly ('Authorization=Bearer …'): it is
                // not repeated.
                _ => Err(boxauth::Error::config(format!(
                    "--header number {} ({} characters, not shown: it may hold a credential) \
                     must look like 'Name: value', with a colon after the name",
                    index + 1,
                    header.chars().count()
                ))),
            })
            .collect()
    }
}
