//! Failpoints for crash tests: in debug builds, `BOXAUTH_FAILPOINT=<name>` makes the process stop
//! at that point (it prints `failpoint <name> reached` on stderr and sleeps), so a test can kill it
//! with SIGKILL exactly there. Release builds compile this to nothing.

/// Stops here if `BOXAUTH_FAILPOINT` names this point (debug builds only).
#[inline]
pub(crate) fn reached(name: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("BOXAUTH_FAILPOINT").is_ok_and(|wanted| wanted == name) {
        eprintln!("failpoint {name} reached");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}
