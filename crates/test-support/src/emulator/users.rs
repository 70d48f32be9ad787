//! Many users connecting the default app, each through the real flow over HTTP: generated user
//! #`i` (`boxauth_emulator::generated_users`) opens the consent page and approves the app as a
//! person would without a browser (the page's cookie and CSRF token kept), and the app exchanges
//! the code at `/oauth2/token`. One agent keeps its connections open and eight users go through
//! at once: measured on 2026-12-07 (debug build, 2 cores shared with other builds), 200 users
//! took 10.2 s with a new HTTP client per request (`headless::answer`, `post_token`: building a
//! client with its TLS roots is most of it), 4.8 s with one agent per user ([`user_pair`]), and
//! 0.33 s with [`user_pairs`]; a thousand users take 1.5 s to 2.3 s (the emulator's `many_users`
//! test prints it).

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use boxauth::AccessToken;
use boxauth_emulator::EmulatorHandle;
use boxauth_emulator::generated_users;
use boxauth_emulator::headless::{Agent, Decision};

/// How many users go through the flow at once.
const AT_ONCE: usize = 8;

/// Generated user #`index`'s OAuth 2.0 pair (access and refresh token) for the default app,
/// through the consent page and the code exchange over HTTP. The world must have the user
/// (`EmulatorConfig::with_generated_users`).
pub async fn user_pair(emulator: &EmulatorHandle, index: usize) -> AccessToken {
    Connector::new(emulator).pair(index).await
}

/// [`user_pair`] for each generated user in `users`, several at once; in the order of `users`.
pub async fn user_pairs(emulator: &EmulatorHandle, users: Range<usize>) -> Vec<AccessToken> {
    let connector = Arc::new(Connector::new(emulator));
    let next = Arc::new(AtomicUsize::new(users.start));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..AT_ONCE.min(users.len()) {
        let (connector, next, end) = (connector.clone(), next.clone(), users.end);
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= end {
                    return done;
                }
                done.push((index, connector.pair(index).await));
            }
        });
    }
    let mut pairs: Vec<(usize, AccessToken)> = Vec::with_capacity(users.len());
    while let Some(done) = workers.join_next().await {
        pairs.extend(done.expect("a user's consent flow failed"));
    }
    pairs.sort_unstable_by_key(|(index, _)| *index);
    pairs.into_iter().map(|(_, pair)| pair).collect()
}

/// What every user's flow shares: the agent's connections, the app's credentials, the URLs.
struct Connector {
    agent: Agent,
    authorize_url: String,
    token_url: String,
    client_id: String,
    client_secret: String,
}

impl Connector {
    fn new(emulator: &EmulatorHandle) -> Self {
        let app = emulator.default_app();
        let mut authorize_url = url::Url::parse(&format!("{}/authorize", emulator.oauth2_url()))
            .expect("the emulator's OAuth 2.0 URL");
        authorize_url
            .query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &app.client_id);
        if let Some(redirect) = app.redirect_uris.first() {
            authorize_url
                .query_pairs_mut()
                .append_pair("redirect_uri", redirect);
        }
        Self {
            agent: Agent::new().expect("an HTTP client"),
            authorize_url: authorize_url.into(),
            token_url: format!("{}/oauth2/token", emulator.base_url()),
            client_id: app.client_id.clone(),
            client_secret: app.client_secret.clone(),
        }
    }

    async fn pair(&self, index: usize) -> AccessToken {
        let state = format!("user-{index}");
        let login = generated_users::login(index);
        let url = format!("{}&state={state}", self.authorize_url);
        let location = self
            .agent
            .answer(&url, &login, Decision::Approve)
            .await
            .unwrap_or_else(|e| panic!("{login} could not approve the app: {e}"));
        assert_eq!(
            super::query_value(&location, "state").as_deref(),
            Some(state.as_str())
        );
        let code = super::query_value(&location, "code").expect("the redirect carries a code");
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", &code)
            .append_pair("client_id", &self.client_id)
            .append_pair("client_secret", &self.client_secret)
            .finish();
        let response = self
            .agent
            .http()
            .post(&self.token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("the code exchange");
        let status = response.status().as_u16();
        let text = response.text().await.expect("the code exchange's answer");
        assert_eq!(status, 200, "{login}'s code exchange failed: {text}");
        serde_json::from_str(&text).expect("an AccessToken")
    }
}
