//! The options every command that talks to Box shares: where Box is, which CA to trust, and extra
//! headers.

use std::path::PathBuf;
use std::sync::Arc;

use boxauth::{
    AuthConfig, AuthOptions, Authentication, BoxUrls, ConfigError, ConfigErrorKind,
    DEFAULT_BASE_URL, DEFAULT_OAUTH2_URL, NetworkSession, NetworkSessionBuilder,
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
    /// Settles where `config` sends requests: a flag (or its variable) wins over the config's
    /// own URLs and CA.
    pub fn apply(&self, config: &mut AuthConfig) {
        if let Some(url) = &self.base_url {
            config.base_url = Some(url.clone());
        }
        if let Some(url) = &self.oauth2_url {
            config.oauth2_url = Some(url.clone());
        }
        if let Some(path) = &self.ca_file {
            config.ca_file = Some(path.clone());
        }
    }

    /// The auth `config` describes, sent as this command line says (its URLs, CA and headers):
    /// every command builds its auth here, from an `AuthConfig`.
    pub fn build(&self, mut config: AuthConfig) -> boxauth::Result<Arc<dyn Authentication>> {
        self.apply(&mut config);
        let session = self.finish(config.session_builder())?;
        config.build_with(AuthOptions::default().session(session))
    }

    /// The session for `config` (its URLs and CA settled by [`apply`](Self::apply)), with the
    /// `--header`s.
    pub fn session_for(&self, config: &AuthConfig) -> boxauth::Result<NetworkSession> {
        self.finish(config.session_builder())
    }

    /// A session for Box, or the URLs and CA given on the command line (no auth method: the
    /// `api` commands).
    pub fn session(&self) -> boxauth::Result<NetworkSession> {
        let urls = BoxUrls::new(
            self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
            self.oauth2_url.as_deref().unwrap_or(DEFAULT_OAUTH2_URL),
        )?;
        let builder = NetworkSession::builder().urls(urls);
        self.finish(match &self.ca_file {
            Some(path) => builder.add_root_certificates_file(path),
            None => Ok(builder),
        })
    }

    /// `builder` with the `--header`s, built; an error about the CA names the flag that gave it
    /// (the CA file could not be read, or `build` refused its certificates).
    fn finish(
        &self,
        builder: boxauth::Result<NetworkSessionBuilder>,
    ) -> boxauth::Result<NetworkSession> {
        let headers = self.extra_headers()?;
        let about_the_ca = |error: boxauth::Error| match (&self.ca_file, error) {
            (Some(path), boxauth::Error::Config(config)) => ConfigError::new(
                config.kind(),
                format!("--ca-file {} cannot be used", path.display()),
            )
            .with_source(config)
            .into(),
            (_, error) => error,
        };
        let mut builder = builder.map_err(|error| {
            if error.config_error_kind() == Some(ConfigErrorKind::Unreadable) {
                about_the_ca(error)
            } else {
                error
            }
        })?;
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        builder.build().map_err(about_the_ca)
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
