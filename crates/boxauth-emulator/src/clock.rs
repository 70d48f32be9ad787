//! The emulator's idea of "now", which tests can move instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A clock: the system time plus an offset that tests can change at any moment. Every expiry the
/// emulator checks, and the `Date` header it sends, come from this clock. Cloning shares it.
///
/// ```
/// # use std::time::Duration;
/// let clock = boxauth_emulator::Clock::system();
/// let before = clock.now();
/// clock.advance(Duration::from_secs(31)); // an authorization code issued before is now expired
/// assert!(clock.now().duration_since(before).unwrap() >= Duration::from_secs(31));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock, with no offset.
    pub fn system() -> Self {
        Self::default()
    }

    /// The current time.
    pub fn now(&self) -> SystemTime {
        let offset = self.offset_ms.load(Ordering::Relaxed);
        let now = SystemTime::now();
        if offset >= 0 {
            now + Duration::from_millis(offset.unsigned_abs())
        } else {
            now - Duration::from_millis(offset.unsigned_abs())
        }
    }

    /// The current time in whole seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        match self.now().duration_since(UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// Sets the offset from the system time: positive is ahead, negative behind.
    pub fn set_offset_seconds(&self, seconds: i64) {
        self.offset_ms
            .store(seconds.saturating_mul(1000), Ordering::Relaxed);
    }

    /// The offset from the system time, in milliseconds.
    pub fn offset_millis(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }
}

/// boxauth decides expiries on this clock when given it (`AuthOptions::time_source`): one
/// [`advance`](Clock::advance) then moves Box and boxauth together.
impl boxauth::TimeSource for Clock {
    fn now(&self) -> SystemTime {
        Clock::now(self)
    }
}
