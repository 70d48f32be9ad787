//! The request log: one record per exchange (method, path, grant type, client ID, the Box user it
//! concerned, status, Box's `error` and `error_description`, duration, request ID), so a developer
//! whose client is refused sees what arrived and what was answered, and a test with many users
//! sees whose token each grant issued, refused or revoked. Printed as text or JSON lines, and the recent ones
//! kept for `GET /__emulator/requests` and [`EmulatorHandle::requests`](crate::EmulatorHandle::requests).
//!
//! No secret is ever recorded: no body, no header value, and a query's secret parameters
//! (`state`, `code`, …) masked by boxauth's masker. What a client sent is shortened and its control
//! characters escaped, so a hostile client cannot write into the developer's terminal.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// How exchanges are printed on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// One readable line per exchange.
    Text,
    /// One JSON object per line, the fields of [`Exchange`].
    Json,
}

/// One request and its answer.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Exchange {
    /// When it arrived, on the emulator's clock (an HTTP date, as Box's `Date` header).
    pub at: String,
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, with the query's secrets masked.
    pub path: String,
    /// The `grant_type` of a token request.
    pub grant_type: Option<String>,
    /// The `client_id` a token or revoke request named.
    pub client_id: Option<String>,
    /// The Box user ID the exchange concerned: whom a token grant issued a token for (or, refused,
    /// whom the refresh token, code or subject token it was given belongs to, when known), who
    /// approved the app on the consent page, whose token a revoke named.
    pub user_id: Option<String>,
    /// The status answered.
    pub status: u16,
    /// Box's `error`, when refused.
    pub error: Option<String>,
    /// Box's `error_description`, when refused.
    pub error_description: Option<String>,
    /// How long the answer took, in milliseconds.
    pub duration_ms: f64,
    /// The `box-request-id` of the answer.
    pub request_id: String,
}

/// What a token or revoke handler adds to its answer for the log (when the log is on).
#[derive(Debug, Clone, Default)]
pub(crate) struct Detail {
    pub(crate) grant_type: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) user_id: Option<String>,
}

impl Detail {
    /// The details of a token or revoke request's `params`.
    pub(crate) fn of(params: &crate::grants::Params) -> Self {
        Self {
            grant_type: params.get("grant_type").map(shown),
            client_id: params.get("client_id").map(shown),
            user_id: None,
        }
    }

    /// The same details, about `user` (a user ID the emulator itself holds: nothing to tame).
    pub(crate) fn about(mut self, user: Option<std::sync::Arc<str>>) -> Self {
        self.user_id = user.map(|user| user.to_string());
        self
    }
}

/// The longest text kept from what a client sent.
const MAX_TEXT: usize = 120;

/// `text` as it may be printed: at most [`MAX_TEXT`] characters, control characters escaped.
pub(crate) fn shown(text: &str) -> String {
    boxauth::internal::mask::printable(text, MAX_TEXT)
}

/// The log of one emulator.
#[derive(Debug)]
pub(crate) struct RequestLog {
    format: Option<LogFormat>,
    keep: usize,
    recent: Mutex<VecDeque<Exchange>>,
}

impl RequestLog {
    pub(crate) fn new(format: Option<LogFormat>, keep: usize) -> Self {
        Self {
            format,
            keep,
            recent: Mutex::new(VecDeque::with_capacity(keep.min(1024))),
        }
    }

    /// Whether anything is recorded (handlers skip their details otherwise).
    pub(crate) fn enabled(&self) -> bool {
        self.format.is_some() || self.keep > 0
    }

    /// Prints and keeps `exchange`.
    pub(crate) fn record(&self, exchange: Exchange) {
        match self.format {
            Some(LogFormat::Text) => eprintln!("{}", text_line(&exchange)),
            Some(LogFormat::Json) => {
                if let Ok(line) = serde_json::to_string(&exchange) {
                    eprintln!("{line}");
                }
            }
            None => {}
        }
        if self.keep > 0 {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            if recent.len() == self.keep {
                recent.pop_front();
            }
            recent.push_back(exchange);
        }
    }

    /// Forgets the recent exchanges.
    pub(crate) fn clear(&self) {
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// The recent exchanges, oldest first.
    pub(crate) fn recent(&self) -> Vec<Exchange> {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.iter().cloned().collect()
    }
}

fn text_line(e: &Exchange) -> String {
    let mut line = format!("{} {} {} {}", e.at, e.method, e.path, e.status);
    if let Some(grant) = &e.grant_type {
        line.push_str(&format!(" grant_type={grant}"));
    }
    if let Some(client) = &e.client_id {
        line.push_str(&format!(" client_id={client}"));
    }
    if let Some(user) = &e.user_id {
        line.push_str(&format!(" user_id={user}"));
    }
    if let Some(error) = &e.error {
        line.push_str(&format!(" error={error}"));
    }
    if let Some(description) = &e.error_description {
        line.push_str(&format!(" error_description={description:?}"));
    }
    line.push_str(&format!(
        " {:.1}ms box-request-id={}",
        e.duration_ms, e.request_id
    ));
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_text_is_tamed() {
        assert_eq!(shown("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(shown(&"x".repeat(500)).chars().count(), MAX_TEXT + 1);
    }

    #[test]
    fn the_log_keeps_the_most_recent() {
        let log = RequestLog::new(None, 2);
        for status in [200, 400, 401] {
            log.record(Exchange {
                at: String::new(),
                method: "POST".into(),
                path: "/oauth2/token".into(),
                grant_type: None,
                client_id: None,
                user_id: None,
                status,
                error: None,
                error_description: None,
                duration_ms: 0.0,
                request_id: String::new(),
            });
        }
        let kept: Vec<u16> = log.recent().iter().map(|e| e.status).collect();
        assert_eq!(kept, [400, 401]);
    }
}
