//! Test helpers shared by boxauth's crates, so no test file carries its own copy.
//!
//! - [`RecordingServer`]: a loopback HTTP/1.1 server that records requests byte for byte and
//!   answers from a script (a status, or a dropped connection).
//! - [`emulator`]: the Box emulator on a free port, with signed assertions and real consent.
//! - [`control`]: the emulator's control API over HTTP.
//! - [`browser`]: real headless Chromium through chromedriver.
//! - [`redis`]: a real `redis-server` on a free port.
//! - [`redis_fleet`]: a real Redis Cluster (3 primaries, 3 replicas) and a primary with a
//!   replica behind three Sentinels, each node a process a test can kill or freeze.
//! - [`postgres`]: real PostgreSQL servers (Debian's PostgreSQL 15) on free ports, a primary
//!   with a streaming standby, each a process tree a test can stop, crash, pause and promote.
//! - [`netns`]: simulated hosts, network namespaces joined by a bridge, to partition.
//! - [`secret_service`]: a real Secret Service (gnome-keyring on its own D-Bus session bus),
//!   the OS keychain the CLI keeps secrets in.
//! - [`mod@bench`]: criterion's medians for the benches' summaries.

#![allow(clippy::unwrap_used)]

pub mod bench;
pub mod browser;
pub mod control;
pub mod emulator;
pub mod netns;
pub mod postgres;
mod recording;
pub mod redis;
pub mod redis_fleet;
pub mod secret_service;

pub use recording::{RecordedRequest, RecordingServer, Reply};

/// An HTTP client for the tests' loopback servers: no proxy from the environment (a developer's
/// `HTTPS_PROXY` must not carry a test's request elsewhere).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// [`http`] that does not follow redirects: the test sees the `Location` a browser would be sent.
pub fn http_no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The HTTP status Debian's `curl` gets for `args` (its URL among them), as three digits
/// ("000": no answer, e.g. a refused certificate). `curl` is `curl` itself, or a command that
/// runs it elsewhere (`ip netns exec HOST curl`, [`netns::Network::on_host`]).
pub async fn curl_status(mut curl: tokio::process::Command, args: &[&str]) -> String {
    let output = curl
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(args)
        .output()
        .await
        .expect("run curl (Debian's curl; scripts/test installs it)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A loopback port that was free a moment ago, below Linux's ephemeral range (32768 and up), so
/// that none of the tests' own outgoing connections can be holding it when a server binds it.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    loop {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        let port = 20_000 + u16::try_from(hasher.finish() % 12_000).unwrap();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
