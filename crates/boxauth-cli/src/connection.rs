//! The options every command that talks to Box shares: where Box is, which CA to trust, and extra
//! headers.

use std::path::PathBuf;
use std::sync::Arc;

use boxauth::{
    AuthConfig, AuthOptions, Authentication, BoxUrls, ConfigError, ConfigErrorKind,
    DEFAULT_BASE_URL, DEFAULT_OAUTH2_URL, NetworkSession, NetworkSessionBuilder, RetryPolicy,
};
use clap::Args;

/// Where to send requests. Each setting comes from its flag, else its variable (`BOX_BASE_URL`,
/// `BOX_OAUTH2_URL`, `BOX_CA_FILE`), else the environment or config in use, else Box's.
#[derive(Clone, Args)]
#[command(next_help_heading = "Connection options")]
pub struct ConnectionArgs {
    /// Box's API host (or BOX_BASE_URL) [default: the environment's, else https://api.box.com].
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,

    /// Box's OAuth 2.0 host (or BOX_OAUTH2_URL) [default: the environment's, else
    /// https://account.box.com/api/oauth2].
    #[arg(long = "oauth2-url", global = true, value_name = "URL")]
    pub oauth2_url: Option<String>,

    /// Trust this CA certificate (PEM) for https, as well as the system's (or BOX_CA_FILE): a
    /// TLS-inspecting corporate proxy, or `boxauth emulator --tls`.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// A header to add to the request, as 'Name: value' (repeatable).
    #[arg(
        long = "header",
        short = 'H',
        global = true,
        value_name = "'NAME: VALUE'"
    )]
    pub headers: Vec<String>,

    /// How failed requests are retried, when a command asks for other than the library's
    /// default (`doctor` tries twice: a diagnosis should not wait out a long back-off).
    #[arg(skip)]
    pub retry: Option<RetryPolicy>,
}

/// A setting's value and what gave it: its flag, or its variable.
pub struct Given<T> {
    /// The value.
    pub value: T,
    /// `--base-url`, `BOX_BASE_URL`, …
    pub from: &'static str,
}

/// `flag`'s value, else the variable `var`'s (an empty variable counts as unset).
fn given<T: Clone>(
    flag: &Option<T>,
    flag_name: &'static str,
    var: &'static str,
    parse: impl Fn(String) -> T,
) -> Option<Given<T>> {
    match flag {
        Some(value) => Some(Given {
            value: value.clone(),
            from: flag_name,
        }),
        None => std::env::var(var)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| Given {
                value: parse(v),
                from: var,
            }),
    }
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
            .field("retry", &self.retry)
            .finish()
    }
}

impl ConnectionArgs {
    /// The base URL from `--base-url` or `BOX_BASE_URL`.
    pub fn base_url(&self) -> Option<Given<String>> {
        given(&self.base_url, "--base-url", "BOX_BASE_URL", |v| v)
    }

    /// The OAuth 2.0 URL from `--oauth2-url` or `BOX_OAUTH2_URL`.
    pub fn oauth2_url(&self) -> Option<Given<String>> {
        given(&self.oauth2_url, "--oauth2-url", "BOX_OAUTH2_URL", |v| v)
    }

    /// The CA file from `--ca-file` or `BOX_CA_FILE`.
    pub fn ca_file(&self) -> Option<Given<PathBuf>> {
        given(&self.ca_file, "--ca-file", "BOX_CA_FILE", PathBuf::from)
    }

    /// Settles where `config` sends requests: a flag, else its variable, wins over the config's
    /// own URLs and CA. Returns what gave the base URL, for the hints after an error.
    pub fn apply(&self, config: &mut AuthConfig) -> &'static str {
        if let Some(url) = self.oauth2_url() {
            config.oauth2_url = Some(url.value);
        }
        if let Some(path) = self.ca_file() {
            config.ca_file = Some(path.value);
        }
        match self.base_url() {
            Some(url) => {
                config.base_url = Some(url.value);
                url.from
            }
            None if config.base_url.is_some() => "the environment",
            None => "the default",
        }
    }

    /// The auth `config` describes, sent as this command line says (its URLs, CA and headers):
    /// every command builds its auth here, from an `AuthConfig`. `config` is left as it was sent.
    pub fn build(&self, config: &mut AuthConfig) -> boxauth::Result<Arc<dyn Authentication>> {
        let from = self.apply(config);
        let session = self.finish(config.session_builder())?;
        crate::output::context(|c| {
            c.base_url = Some((session.urls().base_url().to_owned(), from.to_owned()));
        });
        let mut options = AuthOptions::default().session(session);
        if let Some(storage) = crate::keychain_tokens::storage_for(config)? {
            options = options.shared_storage(storage);
        }
        config.build_with(options)
    }

    /// The session for `config` (its URLs and CA settled by [`apply`](Self::apply)), with the
    /// `--header`s.
    pub fn session_for(&self, config: &AuthConfig) -> boxauth::Result<NetworkSession> {
        self.finish(config.session_builder())
    }

    /// A session for Box, or the URLs and CA given on the command line (no auth method: the
    /// `api` commands).
    pub fn session(&self) -> boxauth::Result<NetworkSession> {
        let base_url = self.base_url();
        let oauth2_url = self.oauth2_url();
        let urls = BoxUrls::new(
            base_url.as_ref().map_or(DEFAULT_BASE_URL, |url| &url.value),
            oauth2_url
                .as_ref()
                .map_or(DEFAULT_OAUTH2_URL, |url| &url.value),
        )?;
        let builder = NetworkSession::builder().urls(urls);
        let session = self.finish(match self.ca_file() {
            Some(path) => builder.add_root_certificates_file(&path.value),
            None => Ok(builder),
        })?;
        let from = base_url.map_or("the default", |url| url.from);
        crate::output::context(|c| {
            c.base_url = Some((session.urls().base_url().to_owned(), from.to_owned()));
        });
        Ok(session)
    }

    /// `builder` with the `--header`s, built; an error about the CA names the flag or variable
    /// that gave it (the CA file could not be read, or `build` refused its certificates).
    fn finish(
        &self,
        builder: boxauth::Result<NetworkSessionBuilder>,
    ) -> boxauth::Result<NetworkSession> {
        let headers = self.extra_headers()?;
        let ca = self.ca_file();
        let about_the_ca = |error: boxauth::Error| match (&ca, error) {
            (Some(ca), boxauth::Error::Config(config)) => ConfigError::new(
                config.kind(),
                format!("{} {} cannot be used", ca.from, ca.value.display()),
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
        if let Some(retry) = &self.retry {
            builder = builder.retry_policy(retry.clone());
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
