//! When to try a request again, and how long to wait first.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How failed requests are retried: on 429 (honouring `Retry-After`), on 5xx and on transport
/// failures, with exponential backoff and jitter. Other 4xx answers are never retried.
///
/// The defaults are those of Box's SDKs: at most 5 attempts, a 1 s base delay doubling each time,
/// ±50% jitter.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first one included. `1` means no retry.
    pub max_attempts: u32,
    /// The wait before the first retry, before jitter.
    pub base_delay: Duration,
    /// What each further wait is multiplied by.
    pub factor: f64,
    /// The random spread applied to each wait: `0.5` means ±50%.
    pub jitter: f64,
    /// The longest boxauth waits before a retry. A `Retry-After` asking for more than this is not
    /// waited out: the 429 is returned to the caller instead.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            factor: 2.0,
            jitter: 0.5,
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Attempts in all, the first one included (`1`: no retry).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// The wait before the first retry, before jitter.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// What each further wait is multiplied by.
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// The random spread of each wait (`0.5`: ±50%).
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// The longest wait before a retry; a longer `Retry-After` returns the answer instead.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Whether a request that got no answer is worth another attempt: yes for timeouts, refused
    /// or dropped connections; no when the server's TLS certificate was refused (the same
    /// certificate is refused again: give the CA with `add_root_certificates` instead).
    pub fn retries_transport_error(error: &reqwest::Error) -> bool {
        !certificate_refused(error)
    }

    /// Whether an answer with this status is worth another attempt.
    pub fn retries_status(status: StatusCode) -> bool {
        status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
    }

    /// The backoff before retry number `retry` (1 for the first retry), before jitter and cap.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let seconds = self.base_delay.as_secs_f64() * self.factor.powi(exponent);
        duration_from_secs(seconds).min(self.max_delay)
    }

    /// The wait before retry number `retry`, with jitter drawn from `unit` (a value in `[0, 1)`).
    pub(crate) fn jittered_backoff(&self, retry: u32, unit: f64) -> Duration {
        let jitter = self.jitter.clamp(0.0, 1.0);
        let scale = 1.0 - jitter + 2.0 * jitter * unit;
        duration_from_secs(self.backoff(retry).as_secs_f64() * scale).min(self.max_delay)
    }
}

fn duration_from_secs(seconds: f64) -> Duration {
    if seconds.is_finite() && seconds > 0.0 {
        Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
    } else {
        Duration::ZERO
    }
}

/// The wait a `Retry-After` header asks for: delay-seconds (a decimal is accepted too) or an
/// HTTP date. `None` when the header is absent or unreadable.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, now)
}

/// A `Retry-After` value: delay-seconds (a decimal is accepted too) or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds >= 0.0).then(|| duration_from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether a TLS certificate error is among `error`'s causes.
pub(crate) fn certificate_refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(inner) = cause {
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_)
                    | rustls::Error::NoCertificatesPresented
                    | rustls::Error::UnsupportedNameType
            );
        }
        // An io::Error's source() skips the error it wraps (rustls's, inside one or two
        // io::Errors on the way up), and an error shared in an Arc (redis's) is that Arc to
        // downcast_ref: follow the wrapped one.
        type Shared = std::sync::Arc<dyn std::error::Error + Send + Sync>;
        cause = if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            io.get_ref().map(|wrapped| wrapped as _)
        } else if let Some(shared) = inner.downcast_ref::<Shared>() {
            Some(&**shared as _)
        } else {
            inner.source()
        };
    }
    false
}

/// A uniformly distributed value in `[0, 1)` from the system's secure generator.
pub(crate) fn unit_random() -> f64 {
    let mut bytes = [0u8; 8];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        return 0.5;
    }
    // 53 random bits make every representable value in [0, 1) equally likely.
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn backoff_doubles_from_the_base_and_is_capped() {
        let policy = RetryPolicy::default();
        let waits: Vec<_> = (1..=4).map(|n| policy.backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8]);
        assert_eq!(policy.backoff(40), Duration::from_secs(60));
    }

    #[test]
    fn jitter_spreads_fifty_percent_each_way() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.jittered_backoff(2, 0.0), Duration::from_secs(1));
        assert_eq!(policy.jittered_backoff(2, 0.5), Duration::from_secs(2));
        assert_eq!(policy.jittered_backoff(2, 1.0), Duration::from_secs(3));
        let unit = unit_random();
        assert!((0.0..1.0).contains(&unit));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_784_000_000);
        assert_eq!(
            retry_after(&headers("3"), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(&headers("0.5"), now),
            Some(Duration::from_millis(500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(
            retry_after(&headers(&later), now),
            Some(Duration::from_secs(7))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(retry_after(&headers(&past), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&headers("-1"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn only_429_and_5xx_are_retried() {
        assert!(RetryPolicy::retries_status(StatusCode::TOO_MANY_REQUESTS));
        assert!(RetryPolicy::retries_status(StatusCode::BAD_GATEWAY));
        assert!(!RetryPolicy::retries_status(StatusCode::BAD_REQUEST));
        assert!(!RetryPolicy::retries_status(StatusCode::UNAUTHORIZED));
    }
}
