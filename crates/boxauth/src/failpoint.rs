//! Failpoints for crash tests: with the test-only `failpoints` feature, `BOXAUTH_FAILPOINT=<name>`
//! makes the process stop at that point (it prints `failpoint <name> reached` on stderr and
//! sleeps), so a test can kill it with SIGKILL exactly there, or, with
//! `BOXAUTH_FAILPOINT_PAUSE_MS=<ms>`, pause there that long and go on (a test cuts the network
//! meanwhile). Without the feature (every user's build) this compiles to nothing.

/// Stops here if `BOXAUTH_FAILPOINT` names this point (with the `failpoints` feature only).
#[inline]
pub(crate) fn reached(name: &str) {
    #[cfg(feature = "failpoints")]
    if std::env::var("BOXAUTH_FAILPOINT").is_ok_and(|wanted| wanted == name) {
        eprintln!("failpoint {name} reached");
        if let Some(pause) = std::env::var("BOXAUTH_FAILPOINT_PAUSE_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
        {
            std::thread::sleep(std::time::Duration::from_millis(pause));
            eprintln!("failpoint {name} passed");
            return;
        }
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    #[cfg(not(feature = "failpoints"))]
    let _ = name;
}
