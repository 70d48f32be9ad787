//! The emulator as tests use it: started on a free port, with helpers to sign assertions with the
//! default app's key, to get a code through the real consent page (for many users at once:
//! [`user_pairs`]), and to call Box's endpoints by hand ([`service_token`], [`exchange_code`],
//! [`refresh`], [`revoke`], [`exchange_token`], [`users_me`], …).

mod requests;
mod users;

pub use requests::{
    ccg_form, exchange_code, exchange_token, post_body, post_form, post_token, refresh, revoke,
    service_form, service_token, user_token, users_me,
};
pub use users::{user_pair, user_pairs};

use aws_lc_rs::rand::SecureRandom;
use aws_lc_rs::signature::{self, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use boxauth::{
    AccessToken, AuthOptions, Authentication, AuthorizationManager, AuthorizationRequest,
    AuthorizeOptions, AuthorizeUserArgs, CcgAuth, CcgConfig, NetworkSession, OAuth, ProxyConfig,
    RetryPolicy, StoredToken, TokenStorage,
};
use boxauth_emulator::headless::{self, Decision};
use boxauth_emulator::{
    DEFAULT_ADMIN_LOGIN, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ENTERPRISE_ID,
    DEFAULT_KEY_ID, Emulator, EmulatorConfig, EmulatorHandle,
};
use serde_json::{Value, json};

/// The default world on a free port.
pub async fn start() -> EmulatorHandle {
    start_with(EmulatorConfig::default()).await
}

/// `config` on a free port.
pub async fn start_with(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start(config).await.expect("start the emulator")
}

/// The default world over `https://`, its certificate signed by a CA made for this run.
pub async fn start_tls() -> EmulatorHandle {
    start_with(EmulatorConfig {
        tls: true,
        ..EmulatorConfig::default()
    })
    .await
}

/// A session for the emulator: no proxy, no retries (tests see every answer as it is), and the
/// emulator's CA trusted when it serves TLS.
pub fn session(emulator: &EmulatorHandle) -> NetworkSession {
    let mut builder = NetworkSession::builder()
        .urls(emulator.urls())
        .proxy(ProxyConfig::None)
        .retry_policy(RetryPolicy::none());
    if let Some(ca) = emulator.ca_pem() {
        builder = builder.add_root_certificates(ca);
    }
    builder.build().expect("build a session")
}

/// An `AuthorizationManager` talking to the emulator.
pub fn manager(emulator: &EmulatorHandle) -> AuthorizationManager {
    AuthorizationManager::new(session(emulator))
}

/// Random printable characters, for `jti`s.
pub fn random_id(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut bytes)
        .unwrap();
    bytes.iter().map(|b| char::from(b'a' + b % 26)).collect()
}

/// Now, in seconds, on the emulator's clock.
pub fn now(emulator: &EmulatorHandle) -> i64 {
    emulator.clock().unix_seconds()
}

/// Claims Box accepts for an enterprise token of the default app: `exp` 30 s ahead.
pub fn enterprise_claims(emulator: &EmulatorHandle) -> Value {
    json!({
        "iss": DEFAULT_CLIENT_ID,
        "sub": DEFAULT_ENTERPRISE_ID,
        "box_sub_type": "enterprise",
        "aud": "https://api.box.com/oauth2/token",
        "jti": random_id(32),
        "exp": now(emulator) + 30,
    })
}

/// `{"alg": alg, "typ": "JWT", "kid": <the default key>}`.
pub fn header(alg: &str) -> Value {
    json!({"alg": alg, "typ": "JWT", "kid": DEFAULT_KEY_ID})
}

/// A JWT with `header` and `claims`, signed with the default app's private key per `header.alg`
/// (RS256/RS384/RS512; any other `alg` gets an empty signature).
pub fn sign(emulator: &EmulatorHandle, header: &Value, claims: &Value) -> String {
    let pkcs8 = emulator.default_app().keys[0]
        .private_pkcs8
        .clone()
        .expect("the default key has its private half");
    sign_with(&pkcs8, header, claims)
}

/// A JWT with `header` and `claims`, signed with the RSA key `pkcs8` (DER) per `header.alg`.
pub fn sign_with(pkcs8: &[u8], header: &Value, claims: &Value) -> String {
    let key = RsaKeyPair::from_pkcs8(pkcs8).unwrap();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let padding: &dyn signature::RsaEncoding = match header["alg"].as_str() {
        Some("RS256") => &signature::RSA_PKCS1_SHA256,
        Some("RS384") => &signature::RSA_PKCS1_SHA384,
        Some("RS512") => &signature::RSA_PKCS1_SHA512,
        _ => return format!("{input}."),
    };
    let mut signature = vec![0u8; key.public_modulus_len()];
    key.sign(
        padding,
        &aws_lc_rs::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// A valid RS256 assertion for the default app's service account.
pub fn assertion(emulator: &EmulatorHandle) -> String {
    sign(emulator, &header("RS256"), &enterprise_claims(emulator))
}

/// Approves the consent page at `url` (an authorization URL) as the admin: the URL Box
/// redirected to, carrying the code and the state.
pub async fn approve(url: &str) -> String {
    headless::answer(url, DEFAULT_ADMIN_LOGIN, Decision::Approve)
        .await
        .expect("the admin approves the app")
}

/// An OAuth 2.0 login through the consent page: its request (the page's URL and the state), the
/// code Box's redirect carried, and the token the login stored.
pub struct Login {
    pub request: AuthorizationRequest,
    pub code: String,
    pub token: Arc<StoredToken>,
}

/// Logs `oauth` in with `options` through the consent page, approved as the admin.
pub async fn log_in(oauth: &OAuth, options: AuthorizeOptions) -> Login {
    let request = oauth.authorize_url(options);
    let callback = approve(&request.url).await;
    let token = oauth
        .complete_authorization(&request, &callback)
        .await
        .expect("the login completes");
    Login {
        code: query_value(&callback, "code").expect("the redirect carries a code"),
        request,
        token,
    }
}

/// Goes through the consent page as the admin and returns the URL Box redirected to.
pub async fn consent(
    emulator: &EmulatorHandle,
    args: AuthorizeUserArgs,
    decision: Decision,
) -> String {
    let url = manager(emulator).authorize_url(&args);
    headless::answer(&url, DEFAULT_ADMIN_LOGIN, decision)
        .await
        .expect("answer the consent page")
}

/// A fresh authorization code for the default app, approved by the admin.
pub async fn authorization_code(emulator: &EmulatorHandle) -> String {
    let location = consent(
        emulator,
        AuthorizeUserArgs::new(DEFAULT_CLIENT_ID).state("s"),
        Decision::Approve,
    )
    .await;
    query_value(&location, "code").expect("the redirect carries a code")
}

/// A fresh OAuth 2.0 pair (access and refresh token) for the default app: a code approved on the
/// consent page, exchanged at `/oauth2/token`.
pub async fn oauth_pair(emulator: &EmulatorHandle) -> AccessToken {
    let code = authorization_code(emulator).await;
    let (status, pair) = exchange_code(emulator, &code).await;
    assert_eq!(status, 200, "the code exchange failed: {pair}");
    serde_json::from_value(pair).expect("an AccessToken")
}

/// A fresh OAuth 2.0 pair ([`oauth_pair`]) put in `storage` as issued now on the emulator's
/// clock; returns what was stored.
pub async fn stored_oauth_pair(
    emulator: &EmulatorHandle,
    storage: &impl TokenStorage,
) -> StoredToken {
    let pair = oauth_pair(emulator).await;
    let stored = StoredToken::from_access_token(pair, emulator.clock().now()).unwrap();
    storage.store(&stored).await.unwrap();
    stored
}

/// `token` as it stands an hour after it was issued, on the system clock: its access token
/// expired a second ago. For tests whose other processes decide expiry on the system clock and
/// cannot share an in-process one.
pub fn expired_on_the_system_clock(token: AccessToken) -> StoredToken {
    let mut stored = StoredToken::from_access_token(token, SystemTime::now()).unwrap();
    stored.expires_at = SystemTime::now() - Duration::from_secs(1);
    stored
}

/// The token a background refresh puts in `auth`'s cache: waits (for an event, not for a time)
/// until the cache holds a token valid beyond the margin again.
pub async fn refreshed(auth: &dyn Authentication) -> Arc<StoredToken> {
    loop {
        if let Some(token) = auth.cached_token() {
            return token;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// `options` on [`session`] and the emulator's clock: one `emulator.clock().advance()` moves Box
/// and boxauth together.
pub fn options_for(emulator: &EmulatorHandle, options: AuthOptions) -> AuthOptions {
    options
        .session(session(emulator))
        .time_source(emulator.clock().clone())
}

/// Client Credentials for the default app's enterprise, on [`options_for`] (the emulator's
/// session and clock) and `options` (storage, refresh margin, …).
pub fn ccg_auth(emulator: &EmulatorHandle, options: AuthOptions) -> CcgAuth {
    CcgAuth::with_options(
        CcgConfig::enterprise(
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            DEFAULT_ENTERPRISE_ID,
        ),
        options_for(emulator, options),
    )
    .expect("a CcgAuth")
}

/// [`ccg_auth`] keeping its token in `storage`, refreshed `margin` before it expires.
pub fn ccg_stored(
    emulator: &EmulatorHandle,
    storage: impl TokenStorage + 'static,
    margin: std::time::Duration,
) -> CcgAuth {
    ccg_auth(
        emulator,
        AuthOptions::default()
            .storage(storage)
            .refresh_margin(margin),
    )
}

/// A query parameter of `url`.
pub fn query_value(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}
