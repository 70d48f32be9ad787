//! Trust for `https://`: the session checks Box's certificate against the system's roots plus any
//! given (a TLS-inspecting corporate proxy, the emulator's own CA), or leaves TLS to a client the
//! caller built. Against the emulator serving TLS with a CA made for the run.

use boxauth::{
    AuthOptions, Authentication, BoxClient, CcgAuth, CcgConfig, ConfigErrorKind, NetworkErrorKind,
    NetworkSession, ProxyConfig, RetryPolicy,
};
use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID,
    DEFAULT_SERVICE_ACCOUNT_ID,
};
use boxauth_test_support::emulator as emu;

/// CCG for the default app over `session`.
fn ccg(session: NetworkSession) -> CcgAuth {
    CcgAuth::with_options(
        CcgConfig::enterprise(ID, SECRET, DEFAULT_ENTERPRISE_ID),
        AuthOptions::default().session(session),
    )
    .unwrap()
}

/// A session for the emulator that trusts only the system's roots.
fn plain(emulator: &boxauth_emulator::EmulatorHandle) -> boxauth::NetworkSessionBuilder {
    NetworkSession::builder()
        .urls(emulator.urls())
        .proxy(ProxyConfig::None)
        .retry_policy(RetryPolicy::none())
}

#[tokio::test]
async fn the_emulators_certificate_is_refused_until_its_ca_is_trusted() {
    let emulator = emu::start_tls().await;
    assert!(emulator.base_url().starts_with("https://127.0.0.1:"));
    let untrusted = ccg(plain(&emulator).build().unwrap());
    let error = untrusted.retrieve_token().await.unwrap_err();
    assert_eq!(
        error.network_error_kind(),
        Some(NetworkErrorKind::Tls),
        "{error:?}"
    );
    let report = error.report();
    assert!(
        report.contains("UnknownIssuer"),
        "the cause says why: {report}"
    );

    let ca = emulator.ca_pem().unwrap();
    let trusted = ccg(plain(&emulator).add_root_certificates(ca).build().unwrap());
    let me = BoxClient::new(trusted).users_me().await.unwrap();
    assert_eq!(me.id, DEFAULT_SERVICE_ACCOUNT_ID);
}

#[tokio::test]
async fn a_client_built_by_the_caller_is_used_as_it_is() {
    let emulator = emu::start_tls().await;
    let ca = reqwest::Certificate::from_pem(emulator.ca_pem().unwrap().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .tls_certs_merge([ca])
        .build()
        .unwrap();
    let auth = ccg(plain(&emulator).http_client(client).build().unwrap());
    assert!(auth.retrieve_token().await.is_ok());

    let both = plain(&emulator)
        .add_root_certificates(emulator.ca_pem().unwrap())
        .http_client(reqwest::Client::new())
        .build()
        .unwrap_err();
    assert_eq!(both.config_error_kind(), Some(ConfigErrorKind::Conflict));
}

#[test]
fn what_is_not_a_certificate_is_refused_with_a_clear_error() {
    let key = std::fs::read(boxauth_test_support::redis::tls_fixture("server.key")).unwrap();
    for (given, says) in [
        (&b"not a certificate"[..], "holds no certificate"),
        (&key[..], "holds no certificate"),
        (
            &b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"[..],
            "not valid PEM",
        ),
    ] {
        let error = NetworkSession::builder()
            .add_root_certificates(given)
            .build()
            .unwrap_err();
        assert_eq!(error.config_error_kind(), Some(ConfigErrorKind::Invalid));
        let message = error.to_string();
        assert!(message.contains(says), "{message}");
        assert!(!message.contains("PRIVATE KEY"), "{message}");
    }
}

#[tokio::test]
async fn a_refused_certificate_is_not_retried_a_refused_connection_is() {
    let emulator = emu::start_tls().await;
    let untrusted = reqwest::Client::builder().no_proxy().build().unwrap();
    let refused_certificate = untrusted
        .get(format!("{}/2.0/users/me", emulator.base_url()))
        .send()
        .await
        .unwrap_err();
    assert!(!RetryPolicy::retries_transport_error(&refused_certificate));

    let port = boxauth_test_support::free_port();
    let refused_connection = untrusted
        .get(format!("https://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap_err();
    assert!(RetryPolicy::retries_transport_error(&refused_connection));
}
