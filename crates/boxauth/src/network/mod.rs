//! The one place a request is sent, retried and its error decoded.

mod builder;
mod decode;
pub(crate) mod form;
mod retry;

use std::sync::Arc;
use std::time::SystemTime;

use reqwest::header::{
    AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT,
};
use reqwest::{Method, StatusCode};
use zeroize::Zeroizing;

pub use builder::NetworkSessionBuilder;
pub use retry::RetryPolicy;

use crate::error::{Error, Result};
use crate::internal::mask;
use crate::urls::BoxUrls;

pub(crate) use decode::{decode_error, parse_json_body, unprintable_token};
pub(crate) use retry::{certificate_refused, parse_retry_after, unit_random};

/// boxauth's `User-Agent`: `boxauth-rust/<version>`.
pub const USER_AGENT_VALUE: &str = concat!("boxauth-rust/", env!("CARGO_PKG_VERSION"));
/// boxauth's `X-Box-UA`: `agent=boxauth-rust/<version>; env=Rust/<rustc version>`.
pub const X_BOX_UA_VALUE: &str = concat!(
    "agent=boxauth-rust/",
    env!("CARGO_PKG_VERSION"),
    "; env=Rust/",
    env!("BOXAUTH_RUSTC_VERSION")
);
/// The content type of every token and revoke request.
pub(crate) const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// What Box's SDK declares on its bodyless `GET /authorize` (its default content type).
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json";

/// Which proxy requests go through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyConfig {
    /// The `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` environment variables.
    #[default]
    FromEnvironment,
    /// Connect directly, whatever the environment says.
    None,
    /// Every request through this proxy (`http://user:password@host:port` carries credentials).
    Url(String),
}

/// Sends requests to Box: one connection pool, the base URLs, timeouts, the retry policy and the
/// headers added to every request. Cloning is cheap and shares the pool.
///
/// ```no_run
/// # use std::time::Duration;
/// # use boxauth::{BoxUrls, NetworkSession, RetryPolicy};
/// let session = NetworkSession::builder()
///     .urls(BoxUrls::new("http://127.0.0.1:8080", "http://127.0.0.1:8080/api/oauth2")?)
///     .timeout(Duration::from_secs(30))
///     .retry_policy(RetryPolicy::default().max_attempts(3))
///     .build()?;
/// # Ok::<(), boxauth::Error>(())
/// ```
#[derive(Clone)]
pub struct NetworkSession {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    urls: BoxUrls,
    retry: RetryPolicy,
    headers: HeaderMap,
}

impl std::fmt::Debug for NetworkSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Additional headers may carry credentials: show their names only.
        let header_names: Vec<&str> = self.inner.headers.keys().map(HeaderName::as_str).collect();
        f.debug_struct("NetworkSession")
            .field("urls", &self.inner.urls)
            .field("retry", &self.inner.retry)
            .field("headers", &header_names)
            .finish_non_exhaustive()
    }
}

/// A request as the managers describe it; [`NetworkSession`] adds the rest.
pub(crate) struct Outgoing<'a> {
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) form: Option<Zeroizing<String>>,
    /// The `Content-Type` header, if any.
    pub(crate) content_type: Option<&'static str>,
    pub(crate) extra_headers: &'a [(String, String)],
    pub(crate) bearer: Option<&'a str>,
}

impl Outgoing<'_> {
    /// The secrets this request carries (a server may echo them in its error text).
    fn sent_secrets(&self) -> Vec<Zeroizing<String>> {
        let mut secrets = self
            .form
            .as_ref()
            .map(|form| mask::form_secrets(form))
            .unwrap_or_default();
        secrets.extend(self.bearer.map(|b| Zeroizing::new(b.to_owned())));
        secrets
    }
}

/// A successful (status below 400) answer.
pub(crate) struct Incoming {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    /// The body was larger than [`MAX_RESPONSE_BYTES`] and was not read to its end.
    pub(crate) too_large: bool,
}

impl NetworkSession {
    /// A builder with Box's defaults.
    pub fn builder() -> NetworkSessionBuilder {
        NetworkSessionBuilder::default()
    }

    /// A session with every default: Box's URLs, the default retry policy and timeouts.
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }

    /// The base URLs requests are built from.
    pub fn urls(&self) -> &BoxUrls {
        &self.inner.urls
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Sends `request`, retrying per the policy; any status of 400 or more becomes an error.
    pub(crate) async fn send(&self, request: Outgoing<'_>) -> Result<Incoming> {
        let headers = self.headers_for(&request)?;
        if tracing::enabled!(tracing::Level::DEBUG) {
            let form = request
                .form
                .as_ref()
                .map(|f| mask::form(f))
                .unwrap_or_default();
            let bearer = if request.bearer.is_some() {
                " (Authorization: Bearer ***)"
            } else {
                ""
            };
            tracing::debug!(
                "→ {} {}{bearer} {form}",
                request.method,
                mask::url(&request.url)
            );
        }
        let policy = &self.inner.retry;
        let max_attempts = policy.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let mut builder = self
                .inner
                .client
                .request(request.method.clone(), &request.url)
                .headers(headers.clone());
            if let Some(form) = &request.form {
                builder = builder.body(form.as_bytes().to_vec());
            }
            let outcome = match builder.send().await {
                Ok(response) => read(response).await,
                Err(error) => Err(error),
            };
            let retry_in = match &outcome {
                Ok(incoming) if RetryPolicy::retries_status(incoming.status) => {
                    match retry::retry_after(&incoming.headers, SystemTime::now()) {
                        Some(wait) if wait > policy.max_delay => None,
                        Some(wait) => Some(wait),
                        None => Some(policy.jittered_backoff(attempt, retry::unit_random())),
                    }
                }
                Ok(_) => None,
                Err(error) if RetryPolicy::retries_transport_error(error) => {
                    Some(policy.jittered_backoff(attempt, retry::unit_random()))
                }
                Err(_) => None,
            };
            match (retry_in, outcome) {
                (Some(wait), outcome) if attempt < max_attempts => {
                    match &outcome {
                        Ok(incoming) => tracing::debug!(
                            method = %request.method, url = %mask::url_password(without_query(&request.url)),
                            status = incoming.status.as_u16(), attempt, wait_ms = wait.as_millis() as u64,
                            "retrying after an answer that may succeed later"
                        ),
                        Err(error) => tracing::debug!(
                            method = %request.method, url = %mask::url_password(without_query(&request.url)),
                            error = %error.without_url_ref(), attempt, wait_ms = wait.as_millis() as u64,
                            "retrying after a transport failure"
                        ),
                    }
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                (_, Ok(incoming)) => {
                    if incoming.too_large {
                        return Err(decode::too_large(&incoming, MAX_RESPONSE_BYTES));
                    }
                    tracing::debug!("← {} {}", incoming.status, mask::body(&incoming.body));
                    if incoming.status.as_u16() >= 400 {
                        return Err(decode_error(&incoming, &request.sent_secrets()));
                    }
                    return Ok(incoming);
                }
                (_, Err(error)) => return Err(Error::network(&request.url, error)),
            }
        }
    }

    fn headers_for(&self, request: &Outgoing<'_>) -> Result<HeaderMap> {
        let mut headers = self.inner.headers.clone();
        for (name, value) in header_map(request.extra_headers)? {
            if let Some(name) = name {
                headers.insert(name, value);
            }
        }
        if let Some(token) = request.bearer {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                Error::config("the access token holds characters that cannot go in an HTTP header")
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        headers.insert(
            HeaderName::from_static("x-box-ua"),
            HeaderValue::from_static(X_BOX_UA_VALUE),
        );
        if let Some(content_type) = request.content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        Ok(headers)
    }
}

/// The largest answer boxauth reads. Box's token answers are a few KiB; a larger body is a wrong
/// URL, or a hostile or broken server, and is not read into memory.
pub(crate) const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Reads the answer, stopping at [`MAX_RESPONSE_BYTES`] (`too_large` then says so and the body
/// holds what was read).
async fn read(mut response: reqwest::Response) -> reqwest::Result<Incoming> {
    let status = response.status();
    let headers = response.headers().clone();
    let announced = response.content_length().unwrap_or(0);
    let mut body = Vec::with_capacity(usize::try_from(announced).map_or(0, |n| n.min(64 * 1024)));
    let mut too_large = announced > MAX_RESPONSE_BYTES as u64;
    while !too_large && let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            too_large = true;
        } else {
            body.extend_from_slice(&chunk);
        }
    }
    Ok(Incoming {
        status,
        headers,
        body,
        too_large,
    })
}

fn header_map(pairs: &[(String, String)]) -> Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        let header_name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| Error::config(format!("{name:?} is not a valid HTTP header name")))?;
        // The value may be a credential: never repeat it in the message.
        let mut header_value = HeaderValue::from_str(value.trim()).map_err(|_| {
            Error::config(format!(
                "the value of header {name:?} holds characters that cannot go in an HTTP header"
            ))
        })?;
        header_value.set_sensitive(true);
        headers.insert(header_name, header_value);
    }
    Ok(headers)
}

fn without_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

trait WithoutUrlRef {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrlRef for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut message = self.to_string();
        if let Some(url) = self.url() {
            message = message.replace(
                url.as_str(),
                &mask::url_password(without_query(url.as_str())),
            );
        }
        message
    }
}
