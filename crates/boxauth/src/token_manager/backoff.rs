//! When to try again after a failed refresh, so that a Box outage costs Box one attempt per
//! interval instead of one per caller.
//!
//! - While a valid token exists, no new refresh starts for the back-off interval (default 30 s,
//!   lengthened at random by up to half, so a fleet does not retry in step), as aws-config's SSO
//!   provider does with `MIN_TIME_BETWEEN_REFRESH`.
//! - Without one, callers need an attempt to get anything, so the wait is short at first and grows:
//!   1 s after the first failure, doubling with each one after it, never more than the interval.
//!   Callers arriving meanwhile get the last attempt's error at once instead of a new attempt.
//! - A `Retry-After` from Box (a 429 or a 503) lengthens both waits to at least what it asks,
//!   up to 10 minutes (a larger value is a broken or hostile answer).

use std::time::{Duration, SystemTime};

use crate::error::Error;
use crate::network::parse_retry_after;
use crate::time::saturating_add;

/// No new refresh for this long after a failure while a valid token exists.
pub const DEFAULT_REFRESH_BACKOFF: Duration = Duration::from_secs(30);

/// The first wait after a failure when no valid token exists.
const FIRST_WAIT_WITHOUT_TOKEN: Duration = Duration::from_secs(1);

/// The longest `Retry-After` believed.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// What the last refreshes say about the next one.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    /// Refreshes failed in a row.
    failures: u32,
    /// The last failure, for callers that arrive before the next attempt may start.
    last_error: Option<Error>,
    /// No refresh starts for a caller holding a valid token before this.
    quiet_until: Option<SystemTime>,
    /// No attempt starts for a caller without a valid token before this.
    retry_at: Option<SystemTime>,
}

impl Backoff {
    /// A refresh failed at `now` with `error`; `interval` is the configured back-off and `unit`
    /// a random value in `[0, 1)` for the jitter.
    pub(crate) fn failed(&mut self, now: SystemTime, error: &Error, interval: Duration, unit: f64) {
        self.failures = self.failures.saturating_add(1);
        let jitter = 1.0 + 0.5 * unit.clamp(0.0, 1.0);
        let doubling = 2u32.saturating_pow(self.failures - 1);
        let without_token = FIRST_WAIT_WITHOUT_TOKEN
            .saturating_mul(doubling)
            .min(interval);
        let asked = retry_after(error, now).unwrap_or(Duration::ZERO);
        let wait = |base: Duration| base.mul_f64(jitter).max(asked);
        self.quiet_until = Some(saturating_add(now, wait(interval)));
        self.retry_at = Some(saturating_add(now, wait(without_token)));
        self.last_error = Some(error.clone());
    }

    /// A refresh succeeded (or a token arrived another way): no back-off.
    pub(crate) fn succeeded(&mut self) {
        *self = Self::default();
    }

    /// Whether a caller holding a valid token may start a refresh at `now`.
    pub(crate) fn allows_refresh(&self, now: SystemTime) -> bool {
        self.quiet_until.is_none_or(|until| now >= until)
    }

    /// The last failure, if a caller without a valid token must not start an attempt at `now`.
    pub(crate) fn pending_error(&self, now: SystemTime) -> Option<&Error> {
        match self.retry_at {
            Some(at) if now < at => self.last_error.as_ref(),
            _ => None,
        }
    }

    /// When a refresh may start again for a caller holding a valid token.
    pub(crate) fn quiet_until(&self) -> Option<SystemTime> {
        self.quiet_until
    }
}

/// The wait Box asked for with `Retry-After`, at most [`MAX_RETRY_AFTER`].
fn retry_after(error: &Error, now: SystemTime) -> Option<Duration> {
    let value = error.as_api()?.retry_after.as_deref()?;
    parse_retry_after(value, now).map(|wait| wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + seconds)
    }

    fn box_error(retry_after: Option<&str>) -> Error {
        Error::Api(Box::new(ApiError {
            status: 503,
            error: None,
            error_description: None,
            request_id: None,
            retry_after: retry_after.map(str::to_owned),
            date: None,
            raw_body: String::new(),
        }))
    }

    #[test]
    fn with_a_valid_token_no_refresh_for_the_interval_plus_jitter() {
        let mut backoff = Backoff::default();
        assert!(backoff.allows_refresh(at(0)));
        backoff.failed(at(0), &box_error(None), Duration::from_secs(30), 0.0);
        assert!(!backoff.allows_refresh(at(29)));
        assert!(backoff.allows_refresh(at(30)));
        backoff.failed(at(0), &box_error(None), Duration::from_secs(30), 0.999);
        assert!(!backoff.allows_refresh(at(44)));
        assert!(backoff.allows_refresh(at(45)));
        backoff.succeeded();
        assert!(backoff.allows_refresh(at(0)));
        assert!(backoff.pending_error(at(0)).is_none());
    }

    #[test]
    fn without_a_token_the_wait_starts_at_a_second_and_doubles_up_to_the_interval() {
        let mut backoff = Backoff::default();
        let interval = Duration::from_secs(30);
        let mut waits = Vec::new();
        for _ in 0..7 {
            backoff.failed(at(0), &box_error(None), interval, 0.0);
            let wait = (0..100).find(|s| backoff.pending_error(at(*s)).is_none());
            waits.push(wait.unwrap());
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(
            backoff.pending_error(at(0)).and_then(Error::status),
            Some(503),
            "callers meanwhile get the last error"
        );
    }

    #[test]
    fn retry_after_lengthens_both_waits_up_to_ten_minutes() {
        let mut backoff = Backoff::default();
        backoff.failed(at(0), &box_error(Some("120")), Duration::from_secs(30), 0.0);
        assert!(!backoff.allows_refresh(at(119)));
        assert!(backoff.allows_refresh(at(120)));
        assert!(backoff.pending_error(at(119)).is_some());
        assert!(backoff.pending_error(at(120)).is_none());
        backoff.failed(
            at(0),
            &box_error(Some("999999999")),
            Duration::from_secs(30),
            0.0,
        );
        assert!(backoff.allows_refresh(at(600)), "capped at 10 minutes");
    }
}
