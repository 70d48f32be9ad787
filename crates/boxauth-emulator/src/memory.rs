//! Giving memory back to the system once many connections have closed.
//!
//! A burst of connections (1,600 hostile ones in `bench/emulator/hostile.py`) makes the allocator
//! take memory for their buffers; when they close, glibc's `malloc` keeps most of it, free but
//! scattered between live blocks, so its own trimming (which only shortens the top of the heap)
//! gives little back. Measured on 2026-12-02: the first wave left RSS at 27.4 MiB from an
//! 8.9 MiB baseline, of which `malloc_trim(0)` (which also returns free pages in the middle of
//! the heap) gave back all but 0.6 MiB. So the server counts closed connections and, once
//! [`TRIM_AFTER_CLOSED`] have closed and a second has passed with none closing (or, while they
//! keep closing, every [`TRIM_AT_MOST_EVERY`]), asks glibc to return what is free. A server whose
//! clients keep their connections (any load generator, any SDK with a connection pool) never
//! trims. On other C libraries this does nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// How many connections must have closed since the last trim for the next one.
pub(crate) const TRIM_AFTER_CLOSED: usize = 256;

/// How often the count is looked at.
pub(crate) const CHECK_EVERY: Duration = Duration::from_secs(1);

/// While connections keep closing, the most often memory is given back.
pub(crate) const TRIM_AT_MOST_EVERY: Duration = Duration::from_secs(10);

/// Counts the connections that closed; one [`Closing`] per open connection.
#[derive(Clone, Default)]
pub(crate) struct ClosedConnections(Arc<AtomicUsize>);

impl ClosedConnections {
    /// Counted as closed when dropped.
    pub(crate) fn opened(&self) -> Closing {
        Closing(self.0.clone())
    }
}

/// An open connection; its drop counts it closed.
pub(crate) struct Closing(Arc<AtomicUsize>);

impl Drop for Closing {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Gives the free memory back (on a blocking thread: a trim walks the heap) once
/// [`TRIM_AFTER_CLOSED`] connections have closed since the last trim and the burst is over (none
/// closed in the last [`CHECK_EVERY`]), or, while connections keep closing, every
/// [`TRIM_AT_MOST_EVERY`].
pub(crate) async fn give_back(closed: ClosedConnections, mut stopped: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(CHECK_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut at_trim, mut at_tick) = (0, 0);
    let mut trimmed = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopped.changed() => break,
        }
        let now = closed.0.load(Ordering::Relaxed);
        let burst_over = now == at_tick;
        at_tick = now;
        if now.wrapping_sub(at_trim) < TRIM_AFTER_CLOSED
            || !(burst_over || trimmed.elapsed() >= TRIM_AT_MOST_EVERY)
        {
            continue;
        }
        at_trim = now;
        trimmed = tokio::time::Instant::now();
        let _ = tokio::task::spawn_blocking(trim).await;
    }
}

/// Returns the allocator's free memory to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    let started = std::time::Instant::now();
    // SAFETY: malloc_trim takes no pointer and is thread-safe (it locks each arena in turn).
    #[allow(unsafe_code)]
    let released = unsafe { libc::malloc_trim(0) };
    tracing::debug!(
        released = released == 1,
        took_us = started.elapsed().as_micros() as u64,
        "free memory given back after many connections closed"
    );
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
