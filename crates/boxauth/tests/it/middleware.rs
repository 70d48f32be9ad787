//! boxauth in the user's own HTTP stack, against the emulator: the reqwest middleware and the
//! tower layer each fetch `/2.0/users/me`, survive a 401 with one refresh and one retry (and no
//! more), return the 401 of a request whose streaming body cannot be sent twice, and drop a token
//! refused for a scope once (`[insufficient-scope]`).

use std::convert::Infallible;
use std::sync::Arc;

use boxauth::{AuthOptions, Authentication, BoxAuthLayer, BoxAuthMiddleware};
use boxauth_emulator::{
    DEFAULT_CLIENT_ID, DEFAULT_SERVICE_ACCOUNT_ID, EmulatorHandle, Fault, Grant,
};
use boxauth_test_support::emulator as emu;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower_layer::Layer;
use tower_service::Service;

fn token_requests(emulator: &EmulatorHandle) -> u64 {
    emulator.stats().requests(Grant::ClientCredentials)
}

fn users_me(emulator: &EmulatorHandle) -> String {
    format!("{}/2.0/users/me", emulator.base_url())
}

/// Revokes `auth`'s current token behind its back: Box answers its next call 401.
async fn revoke_behind_its_back(emulator: &EmulatorHandle, auth: &dyn Authentication) {
    let token = auth.retrieve_token().await.unwrap();
    let (status, _) = emu::revoke(emulator, token.access_token.secret()).await;
    assert_eq!(status, 200);
}

/// What a client must do when Box refuses its token (its first token already fetched, one
/// token request so far); `status` sends `GET /2.0/users/me` through it and gives the status.
async fn one_refresh_and_one_retry_per_401(
    emulator: &EmulatorHandle,
    auth: &dyn Authentication,
    mut status: impl AsyncFnMut() -> u16,
) {
    // Box refuses the token: one refresh, one retry, and the caller sees only the success.
    revoke_behind_its_back(emulator, auth).await;
    assert_eq!(status().await, 200);
    assert_eq!(token_requests(emulator), 2);

    // Refused again after the refresh: no second retry, the 401 is the answer.
    emulator
        .faults()
        .script([Fault::Status(401), Fault::Pass, Fault::Status(401)]);
    assert_eq!(status().await, 401);
    assert_eq!(
        emulator.faults().injected(),
        2,
        "two /2.0/users/me attempts, not more"
    );
    assert_eq!(token_requests(emulator), 3);
}

/// An auth of an app whose tokens lack `manage_webhook` (the emulator's `/2.0/webhooks` needs
/// it), its first token fetched.
async fn without_manage_webhook(emulator: &EmulatorHandle) -> Arc<dyn Authentication> {
    emulator
        .set_app_scopes(DEFAULT_CLIENT_ID, vec!["root_readwrite".into()])
        .unwrap();
    let auth: Arc<dyn Authentication> = Arc::new(emu::ccg_auth(emulator, AuthOptions::default()));
    auth.retrieve_token().await.unwrap();
    auth
}

/// What a client must do when Box answers `403` with `insufficient_scope`: drop the token once
/// and retry with a new one (which picks up a scope added in the Developer Console), and not
/// fetch a new token per call while the app still lacks it. `status` sends `GET url` through
/// the client and gives the status.
async fn one_new_token_per_scope_refusal(
    emulator: &EmulatorHandle,
    mut status: impl AsyncFnMut(&str) -> u16,
) {
    let webhooks = format!("{}/2.0/webhooks", emulator.base_url());
    assert_eq!(status(&webhooks).await, 403, "the app lacks the scope");
    assert_eq!(token_requests(emulator), 2, "the token dropped once");
    assert_eq!(status(&webhooks).await, 403);
    assert_eq!(token_requests(emulator), 2, "not a new token per call");
    // The admin adds the scope; ten minutes on, the refused token is dropped again and the
    // retry, with a token that has the scope, is what the caller sees.
    emulator
        .set_app_scopes(
            DEFAULT_CLIENT_ID,
            vec!["root_readwrite".into(), "manage_webhook".into()],
        )
        .unwrap();
    emulator
        .clock()
        .advance(std::time::Duration::from_secs(601));
    assert_eq!(status(&webhooks).await, 200);
    assert_eq!(token_requests(emulator), 3);
    assert_eq!(status(&webhooks).await, 200);
    assert_eq!(token_requests(emulator), 3);
}

/// The chunks of [`streaming_body`].
type Chunks = futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>;

/// A body that is a stream: it can be sent once.
fn streaming_body() -> StreamBody<Chunks> {
    StreamBody::new(futures_util::stream::iter(vec![Ok(Frame::data(
        Bytes::from_static(b"a chunk of an upload"),
    ))]))
}

#[tokio::test]
async fn the_reqwest_middleware_sends_the_token_and_survives_a_401() {
    let emulator = emu::start().await;
    let auth: Arc<dyn Authentication> = Arc::new(emu::ccg_auth(&emulator, AuthOptions::default()));
    let client = reqwest_middleware::ClientBuilder::new(boxauth_test_support::http())
        .with(BoxAuthMiddleware::new(auth.clone()))
        .build();
    let get = || async { client.get(users_me(&emulator)).send().await.unwrap() };

    let me: serde_json::Value = serde_json::from_str(&get().await.text().await.unwrap()).unwrap();
    assert_eq!(me["id"], DEFAULT_SERVICE_ACCOUNT_ID);
    assert_eq!(token_requests(&emulator), 1);

    one_refresh_and_one_retry_per_401(&emulator, &*auth, async || get().await.status().as_u16())
        .await;

    // A streaming body cannot be sent twice: its 401 comes back, and the token is dropped, so
    // the next request gets a new one.
    emulator.faults().script([Fault::Status(401)]);
    let upload = client
        .get(users_me(&emulator))
        .body(reqwest::Body::wrap(streaming_body()))
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 401);
    assert_eq!(
        token_requests(&emulator),
        3,
        "no refresh for a request that is not retried"
    );
    assert_eq!(get().await.status(), 200);
    assert_eq!(token_requests(&emulator), 4);

    // A request that brings its own Authorization is left as it is.
    let own = client
        .get(users_me(&emulator))
        .header("Authorization", "Bearer not-a-box-token")
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 401);
    assert_eq!(token_requests(&emulator), 4);
}

#[tokio::test]
async fn the_tower_layer_sends_the_token_and_survives_a_401() {
    let emulator = emu::start().await;
    let auth: Arc<dyn Authentication> = Arc::new(emu::ccg_auth(&emulator, AuthOptions::default()));
    let hyper = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut client = BoxAuthLayer::new(auth.clone()).layer(hyper);
    let mut get = async || {
        let request = http::Request::get(users_me(&emulator))
            .body(Empty::new())
            .unwrap();
        std::future::poll_fn(|cx| client.poll_ready(cx))
            .await
            .unwrap();
        client.call(request).await.unwrap()
    };

    let response = get().await;
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let me: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(me["id"], DEFAULT_SERVICE_ACCOUNT_ID);
    assert_eq!(token_requests(&emulator), 1);

    one_refresh_and_one_retry_per_401(&emulator, &*auth, async || get().await.status().as_u16())
        .await;

    // A streaming body: sent once, its 401 returned.
    let streaming =
        Client::builder(TokioExecutor::new()).build_http::<BoxBody<Bytes, Infallible>>();
    let mut uploads = BoxAuthLayer::new(auth.clone()).layer(streaming);
    emulator.faults().script([Fault::Status(401)]);
    let request = http::Request::get(users_me(&emulator))
        .body(streaming_body().boxed())
        .unwrap();
    std::future::poll_fn(|cx| uploads.poll_ready(cx))
        .await
        .unwrap();
    assert_eq!(uploads.call(request).await.unwrap().status(), 401);
    assert_eq!(emulator.faults().injected(), 3);
    assert_eq!(token_requests(&emulator), 3);
    assert_eq!(
        get().await.status(),
        200,
        "the next request gets a new token"
    );
    assert_eq!(token_requests(&emulator), 4);
}

#[tokio::test]
async fn the_reqwest_middleware_drops_a_token_refused_for_its_scope_once() {
    let emulator = emu::start().await;
    let auth = without_manage_webhook(&emulator).await;
    let client = reqwest_middleware::ClientBuilder::new(boxauth_test_support::http())
        .with(BoxAuthMiddleware::new(auth))
        .build();
    one_new_token_per_scope_refusal(&emulator, async |url| {
        client.get(url).send().await.unwrap().status().as_u16()
    })
    .await;
}

#[tokio::test]
async fn the_tower_layer_drops_a_token_refused_for_its_scope_once() {
    let emulator = emu::start().await;
    let auth = without_manage_webhook(&emulator).await;
    let hyper = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut client = BoxAuthLayer::new(auth).layer(hyper);
    one_new_token_per_scope_refusal(&emulator, async |url| {
        let request = http::Request::get(url).body(Empty::new()).unwrap();
        std::future::poll_fn(|cx| client.poll_ready(cx))
            .await
            .unwrap();
        client.call(request).await.unwrap().status().as_u16()
    })
    .await;
}

#[test]
fn as_user_takes_a_header_value_and_nothing_leaks_in_debug() {
    let auth: Arc<dyn Authentication> =
        Arc::new(boxauth::DeveloperTokenAuth::new("a-developer-token-secret").unwrap());
    assert_eq!(
        BoxAuthMiddleware::new(auth.clone())
            .with_as_user("bad\nvalue")
            .unwrap_err()
            .config_error_kind(),
        Some(boxauth::ConfigErrorKind::Invalid)
    );
    let layer = BoxAuthLayer::new(auth.clone())
        .with_as_user("22222")
        .unwrap();
    let middleware = BoxAuthMiddleware::new(auth).with_as_user("22222").unwrap();
    let shown = format!("{layer:?} {middleware:?}");
    assert!(!shown.contains("a-developer-token-secret"), "{shown}");
}
