//! Building a [`NetworkSession`]: URLs, retries, timeouts, proxy, headers, trust.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{Inner, NetworkSession, ProxyConfig, RetryPolicy, USER_AGENT_VALUE, header_map};
use crate::error::{ConfigError, ConfigErrorKind, Error, Result};
use crate::urls::BoxUrls;

/// Builds a [`NetworkSession`].
#[derive(Clone)]
pub struct NetworkSessionBuilder {
    urls: BoxUrls,
    retry: RetryPolicy,
    connect_timeout: Duration,
    timeout: Duration,
    proxy: ProxyConfig,
    headers: Vec<(String, String)>,
    roots: Vec<Vec<u8>>,
    client: Option<reqwest::Client>,
}

impl fmt::Debug for NetworkSessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may be credentials: their names only.
        let header_names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("NetworkSessionBuilder")
            .field("urls", &self.urls)
            .field("retry", &self.retry)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("proxy", &self.proxy)
            .field("headers", &header_names)
            .field("extra_root_pem_files", &self.roots.len())
            .field("caller_built_client", &self.client.is_some())
            .finish()
    }
}

impl Default for NetworkSessionBuilder {
    fn default() -> Self {
        Self {
            urls: BoxUrls::default(),
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            proxy: ProxyConfig::default(),
            headers: Vec::new(),
            roots: Vec::new(),
            client: None,
        }
    }
}

impl NetworkSessionBuilder {
    /// Where requests go (default: Box).
    pub fn urls(mut self, urls: BoxUrls) -> Self {
        self.urls = urls;
        self
    }

    /// How failures are retried (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The longest a TCP + TLS connect may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest one attempt may take, from sending to the end of the body (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The proxy (default: from the environment).
    pub fn proxy(mut self, proxy: ProxyConfig) -> Self {
        self.proxy = proxy;
        self
    }

    /// A header added to every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Trusts the CA certificates in `pem` (one or more `-----BEGIN CERTIFICATE-----` blocks) as
    /// well as the system's: for Box behind a TLS-inspecting corporate proxy, or the emulator's
    /// `https://`. Checked by [`build`](Self::build).
    pub fn add_root_certificates(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.roots.push(pem.as_ref().to_vec());
        self
    }

    /// Trusts the CA certificates in the PEM file at `path`, as
    /// [`add_root_certificates`](Self::add_root_certificates) does; the file must be a regular
    /// file of at most 1 MiB.
    pub fn add_root_certificates_file(self, path: impl AsRef<std::path::Path>) -> Result<Self> {
        let pem = crate::internal::private_file::read_config(path.as_ref(), "the CA file")?;
        Ok(self.add_root_certificates(pem))
    }

    /// Sends every request through `client`, built by you (your own TLS settings, pool or
    /// resolver). The session's own connection settings (timeouts, proxy, extra roots) then do
    /// not apply: set them on `client`. Give it `redirect(reqwest::redirect::Policy::none())`:
    /// boxauth's own client never follows a redirect, since a token request answered with one
    /// would be replayed to another host.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// The session, or an error naming the setting that is wrong.
    pub fn build(self) -> Result<NetworkSession> {
        let headers = header_map(&self.headers)?;
        let client = match self.client {
            Some(_) if !self.roots.is_empty() => {
                return Err(Error::config_kind(
                    ConfigErrorKind::Conflict,
                    "extra root certificates and a caller-built HTTP client were both given: add \
                     the certificates to the client you build (reqwest::ClientBuilder::tls_certs_merge)",
                ));
            }
            Some(client) => client,
            None => Self::client(self.connect_timeout, self.timeout, &self.proxy, &self.roots)?,
        };
        Ok(NetworkSession {
            inner: Arc::new(Inner {
                client,
                urls: self.urls,
                retry: self.retry,
                headers,
            }),
        })
    }

    fn client(
        connect_timeout: Duration,
        timeout: Duration,
        proxy: &ProxyConfig,
        roots: &[Vec<u8>],
    ) -> Result<reqwest::Client> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            .user_agent(USER_AGENT_VALUE);
        builder = match proxy {
            ProxyConfig::FromEnvironment => builder,
            ProxyConfig::None => builder.no_proxy(),
            ProxyConfig::Url(url) => {
                builder.proxy(reqwest::Proxy::all(url.as_str()).map_err(|e| {
                    ConfigError::new(
                    ConfigErrorKind::Invalid,
                    "the proxy URL is not valid; give one such as http://proxy.example.com:3128",
                )
                .with_source(e)
                })?)
            }
        };
        let mut certificates = Vec::new();
        for pem in roots {
            let found = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                ConfigError::new(
                    ConfigErrorKind::Invalid,
                    "a root certificate is not valid PEM; give the CA's -----BEGIN CERTIFICATE----- file",
                )
                .with_source(e)
            })?;
            if found.is_empty() {
                return Err(Error::config(
                    "a root certificate file holds no certificate; give the CA's -----BEGIN \
                     CERTIFICATE----- file",
                ));
            }
            certificates.extend(found);
        }
        if !certificates.is_empty() {
            builder = builder.tls_certs_merge(certificates);
        }
        builder.build().map_err(|e| {
            ConfigError::new(ConfigErrorKind::Invalid, "could not set up the HTTP client")
                .with_source(e)
                .into()
        })
    }
}
