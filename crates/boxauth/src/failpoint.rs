//! Failpoints for crash tests: with the test-only `failpoints` feature, `BOXAUTH_FAILPOINT=<name>`
//! makes the process stop at that point (it prints `failpoint <name> reached` on stderr and
//! sleeps), so a test can kill it with SIGKILL exactly there. Without the feature (every user's
//! build) this compiles to nothing.

/// Stops here if `BOXAUTH_FAILPOINT` names this point (with the `failpoints` feature only).
#[inline]
pub(crate) fn reached(name: &str) {
    #[cfg(feature = "failpoints")]
    if std::env::var("BOXAUTH_FAILPOINT").is_ok_and(|wanted| wanted == name) {
        eprintln!("failpoint {name} reached");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    #[cfg(not(feature = "failpoints"))]
    let _ = name;
}
