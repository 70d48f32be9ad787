//! # boxauth-emulator
//!
//! A local Box authorization server, faithful to Box's documented behaviour, so Box authentication
//! can be developed and tested offline, without a Box account. Box's own SDKs cannot tell it from
//! Box: the same paths, form fields, JSON, error strings and lifetimes.
//!
//! | path | what it does |
//! |---|---|
//! | `GET`/`POST /api/oauth2/authorize` | the consent page: approve or deny, redirect with `code` and `state` |
//! | `POST /oauth2/token` | every grant: `authorization_code`, `refresh_token`, `client_credentials`, JWT bearer, token exchange |
//! | `POST /oauth2/revoke` | revoke an access or refresh token: the whole pair dies |
//! | `GET /2.0/users/me` | who a token acts as (`As-User` where Box allows it) |
//!
//! It also sends signed webhook deliveries to a URL of yours
//! ([`EmulatorHandle::send_webhook`], `POST /__emulator/webhooks/send`), as Box does.
//!
//! Box's rules, all enforced: codes live 30 s and work once (a replay revokes what the code
//! issued); refresh tokens live 60 days, work once and rotate (reusing a spent one revokes its
//! family); JWT assertions are RS256/RS384/RS512 only, signed with a registered key, with Box's
//! claim rules and error strings; client secrets are stored hashed and compared in constant time.
//! The full list of errors is [`BoxError`]; what the emulator does where Box documents nothing is in
//! [`behaviour::BEHAVIOURS`], each row marked documented, observed or inferred. Token and revoke requests are read as urlencoded
//! forms (what Box documents and its SDKs send) or as `multipart/form-data` (`curl -F`), as Box
//! reads them.
//!
//! ## In a test
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use boxauth::{AuthorizationManager, NetworkSession, RequestAccessTokenArgs};
//! use boxauth::RequestAccessTokenBoxSubjectType::Enterprise;
//! use boxauth_emulator::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ENTERPRISE_ID, Emulator, EmulatorConfig};
//!
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! let session = NetworkSession::builder().urls(emulator.urls()).build()?;
//! let token = AuthorizationManager::new(session)
//!     .request_access_token(RequestAccessTokenArgs::client_credentials(
//!         DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Enterprise, DEFAULT_ENTERPRISE_ID,
//!     ))
//!     .await?;
//! assert!(token.access_token.is_some());
//! emulator.clock().advance(std::time::Duration::from_secs(3601)); // the token has now expired
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```

// One call into the C library, in `memory.rs`, is the only unsafe code.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod behaviour;
mod clock;
mod config;
pub mod control;
mod errors;
mod export;
mod faults;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
pub mod generated_users;
mod grants;
pub mod headless;
mod jwt;
mod keys;
mod memory;
mod request_log;
mod routes;
mod server;
mod stamp;
mod state;
mod store;
mod tls;
mod tokens;
mod webhooks;

pub use clock::Clock;
pub use config::{
    AccessLevel, App, AppTokenSlot, AppTokens, ConfigError, ConfigErrorKind, DEFAULT_ADMIN_ID,
    DEFAULT_ADMIN_LOGIN, DEFAULT_APP_USER_ID, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
    DEFAULT_ENTERPRISE_ID, DEFAULT_KEY_ID, DEFAULT_MANAGED_USER_ID, DEFAULT_REDIRECT_URI,
    DEFAULT_SERVICE_ACCOUNT_ID, EmulatorConfig, Enterprise, Grant, Item, ItemKind, Lifetimes, Role,
    ServerLimits, User, World,
};
pub use errors::{BoxError, ErrorRow};
pub use export::ExportedConfig;
pub use faults::{DroppedConnection, Fault, FaultFuture, FaultLayer, FaultService, Faults};
pub use keys::AppKey;
pub use request_log::{Exchange, LogFormat};
pub use server::{Emulator, EmulatorHandle, StartError};
pub use state::StatsSnapshot;
pub use store::StoreSizes;
pub use tls::{TLS_NAMES, TlsError};
pub use webhooks::{DeliveryOutcome, WebhookDelivery};
