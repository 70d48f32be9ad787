//! What each kind of refusal or garbage from the token endpoint becomes.

use crate::common;

use boxauth::{Error, RequestAccessTokenArgs, RetryPolicy, RevokeAccessTokenArgs};
use boxauth_test_support::{RecordingServer, Reply};

fn code_exchange() -> RequestAccessTokenArgs {
    RequestAccessTokenArgs::authorization_code("cid", "a-client-secret", "a-code")
}

async fn answer(reply: Reply) -> Error {
    let server = RecordingServer::start().await;
    server.script([reply]);
    let manager = common::manager_for(&server, RetryPolicy::none());
    manager
        .request_access_token(code_exchange())
        .await
        .unwrap_err()
}

#[tokio::test]
async fn oauth2_error_body_becomes_a_typed_api_error() {
    let body =
        r#"{"error":"invalid_grant","error_description":"The authorization code has expired"}"#;
    let error = answer(Reply::json(400, body).with_header("box-request-id", "0abc123def")).await;
    let Error::Api(api) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(api.status, 400);
    assert_eq!(api.error.as_deref(), Some("invalid_grant"));
    assert_eq!(
        api.error_description.as_deref(),
        Some("The authorization code has expired")
    );
    assert_eq!(api.request_id.as_deref(), Some("0abc123def"));
    assert_eq!(api.raw_body(), body);
    assert!(api.is("invalid_grant"));
    let message = error.to_string();
    assert!(
        message.contains("HTTP 400: invalid_grant: The authorization code has expired"),
        "{message}"
    );
    assert!(message.contains("0abc123def"), "{message}");
    assert!(
        error.hint().is_some_and(|hint| hint.contains("30 seconds")),
        "the hint says what to do: {:?}",
        error.hint()
    );
    assert!(
        !message.contains("30 seconds"),
        "the message is one layer, the hint apart: {message}"
    );
}

#[tokio::test]
async fn a_200_whose_body_carries_error_is_an_error() {
    let error = answer(Reply::json(
        200,
        r#"{"error":"invalid_client","error_description":"The client credentials are invalid"}"#,
    ))
    .await;
    let api = error.as_api().unwrap_or_else(|| panic!("{error:?}"));
    assert_eq!(api.status, 200);
    assert!(api.is("invalid_client"));
}

#[tokio::test]
async fn an_html_page_from_a_proxy_gives_status_and_snippet() {
    let page = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>";
    let error = answer(Reply::body(502, "text/html", page)).await;
    let Error::InvalidResponse(invalid) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(invalid.status, 502);
    assert_eq!(invalid.content_type.as_deref(), Some("text/html"));
    assert_eq!(invalid.raw_body(), page);
    let message = error.to_string();
    assert!(message.contains("HTTP 502"), "{message}");
    assert!(
        message.contains("<title>502 Bad Gateway</title>"),
        "{message}"
    );
}

#[tokio::test]
async fn a_captive_portal_page_with_200_is_an_error_too() {
    let error = answer(Reply::body(
        200,
        "text/html",
        "<!doctype html><p>Sign in to the Wi-Fi</p>",
    ))
    .await;
    let Error::InvalidResponse(invalid) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(invalid.status, 200);
    assert!(error.to_string().contains("Sign in to the Wi-Fi"));
}

#[tokio::test]
async fn a_success_body_of_the_wrong_shape_is_described_not_quoted() {
    let error = answer(Reply::json(
        200,
        r#"{"access_token":["SECRET_IN_AN_ARRAY"],"expires_in":1}"#,
    ))
    .await;
    let Error::InvalidResponse(invalid) = &error else {
        panic!("{error:?}")
    };
    let message = error.to_string();
    assert!(!message.contains("SECRET_IN_AN_ARRAY"), "{message}");
    assert!(!format!("{error:?}").contains("SECRET_IN_AN_ARRAY"));
    assert!(message.contains("expected a string"), "{message}");
    assert!(
        invalid.raw_body().contains("SECRET_IN_AN_ARRAY"),
        "the raw body is kept"
    );
    let truncated = answer(Reply::json(200, r#"{"access_token":"abc"#)).await;
    assert!(
        truncated.to_string().contains("ends too early"),
        "{truncated}"
    );
}

#[tokio::test]
async fn empty_401_reads_www_authenticate() {
    let error = answer(Reply::empty(401).with_header(
        "WWW-Authenticate",
        r#"Bearer realm="Service", error="invalid_token", error_description="The access token provided is invalid.""#,
    ))
    .await;
    let api = error.as_api().unwrap();
    assert_eq!(
        (api.status, api.error.as_deref()),
        (401, Some("invalid_token"))
    );
}

#[tokio::test]
async fn revoke_errors_are_decoded_the_same_way() {
    let server = RecordingServer::start().await;
    server.script([Reply::json(
        400,
        r#"{"error":"invalid_client","error_description":"The client credentials are invalid"}"#,
    )]);
    let manager = common::manager_for(&server, RetryPolicy::none());
    let error = manager
        .revoke_access_token(RevokeAccessTokenArgs::new("cid", "bad", "tok"))
        .await
        .unwrap_err();
    assert!(error.as_api().unwrap().is("invalid_client"));
}

#[tokio::test]
async fn error_messages_never_contain_the_secrets_sent() {
    for reply in [
        Reply::json(
            400,
            r#"{"error":"invalid_client","error_description":"The client credentials are invalid"}"#,
        ),
        Reply::body(500, "text/plain", "oops"),
        Reply::Drop,
    ] {
        let error = answer(reply).await;
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(
                !shown.contains("a-client-secret") && !shown.contains("a-code"),
                "{shown}"
            );
        }
    }
}

/// A code exchange sent to a loopback port nothing listens on: the error, and the port.
async fn refused_connection() -> (Error, u16) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let session = boxauth::NetworkSession::builder()
        .urls(
            boxauth::BoxUrls::new(&format!("http://127.0.0.1:{port}"), "http://127.0.0.1:1")
                .unwrap(),
        )
        .proxy(boxauth::ProxyConfig::None)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let error = boxauth::AuthorizationManager::new(session)
        .request_access_token(code_exchange())
        .await
        .unwrap_err();
    (error, port)
}

#[tokio::test]
async fn an_unreachable_host_is_a_network_error_naming_the_url() {
    let (error, port) = refused_connection().await;
    assert_eq!(
        error.network_error_kind(),
        Some(boxauth::NetworkErrorKind::Connect),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&format!("http://127.0.0.1:{port}/oauth2/token")),
        "{message}"
    );
}

/// The chain of `error`'s layers, as an error reporter walks it.
fn layers(error: &Error) -> Vec<String> {
    let mut layers = vec![error.to_string()];
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        layers.push(inner.to_string());
        cause = inner.source();
    }
    layers
}

/// Each layer says its own part: none repeats the one below it.
fn each_cause_once(error: &Error) {
    let layers = layers(error);
    assert!(
        layers.len() >= 2,
        "the cause is kept as source(): {layers:?}"
    );
    for pair in layers.windows(2) {
        assert!(
            !pair[0].contains(pair[1].as_str()),
            "{:?} repeats its cause {:?}",
            pair[0],
            pair[1]
        );
    }
    assert_eq!(
        error.report().lines().count(),
        layers.len(),
        "report() prints each layer once: {}",
        error.report()
    );
}

#[tokio::test]
async fn every_layer_of_an_error_is_printed_once() {
    // A transport failure: this layer, then reqwest's, then the socket's.
    let (network, _) = refused_connection().await;
    each_cause_once(&network);
    assert!(
        network.report().contains("Connection refused"),
        "{}",
        network.report()
    );

    // A file that cannot be read: the storage's layer, then the OS error.
    let dir = tempfile::tempdir().unwrap();
    let not_a_file = boxauth::FileStorage::new(dir.path());
    let storage = boxauth::TokenStorage::load(&not_a_file).await.unwrap_err();
    assert_eq!(
        storage.storage_error_kind(),
        Some(boxauth::StorageErrorKind::Io)
    );
    each_cause_once(&storage);

    // A config file that cannot be read.
    let config = boxauth::JwtConfig::from_config_file(dir.path().join("missing.json")).unwrap_err();
    assert_eq!(
        config.config_error_kind(),
        Some(boxauth::ConfigErrorKind::Unreadable)
    );
    each_cause_once(&config);
}
