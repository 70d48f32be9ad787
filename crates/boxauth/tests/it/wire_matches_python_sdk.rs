//! Every operation and grant, sent over loopback HTTP to a recording server, compared field by field
//! and byte by byte with what Box's official Python SDK sent for the same call
//! (`tests/fixtures/python_sdk_wire.json`, made by `scripts/capture_python_sdk_wire.py`; `.ci/run`
//! captures it again from the SDK and fails if it drifts).

use crate::common;

use boxauth::{
    AuthorizationManager, AuthorizeUserArgs, RefreshAccessTokenArgs,
    RequestAccessTokenActorTokenType, RequestAccessTokenArgs, RequestAccessTokenBoxSubjectType,
    RequestAccessTokenGrantType, RequestAccessTokenSubjectTokenType, RetryPolicy,
    RevokeAccessTokenArgs, USER_AGENT_VALUE, X_BOX_UA_VALUE,
};
use boxauth_test_support::{RecordedRequest, RecordingServer};
use serde_json::Value;

const CLIENT_ID: &str = "ly1nj6n11vionaie65emwzk575hnnmrk";
const SECRET: &str = "hOzs+TeF/lT6k=o0dme~22uG*bQal04SBPYc1 !";
const REFRESH: &str = "c3FIOG9vSGV4VHo4QzAyg5T1JvNnJoZ3ExaVNyQWw6WjRsanRKZG5lQk9qUE1BVQ";
const CODE: &str = "n22JPxrh18m4Y0wIZPIqYZK7VRrsMTWW";

fn python_capture(name: &str) -> Value {
    let fixture: Value =
        serde_json::from_str(include_str!("../fixtures/python_sdk_wire.json")).unwrap();
    fixture["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no capture named {name}"))
        .clone()
}

/// Runs `call` against a fresh recording server and compares its one request with the SDK's.
async fn assert_same_as_python<F, Fut>(name: &str, call: F) -> RecordedRequest
where
    F: FnOnce(AuthorizationManager) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let server = RecordingServer::start().await;
    if name.starts_with("revoke") {
        server.set_fallback(boxauth_test_support::Reply::empty(200));
    }
    call(common::manager_for(&server, RetryPolicy::none())).await;
    let ours = server.only_request();
    let theirs = python_capture(name);
    common::assert_same_head_as_python(name, &ours, &theirs);
    assert_eq!(ours.body_text(), theirs["body"], "{name}: body");
    assert_eq!(
        ours.header("x-extra"),
        theirs["extra_header"].as_str(),
        "{name}: extra header"
    );
    assert_eq!(
        ours.header("user-agent"),
        Some(USER_AGENT_VALUE),
        "{name}: User-Agent"
    );
    assert_eq!(
        ours.header("x-box-ua"),
        Some(X_BOX_UA_VALUE),
        "{name}: X-Box-UA"
    );
    ours
}

fn user_agents_name_boxauth_and_rustc() {
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(USER_AGENT_VALUE, format!("boxauth-rust/{version}"));
    let prefix = format!("agent=boxauth-rust/{version}; env=Rust/");
    assert!(X_BOX_UA_VALUE.starts_with(&prefix), "{X_BOX_UA_VALUE}");
    let rustc = &X_BOX_UA_VALUE[prefix.len()..];
    assert!(rustc.split('.').count() >= 3, "rustc version {rustc:?}");
}

#[tokio::test]
async fn authorize_user_sends_the_sdk_query() {
    user_agents_name_boxauth_and_rustc();
    assert_same_as_python("authorize_user", |m| async move {
        m.authorize_user(
            AuthorizeUserArgs::new(CLIENT_ID)
                .redirect_uri("http://localhost:3000/callback?x=1&y=a b")
                .state("st@te/1~*")
                .scope("root_readwrite manage_webhook")
                .extra_header("X-Extra", "yes"),
        )
        .await
        .unwrap();
    })
    .await;
    assert_same_as_python("authorize_user_minimal", |m| async move {
        m.authorize_user(AuthorizeUserArgs::new(CLIENT_ID))
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn authorize_url_is_the_url_authorize_user_requests() {
    let server = RecordingServer::start().await;
    let manager = common::manager_for(&server, RetryPolicy::none());
    let args = AuthorizeUserArgs::new(CLIENT_ID)
        .redirect_uri("http://localhost:3000/callback?x=1&y=a b")
        .state("st@te/1~*")
        .scope("root_readwrite manage_webhook");
    let url = manager.authorize_url(&args);
    let theirs = python_capture("authorize_user");
    assert_eq!(
        url,
        format!(
            "{}/api/oauth2/authorize?{}",
            server.url(),
            theirs["query"].as_str().unwrap()
        )
    );
    assert!(
        server.requests().is_empty(),
        "authorize_url must not send anything"
    );
}

#[tokio::test]
async fn authorization_code_grant() {
    assert_same_as_python("authorization_code", |m| async move {
        let token = m
            .request_access_token(
                RequestAccessTokenArgs::authorization_code(CLIENT_ID, SECRET, CODE)
                    .extra_header("X-Extra", "yes"),
            )
            .await
            .unwrap();
        assert_eq!(token.access_token.unwrap().secret(), "T");
    })
    .await;
}

#[tokio::test]
async fn refresh_token_grant_through_request_access_token() {
    assert_same_as_python("refresh_token_grant", |m| async move {
        m.request_access_token(
            RequestAccessTokenArgs::new(RequestAccessTokenGrantType::RefreshToken)
                .client_id(CLIENT_ID)
                .client_secret(SECRET)
                .refresh_token(REFRESH),
        )
        .await
        .unwrap();
    })
    .await;
}

#[tokio::test]
async fn client_credentials_grant_for_enterprise_and_user() {
    assert_same_as_python("client_credentials_enterprise", |m| async move {
        m.request_access_token(RequestAccessTokenArgs::client_credentials(
            CLIENT_ID,
            SECRET,
            RequestAccessTokenBoxSubjectType::Enterprise,
            "899905961",
        ))
        .await
        .unwrap();
    })
    .await;
    assert_same_as_python("client_credentials_user", |m| async move {
        m.request_access_token(RequestAccessTokenArgs::client_credentials(
            CLIENT_ID,
            SECRET,
            RequestAccessTokenBoxSubjectType::User,
            "22222",
        ))
        .await
        .unwrap();
    })
    .await;
}

#[tokio::test]
async fn jwt_bearer_grant() {
    assert_same_as_python("jwt_bearer", |m| async move {
        m.request_access_token(RequestAccessTokenArgs::jwt_bearer(
            CLIENT_ID,
            SECRET,
            "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln-_",
        ))
        .await
        .unwrap();
    })
    .await;
}

#[tokio::test]
async fn token_exchange_grant_with_resource_shared_link_and_actor() {
    assert_same_as_python("token_exchange_resource", |m| async move {
        m.request_access_token(
            RequestAccessTokenArgs::token_exchange("SubJ3ct", "item_preview item_upload")
                .resource("https://api.box.com/2.0/files/123456"),
        )
        .await
        .unwrap();
    })
    .await;
    assert_same_as_python("token_exchange_shared_link", |m| async move {
        m.request_access_token(
            RequestAccessTokenArgs::token_exchange("SubJ3ct", "item_preview")
                .box_shared_link("https://app.box.com/s/abc?vanity=x&p=1"),
        )
        .await
        .unwrap();
    })
    .await;
    assert_same_as_python("token_exchange_annotator", |m| async move {
        m.request_access_token(
            RequestAccessTokenArgs::token_exchange("SubJ3ct", "item_preview")
                .actor_token("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
                .actor_token_type(RequestAccessTokenActorTokenType::IdToken)
                .resource("https://api.box.com/2.0/files/123456"),
        )
        .await
        .unwrap();
    })
    .await;
}

#[tokio::test]
async fn every_field_keeps_the_sdk_order() {
    assert_same_as_python("every_field", |m| async move {
        let mut args = RequestAccessTokenArgs::new(RequestAccessTokenGrantType::AuthorizationCode)
            .box_shared_link("https://app.box.com/s/x")
            .box_subject_id("7")
            .box_subject_type(RequestAccessTokenBoxSubjectType::User)
            .resource("https://api.box.com/2.0/folders/0")
            .scope("s1 s2")
            .actor_token_type(RequestAccessTokenActorTokenType::IdToken)
            .actor_token("AT")
            .subject_token_type(RequestAccessTokenSubjectTokenType::AccessToken)
            .subject_token("S")
            .assertion("A")
            .refresh_token("R")
            .code("C");
        // Set out of order on purpose: the order on the wire is Box's, not the caller's.
        args = args.client_secret(SECRET).client_id(CLIENT_ID);
        m.request_access_token(args).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn refresh_access_token_operation() {
    assert_same_as_python("refresh_access_token", |m| async move {
        m.refresh_access_token(
            RefreshAccessTokenArgs::new(CLIENT_ID, SECRET, REFRESH).extra_header("X-Extra", "yes"),
        )
        .await
        .unwrap();
    })
    .await;
}

#[tokio::test]
async fn revoke_access_token_operation() {
    assert_same_as_python("revoke_access_token", |m| async move {
        m.revoke_access_token(RevokeAccessTokenArgs::new(CLIENT_ID, SECRET, CODE))
            .await
            .unwrap();
    })
    .await;
    assert_same_as_python("revoke_access_token_token_only", |m| async move {
        m.revoke_access_token(RevokeAccessTokenArgs::default().token("tok"))
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn session_headers_are_sent_and_extra_headers_override_them() {
    let server = RecordingServer::start().await;
    let base = server.url();
    let session = boxauth::NetworkSession::builder()
        .urls(boxauth::BoxUrls::new(&base, &base).unwrap())
        .proxy(boxauth::ProxyConfig::None)
        .header("X-Team", "a")
        .header("X-Extra", "session")
        .build()
        .unwrap();
    let manager = AuthorizationManager::new(session);
    manager
        .request_access_token(
            RequestAccessTokenArgs::authorization_code(CLIENT_ID, SECRET, CODE)
                .extra_header("X-Extra", "call")
                .extra_header("User-Agent", "not-ours"),
        )
        .await
        .unwrap();
    let request = server.only_request();
    assert_eq!(request.header("x-team"), Some("a"));
    assert_eq!(request.header("x-extra"), Some("call"));
    // As in Box's SDK, the library's own User-Agent wins over an extra header.
    assert_eq!(request.header("user-agent"), Some(USER_AGENT_VALUE));
}
