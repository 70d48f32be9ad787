//! The control API answers loopback peers only, unless remote control is allowed: a host in a
//! network namespace of its own (a real non-loopback peer, Debian's iproute2, as root) is
//! refused `/__emulator/…` while Box's paths answer it.

use boxauth_emulator::EmulatorConfig;
use boxauth_test_support::emulator as emu;
use boxauth_test_support::netns::Network;

/// `curl` from host 0: the status of `method url`.
async fn status_from_host(network: &Network, method: &str, url: &str) -> String {
    let curl = network.on_host(0, std::path::Path::new("curl"));
    boxauth_test_support::curl_status(curl, &["--max-time", "10", "-X", method, url]).await
}

#[tokio::test]
async fn a_control_request_from_another_host_is_refused_unless_allowed() {
    let network = Network::create(1);
    for allowed in [false, true] {
        let emulator = emu::start_with(EmulatorConfig {
            addr: format!("{}:0", network.test_address()).parse().unwrap(),
            allow_remote_control: allowed,
            ..EmulatorConfig::default()
        })
        .await;
        let base = emulator.base_url().to_owned();
        let control = if allowed { "200" } else { "403" };
        assert_eq!(
            status_from_host(&network, "GET", &format!("{base}/__emulator/health")).await,
            control
        );
        assert_eq!(
            status_from_host(&network, "POST", &format!("{base}/__emulator/reset")).await,
            control
        );
        // Box's own paths answer every peer: a token request with no form is Box's 400.
        assert_eq!(
            status_from_host(&network, "POST", &format!("{base}/oauth2/token")).await,
            "400"
        );
        // The test's own address on that network is not loopback either.
        let answer = boxauth_test_support::http()
            .get(format!("{base}/__emulator/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16().to_string(), control);
        drop(answer);
        emulator.shutdown().await;
    }
}
