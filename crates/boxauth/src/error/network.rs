//! A request that never got an answer, and why, as a kind a caller can match.

use std::fmt;
use std::sync::Arc;

/// The request never got an answer: DNS, connect, TLS, a timeout, a dropped connection. The
/// transport's own error (and its causes) is the `source()`.
#[derive(Debug, Clone)]
pub struct NetworkError {
    kind: NetworkErrorKind,
    url: String,
    source: Arc<reqwest::Error>,
}

/// Why a request got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NetworkErrorKind {
    /// It took longer than the session's timeout.
    Timeout,
    /// No connection: the name did not resolve, or the host refused or did not answer.
    Connect,
    /// The server's TLS certificate was refused (not signed by a trusted CA, or for another name).
    Tls,
    /// The answer's body could not be read (the connection dropped mid-body).
    Body,
    /// Anything else the transport reported.
    Other,
}

impl NetworkError {
    /// A failed request to `url` (shown without its query string or password).
    pub(crate) fn new(url: &str, source: reqwest::Error) -> Self {
        let url = crate::internal::mask::url_password(url.split('?').next().unwrap_or(url));
        let source = source.without_url();
        let kind = if source.is_timeout() {
            NetworkErrorKind::Timeout
        } else if crate::network::certificate_refused(&source) {
            NetworkErrorKind::Tls
        } else if source.is_connect() {
            NetworkErrorKind::Connect
        } else if source.is_body() || source.is_decode() {
            NetworkErrorKind::Body
        } else {
            NetworkErrorKind::Other
        };
        Self {
            kind,
            url,
            source: Arc::new(source),
        }
    }

    /// Why the request got no answer.
    pub fn kind(&self) -> NetworkErrorKind {
        self.kind
    }

    /// The URL asked, without its query string or password.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the request timed out.
    pub fn is_timeout(&self) -> bool {
        self.kind == NetworkErrorKind::Timeout
    }

    /// Whether no connection could be made.
    pub fn is_connect(&self) -> bool {
        self.kind == NetworkErrorKind::Connect
    }

    /// Whether the server's TLS certificate was refused.
    pub fn is_tls(&self) -> bool {
        self.kind == NetworkErrorKind::Tls
    }

    /// Whether the answer's body could not be read.
    pub fn is_body(&self) -> bool {
        self.kind == NetworkErrorKind::Body
    }

    /// What to check.
    pub fn hint(&self) -> &'static str {
        match self.kind {
            NetworkErrorKind::Tls => {
                "trust the CA that signed the server's certificate \
                 (NetworkSessionBuilder::add_root_certificates), and use a host name the \
                 certificate carries"
            }
            _ => "check the network, the proxy settings and the base URL",
        }
    }
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            NetworkErrorKind::Timeout => "the request timed out",
            NetworkErrorKind::Connect => "the connection failed",
            NetworkErrorKind::Tls => "the server's TLS certificate was refused",
            NetworkErrorKind::Body => "the response body could not be read",
            NetworkErrorKind::Other => "the request failed",
        };
        write!(f, "could not reach {}: {what}", self.url)
    }
}

impl std::error::Error for NetworkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}
