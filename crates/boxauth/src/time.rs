//! The clock every expiry decision reads: the cache and its margin, the back-off after a failed
//! refresh, a JWT assertion's `exp`, the expiry written to storage. Injectable, so a test moves
//! time instead of waiting for it (the emulator's `Clock` is one: one `advance()` moves Box and
//! boxauth together).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of "now". Implement it to control the time boxauth sees (tests, simulations); the
/// default is [`SystemTimeSource`].
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::{Duration, SystemTime};
///
/// /// A clock that only moves when told to.
/// #[derive(Debug)]
/// struct Manual(Mutex<SystemTime>);
///
/// impl boxauth::TimeSource for Manual {
///     fn now(&self) -> SystemTime {
///         *self.0.lock().unwrap()
///     }
/// }
///
/// let clock = Arc::new(Manual(Mutex::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000))));
/// let options = boxauth::AuthOptions::default().shared_time_source(clock.clone());
/// # let _ = options;
/// ```
pub trait TimeSource: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system's clock (`SystemTime::now()`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemTimeSource;

impl TimeSource for SystemTimeSource {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

impl<T: TimeSource + ?Sized> TimeSource for Arc<T> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
}

/// A shared [`TimeSource`], as the options and the token manager hold it.
pub type SharedTimeSource = Arc<dyn TimeSource>;

/// The default: the system clock.
pub(crate) fn system() -> SharedTimeSource {
    Arc::new(SystemTimeSource)
}

/// Whole seconds since the Unix epoch (negative before it), saturating.
pub(crate) fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The time `seconds` after the Unix epoch, saturating at what `SystemTime` can hold.
pub(crate) fn from_unix_seconds(seconds: i64) -> SystemTime {
    let magnitude = Duration::from_secs(seconds.unsigned_abs());
    if seconds >= 0 {
        UNIX_EPOCH.checked_add(magnitude).unwrap_or_else(far_future)
    } else {
        UNIX_EPOCH.checked_sub(magnitude).unwrap_or(UNIX_EPOCH)
    }
}

/// `time + by`, saturating instead of overflowing.
pub(crate) fn saturating_add(time: SystemTime, by: Duration) -> SystemTime {
    time.checked_add(by).unwrap_or_else(far_future)
}

/// `time - by`, saturating at the Unix epoch.
pub(crate) fn saturating_sub(time: SystemTime, by: Duration) -> SystemTime {
    time.checked_sub(by).unwrap_or(UNIX_EPOCH)
}

/// A time later than any token lives: year 2^40 seconds after the epoch fits every platform's
/// `SystemTime`.
fn far_future() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1 << 40)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_round_trip_and_saturate() {
        for seconds in [0, 1, 1_800_000_000, -5] {
            assert_eq!(unix_seconds(from_unix_seconds(seconds)), seconds);
        }
        assert!(from_unix_seconds(i64::MAX) > from_unix_seconds(1 << 39));
        assert_eq!(
            saturating_sub(UNIX_EPOCH + Duration::from_secs(3), Duration::MAX),
            UNIX_EPOCH
        );
        assert!(saturating_add(SystemTime::now(), Duration::MAX) > SystemTime::now());
    }
}
