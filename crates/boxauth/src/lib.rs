//! # boxauth
//!
//! Authenticate to [Box](https://box.com) from Rust.
//!
//! - **Auth schemes** that hand out a valid token whenever you ask: [`DeveloperTokenAuth`],
//!   [`AppTokenAuth`] (a primary and a secondary App Token, for Box View and limited-access apps),
//!   [`OAuth`] (3-legged, with `state` checked), [`CcgAuth`] (Client Credentials Grant) and
//!   [`JwtAuth`] (Box's app config JSON with its encrypted key), all behind one
//!   [`Authentication`] trait, with downscoping and revoking.
//! - **One token manager** under every scheme, and under yours: a [`TokenSource`] says how to
//!   fetch a token, [`CachedAuth`] does the rest: a cached fast path with no lock and no
//!   allocation, refresh inside a margin before expiry without making anyone wait, one refresh
//!   however many tasks or processes need it, back-off while Box fails, and tokens in
//!   [`MemoryStorage`], [`FileStorage`] (atomic writes, mode 0600, a cross-process lock) or, with
//!   the `redis` feature, `RedisStorage` (one namespace per identity, a distributed refresh lock,
//!   waiters woken by pub/sub) for fleets of machines. Every expiry is decided on an injectable
//!   [`TimeSource`].
//! - [`AuthorizationManager`]: the four operations of Box's official SDKs over Box's OAuth 2.0
//!   endpoints, with every argument typed and the same bytes on the wire as Box's Python SDK.
//! - **Webhook signatures**: [`WebhookVerifier`] checks a Box webhook delivery (v2 signatures,
//!   two keys, 10 minutes) and says why one fails ([`WebhookVerdict`]); with the `webhook-layer`
//!   feature, `WebhookLayer` refuses bad deliveries with 403 before an axum handler runs.
//! - [`NetworkSession`]: one connection pool, [`BoxUrls`] to point everything at another host (the
//!   boxauth emulator, a proxy), timeouts, and retries on 429 (honouring `Retry-After`), 5xx and
//!   transport failures, with exponential backoff and jitter.
//!
//! ## Contents
//!
//! 0. [Auth schemes](#0-auth-schemes)
//!    - [The refresh protocol](#the-refresh-protocol)
//!    - [A scheme of your own](#a-scheme-of-your-own), [time](#time)
//! 1. [Send a user to Box's consent page](#1-send-a-user-to-boxs-consent-page)
//! 2. [Exchange the code](#2-exchange-the-code)
//! 3. [Refresh](#3-refresh)
//! 4. [Client credentials, JWT and downscoping](#4-client-credentials-jwt-and-downscoping)
//! 5. [Revoke](#5-revoke)
//! 6. [Errors](#6-errors)
//! 7. [Security](#7-security)
//!
//! ## 0. Auth schemes
//!
//! Pick the scheme your Box app uses; ask it for a token (or let [`BoxClient`] do it) as often as
//! you like. The token is cached, refreshed about a minute before it expires, and a refresh is
//! shared by every task of the process, and by every process using the same token file.
//!
//! ```no_run
//! # async fn run() -> boxauth::Result<()> {
//! use boxauth::{AuthOptions, Authentication, BoxClient, FileStorage, JwtAuth, JwtConfig};
//!
//! // Box's app config JSON, its encrypted private key parsed once.
//! let config = JwtConfig::from_config_file("box_config.json")?;
//! let auth = JwtAuth::with_options(
//!     config,
//!     AuthOptions::default().storage(FileStorage::new("/var/lib/myapp/box-token.json")),
//! )?;
//! let token = auth.retrieve_token().await?;          // Arc<StoredToken>: token.access_token.secret()
//! let me = BoxClient::new(auth.clone()).users_me().await?; // a 401 gets one retry, new token
//! let preview = auth
//!     .downscope_token(&["item_preview"], Some("https://api.box.com/2.0/files/123"), None)
//!     .await?;
//! auth.revoke_token().await?;
//! # let _ = (token, me, preview); Ok(()) }
//! ```
//!
//! | scheme | config | refresh | notes |
//! |---|---|---|---|
//! | [`DeveloperTokenAuth`] | the token | none: a 401 gives [`Error::DeveloperTokenExpired`] | 60 minutes |
//! | [`AppTokenAuth`] | [`AppTokenConfig`]: the primary and secondary App Tokens | none: a 401 moves to the secondary, then [`Error::AppTokensRefused`] | long-lived; replaceable at run time ([`AppTokenAuth::set_primary`]) |
//! | [`OAuth`] | [`OAuthConfig`] | refresh token, rotated, stored before use | [`OAuth::authorize_url`], [`OAuth::complete_authorization`] |
//! | [`CcgAuth`] | [`CcgConfig`] | a new client-credentials request | enterprise or user subject |
//! | [`JwtAuth`] | [`JwtConfig`] | a new signed assertion | corrects for clock skew from Box's `Date` |
//!
//! A fleet sharing one identity keeps it in Redis (feature `redis`):
//!
//! ```no_run
//! # #[cfg(feature = "redis")]
//! # fn run(config: boxauth::OAuthConfig) -> boxauth::Result<()> {
//! let storage = boxauth::RedisStorage::new("redis://redis.internal:6379/0", "boxauth:myapp:prod")?;
//! let auth = boxauth::OAuth::with_options(config, boxauth::AuthOptions::default().storage(storage))?;
//! # let _ = auth; Ok(()) }
//! ```
//!
//! ### The refresh protocol
//!
//! [`CachedAuth`'s documentation](CachedAuth#the-refresh-protocol) states it, rule by rule: a
//! cached token is served without a lock; inside the margin one refresh runs in the background
//! and nobody waits; an expired token is refreshed once for every caller, under the storage's
//! lock, and stored before anyone gets it (a write storage did not confirm is served from memory
//! and written again); `invalid_grant` re-reads storage once; while Box fails, refreshes back off
//! and a valid token keeps being served.
//!
//! ### A scheme of your own
//!
//! Implement [`TokenSource`] (one method: how to get a fresh token) and wrap it in
//! [`CachedAuth`]: caching, the margin, one refresh for all, back-off and storage come with it.
//! Box's schemes are built the same way (`CcgAuth` is `CachedAuth<CcgConfig>`).
//! `examples/custom_scheme/` keeps a downscoped token fresh from a parent auth.
//!
//! ```no_run
//! # use std::time::Duration;
//! use boxauth::{AuthOptions, Authentication, BoxFuture, CachedAuth, FetchContext, StoredToken, TokenSource};
//!
//! /// A token your own token service mints (a vault, a sidecar).
//! #[derive(Debug)]
//! struct FromSidecar;
//!
//! impl TokenSource for FromSidecar {
//!     fn fetch<'a>(&'a self, context: FetchContext<'a>) -> BoxFuture<'a, boxauth::Result<StoredToken>> {
//!         Box::pin(async move {
//!             let token = "…ask the sidecar…";
//!             Ok(StoredToken::new(token, context.now() + Duration::from_secs(3600)))
//!         })
//!     }
//! }
//!
//! # async fn run() -> boxauth::Result<()> {
//! let auth = CachedAuth::from_source(FromSidecar, AuthOptions::default())?;
//! let token = auth.retrieve_token().await?;
//! # let _ = token; Ok(()) }
//! ```
//!
//! ### Time
//!
//! Every expiry decision (the cache and its margin, the back-off, a JWT assertion's `exp`, the
//! expiry written to storage, a developer token's hour) reads the [`TimeSource`] in
//! [`AuthOptions::time_source`], the system clock by default. In tests, give it the emulator's
//! `Clock`: one `advance()` then moves Box and boxauth together, and nothing waits for real
//! time to pass.
//!
//! ## 1. Send a user to Box's consent page
//!
//! [`authorize_url`](AuthorizationManager::authorize_url) builds the URL;
//! [`authorize_user`](AuthorizationManager::authorize_user) sends that `GET` itself, as Box's SDK does.
//!
//! ```
//! use boxauth::{AuthorizationManager, AuthorizeUserArgs, NetworkSession};
//!
//! let manager = AuthorizationManager::new(NetworkSession::new()?);
//! let url = manager.authorize_url(
//!     &AuthorizeUserArgs::new("ly1nj6n11vionaie65emwzk575hnnmrk")
//!         .redirect_uri("http://localhost:3000/callback")
//!         .state("a-random-value-to-check-on-the-callback"),
//! );
//! assert_eq!(
//!     url,
//!     "https://account.box.com/api/oauth2/authorize?response_type=code\
//!      &client_id=ly1nj6n11vionaie65emwzk575hnnmrk\
//!      &redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback\
//!      &state=a-random-value-to-check-on-the-callback"
//! );
//! # Ok::<(), boxauth::Error>(())
//! ```
//!
//! ## 2. Exchange the code
//!
//! Box redirects to `redirect_uri?code=…&state=…`. Check `state`, then, within 30 seconds:
//!
//! ```no_run
//! # async fn run(manager: boxauth::AuthorizationManager, code: String) -> boxauth::Result<()> {
//! use boxauth::RequestAccessTokenArgs;
//!
//! let token = manager
//!     .request_access_token(RequestAccessTokenArgs::authorization_code(
//!         "ly1nj6n11vionaie65emwzk575hnnmrk",
//!         "hOzsTeFlT6ko0dme22uGbQal04SBPYc1",
//!         code,
//!     ))
//!     .await?;
//! let access = token.access_token.as_ref().map(|t| t.secret());
//! let refresh = token.refresh_token.clone(); // keep it: it works once
//! # let _ = (access, refresh); Ok(()) }
//! ```
//!
//! ## 3. Refresh
//!
//! A refresh token works **once**: store the new one before using the new access token.
//!
//! ```no_run
//! # async fn run(manager: boxauth::AuthorizationManager, refresh: boxauth::Token) -> boxauth::Result<()> {
//! use boxauth::RefreshAccessTokenArgs;
//!
//! let fresh = manager
//!     .refresh_access_token(RefreshAccessTokenArgs::new(
//!         "ly1nj6n11vionaie65emwzk575hnnmrk",
//!         "hOzsTeFlT6ko0dme22uGbQal04SBPYc1",
//!         refresh,
//!     ))
//!     .await?;
//! # let _ = fresh; Ok(()) }
//! ```
//!
//! ## 4. Client credentials, JWT and downscoping
//!
//! ```no_run
//! # async fn run(manager: boxauth::AuthorizationManager, jwt: String) -> boxauth::Result<()> {
//! use boxauth::{RequestAccessTokenArgs, RequestAccessTokenBoxSubjectType};
//!
//! // Client Credentials Grant, as the enterprise's service account.
//! let ccg = manager
//!     .request_access_token(RequestAccessTokenArgs::client_credentials(
//!         "client-id",
//!         "client-secret",
//!         RequestAccessTokenBoxSubjectType::Enterprise,
//!         "899905961",
//!     ))
//!     .await?;
//!
//! // A JWT assertion you signed (boxauth's JWT auth builds and signs it for you).
//! let server = manager
//!     .request_access_token(RequestAccessTokenArgs::jwt_bearer("client-id", "client-secret", jwt))
//!     .await?;
//!
//! // Downscope: a token that can only preview one file.
//! let parent = server.access_token.clone().expect("Box returns a token");
//! let preview_only = manager
//!     .request_access_token(
//!         RequestAccessTokenArgs::token_exchange(parent, "item_preview")
//!             .resource("https://api.box.com/2.0/files/123456"),
//!     )
//!     .await?;
//! for entry in preview_only.restricted_to.unwrap_or_default() {
//!     println!("{:?} on {:?}", entry.scope, entry.object);
//! }
//! # let _ = ccg; Ok(()) }
//! ```
//!
//! ## 5. Revoke
//!
//! ```no_run
//! # async fn run(manager: boxauth::AuthorizationManager, token: boxauth::Token) -> boxauth::Result<()> {
//! use boxauth::RevokeAccessTokenArgs;
//!
//! manager
//!     .revoke_access_token(RevokeAccessTokenArgs::new("client-id", "client-secret", token))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! ## 6. Errors
//!
//! Every operation returns [`Error`]. When Box says no, [`Error::Api`] carries the status,
//! `error`, `error_description`, the `box-request-id` header and the raw body, and its message says
//! what to do next. A `200` whose body holds `error` is an error too. An answer that is not what Box
//! documents (an HTML page from a proxy) is [`Error::InvalidResponse`], with the status and the
//! start of the body. No input from the network can make boxauth panic.
//!
//! ```
//! # fn show(result: boxauth::Result<boxauth::AccessToken>) {
//! match result {
//!     Err(boxauth::Error::Api(e)) if e.is("invalid_grant") => eprintln!("log in again: {e}"),
//!     Err(e) => eprintln!("{e}"),
//!     Ok(token) => println!("expires in {:?} s", token.expires_in),
//! }
//! # }
//! ```
//!
//! ## 7. Security
//!
//! - Redirects are never followed: a token request answered with a redirect would otherwise be
//!   replayed to another host.
//! - Client secrets, tokens, codes and assertions are [`ClientSecret`], [`Token`],
//!   [`AuthorizationCode`] and [`Assertion`]: their `Debug` prints `[redacted]`, they have no
//!   `PartialEq`, and their memory is wiped on drop. Error messages never quote a request body or
//!   a success body.
//! - A JWT app's [`PrivateKey`] is parsed once and its `Debug` prints only its size; a
//!   [`KeyError`] never quotes the passphrase or the key. RSA keys under 2048 bits are refused.
//! - Requests go over rustls; boxauth depends on neither OpenSSL nor the `rsa` crate.
//! - Token files are written atomically (journal, fsync, rename, fsync the directory) with mode
//!   0600; a write interrupted by a crash leaves the old token or the new one, never a torn file.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod api;
mod auth;
mod auth_config;
mod authorization;
mod error;
mod failpoint;
mod future;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
#[doc(hidden)]
pub mod internal;
#[cfg(any(feature = "reqwest-middleware", feature = "tower"))]
mod middleware;
mod network;
mod schemas;
mod secret;
mod source;
mod storage;
mod time;
mod token;
mod token_manager;
mod urls;
mod vault;
mod webhook;

pub use api::{BoxClient, User};
pub use auth::jwt::key::{JwtAlgorithm, PrivateKey};
pub use auth::jwt::{
    DEFAULT_ASSERTION_LIFETIME, JwtAuth, JwtConfig, JwtSource, MAX_ASSERTION_LIFETIME,
};
pub use auth::{
    ActorToken, AppTokenAuth, AppTokenConfig, AuthOptions, Authentication, AuthorizationRequest,
    AuthorizeOptions, CachedAuth, CcgAuth, CcgConfig, DeveloperTokenAuth, DeveloperTokenConfig,
    OAuth, OAuthConfig, Subject,
};
pub use auth_config::{AuthConfig, AuthMethod, TokenStore, from_env};
pub use authorization::{
    AuthorizationManager, AuthorizeUserArgs, AuthorizeUserResponseType, ExtraHeaders,
    RefreshAccessTokenArgs, RefreshAccessTokenGrantType, RequestAccessTokenActorTokenType,
    RequestAccessTokenArgs, RequestAccessTokenBoxSubjectType, RequestAccessTokenGrantType,
    RequestAccessTokenSubjectTokenType, RevokeAccessTokenArgs,
};
pub use error::{
    ApiError, ConfigError, ConfigErrorKind, Error, InvalidResponseError, KeyError, KeyErrorKind,
    NetworkError, NetworkErrorKind, ReauthorizationError, ReauthorizationKind, Result,
    StorageError, StorageErrorKind, TokenRefusal, VaultError, VaultErrorKind,
};
pub use future::{BoxFuture, TokenFuture};
#[cfg(feature = "reqwest-middleware")]
pub use middleware::BoxAuthMiddleware;
#[cfg(feature = "tower")]
pub use middleware::{BoxAuthLayer, BoxAuthService, CloneBody};
pub use network::{
    NetworkSession, NetworkSessionBuilder, ProxyConfig, RetryPolicy, USER_AGENT_VALUE,
    X_BOX_UA_VALUE,
};
pub use schemas::{
    AccessToken, AccessTokenIssuedTokenType, AccessTokenTokenType, FileMini, FileVersionMini,
    FolderMini, Resource, ResourceScope, ResourceScopeScope,
};
pub use secret::{
    Assertion, AuthorizationCode, AuthorizationHeader, ClientSecret, CodeVerifier, ConfigJson,
    Passphrase, Token, WebhookKey,
};
pub use source::{FetchContext, TokenSource};
#[cfg(feature = "redis")]
pub use storage::RedisStorage;
pub use storage::{FileStorage, MemoryStorage, RefreshLock, TokenStorage};
pub use time::{SharedTimeSource, SystemTimeSource, TimeSource};
pub use token::{DEFAULT_TOKEN_LIFETIME, StoredToken};
pub use token_manager::{DEFAULT_REFRESH_BACKOFF, DEFAULT_REFRESH_MARGIN, Unconfirmed};
pub use urls::{BoxUrls, DEFAULT_BASE_URL, DEFAULT_OAUTH2_URL};
#[cfg(feature = "postgres")]
pub use vault::engine::postgres::PostgresOptions;
pub use vault::{
    IdentityStatus, IdentitySummary, KeyEnv, KeyFile, KeyProvider, KeySet, ReauthReason,
    SweepOptions, SweepReport, Vault, VaultApp, VaultBuilder, VaultCounts, VaultEvent, VaultKey,
    VaultStore,
};
pub use webhook::{
    WEBHOOK_CLOCK_LEEWAY, WEBHOOK_MAX_AGE, WebhookKeySlot, WebhookVerdict, WebhookVerifier,
};
#[cfg(feature = "webhook-layer")]
pub use webhook::{WebhookLayer, WebhookService};
