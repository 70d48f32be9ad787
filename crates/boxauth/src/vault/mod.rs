//! Many identities: a token vault ([`Vault`]'s docs state what it does and its protocol).

mod auth;
mod builder;
mod connect;
pub(crate) mod engine;
mod identity;
mod lru;
mod seal;
mod status;
mod sweep;

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use builder::VaultBuilder;
pub use engine::{ReauthReason, VaultCounts};
pub use seal::{KeyEnv, KeyFile, KeyProvider, KeySet, VaultKey};
pub use status::{IdentityStatus, IdentitySummary, VaultEvent};
pub use sweep::{SweepOptions, SweepReport};

use crate::auth::jwt::{JwtAuth, JwtConfig};
use crate::auth::{AuthOptions, Authentication, CachedAuth, CcgAuth, CcgConfig, OAuthConfig};
use crate::authorization::{AuthorizationManager, RevokeAccessTokenArgs};
use crate::error::{Error, Result, VaultError, VaultErrorKind};
use crate::secret::ClientSecret;
use crate::time::SharedTimeSource;
use crate::token::StoredToken;
use auth::VaultAuth;
use engine::Engine;
use identity::{Cell, OAUTH, RowSource, RowStorage};
use lru::Lru;
use status::{Hook, status_of};

/// The longest user key: an app's own user ID, an email address, a UUID.
const MAX_USER_KEY: usize = 256;

/// Milliseconds since the Unix epoch (negative before it).
pub(crate) fn millis(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// The time `millis` after the Unix epoch.
pub(crate) fn from_millis(millis: i64) -> SystemTime {
    let magnitude = Duration::from_millis(millis.unsigned_abs());
    if millis >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

/// The app a vault serves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum VaultApp {
    /// OAuth 2.0: each user connects (or is imported), and the vault keeps their tokens.
    OAuth(OAuthConfig),
    /// JWT: user tokens minted on demand ([`Vault::as_user`]); nothing durable.
    Jwt(JwtConfig),
    /// Client Credentials: user tokens minted on demand ([`Vault::as_user`]); nothing durable.
    Ccg(CcgConfig),
}

impl From<OAuthConfig> for VaultApp {
    fn from(config: OAuthConfig) -> Self {
        Self::OAuth(config)
    }
}

impl From<JwtConfig> for VaultApp {
    fn from(config: JwtConfig) -> Self {
        Self::Jwt(config)
    }
}

impl From<CcgConfig> for VaultApp {
    fn from(config: CcgConfig) -> Self {
        Self::Ccg(config)
    }
}

/// Where a vault keeps its identities.
#[derive(Clone)]
pub struct VaultStore(Arc<dyn Engine>);

impl fmt::Debug for VaultStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl VaultStore {
    /// This process's memory: for tests, demos and an app that runs as one process. Nothing
    /// survives the process.
    pub fn memory() -> Self {
        Self(Arc::new(engine::memory::MemoryEngine::default()))
    }

    /// PostgreSQL at `url` (`postgres://user:password@host:port/db`, `?sslmode=require` for TLS
    /// checked against the system's roots), with the default options (feature `postgres`).
    /// Nothing is sent until first use; [`Vault::init`] creates the schema.
    #[cfg(feature = "postgres")]
    pub fn postgres(url: &str) -> Result<Self> {
        Self::postgres_with(engine::postgres::PostgresOptions::new(url))
    }

    /// PostgreSQL with `options` (pool size, `synchronous_commit = remote_apply`, a CA).
    #[cfg(feature = "postgres")]
    pub fn postgres_with(options: engine::postgres::PostgresOptions) -> Result<Self> {
        Ok(Self(Arc::new(engine::postgres::PostgresEngine::new(
            options,
        )?)))
    }

    /// Statements sent to the store so far (for measuring).
    pub fn statements(&self) -> u64 {
        self.0.statements()
    }

    /// Creates the store's schema, or upgrades it ([`Vault::init`] without a vault).
    pub async fn init(&self) -> Result<()> {
        self.0.init().await
    }
}

/// The settings every identity of a vault shares.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) lease_ttl: Duration,
    pub(crate) fetch_deadline: Duration,
    pub(crate) lock_timeout: Duration,
    pub(crate) keepalive_after: Duration,
    pub(crate) state_ttl: Duration,
}

/// What a vault's identities share.
pub(crate) struct Shared {
    pub(crate) engine: Arc<dyn Engine>,
    pub(crate) keys: KeySet,
    pub(crate) clock: SharedTimeSource,
    pub(crate) settings: Settings,
    pub(crate) authorization: AuthorizationManager,
    pub(crate) app: VaultApp,
    hook: Option<Hook>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("engine", &self.engine)
            .field("keys", &self.keys)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn now_millis(&self) -> i64 {
        millis(self.clock.now())
    }

    /// When a refresh token issued at `now` is due for its keep-alive: after
    /// `keepalive_after`, give or take a tenth, so a fleet's identities do not come due together.
    pub(crate) fn next_keepalive(&self, now: i64) -> i64 {
        let spread = 0.9 + 0.2 * crate::network::unit_random();
        now.saturating_add(identity::duration_millis(
            self.settings.keepalive_after.mul_f64(spread),
        ))
    }

    pub(crate) fn emit(&self, event: VaultEvent) {
        if let Some(hook) = &self.hook {
            hook(&event);
        }
    }

    /// The app's client ID and secret (OAuth 2.0 apps; the revoke needs them).
    pub(crate) fn client_credentials(&self) -> (&str, &ClientSecret) {
        match &self.app {
            VaultApp::OAuth(config) => (&config.client_id, &config.client_secret),
            VaultApp::Ccg(config) => (&config.client_id, &config.client_secret),
            VaultApp::Jwt(config) => (&config.client_id, &config.client_secret),
        }
    }
}

/// A live identity.
#[derive(Clone)]
struct Live {
    auth: Arc<dyn Authentication>,
}

/// Many identities: a token vault for an app whose users each connect their own Box account.
///
/// A [`Vault`] runs Box's OAuth 2.0 flow per user (the seed's `authorize_user`,
/// `request_access_token`, refresh and revoke, for each user key of your app), keeps each user's
/// rotating refresh token sealed in a store shared by every host of the app (PostgreSQL, or this
/// process's memory), and hands out an [`Authentication`] per user that works everywhere an auth
/// does (`BoxClient`, the reqwest and tower middleware). A JWT or Client Credentials app gets
/// per-user tokens minted on demand with [`Vault::as_user`].
///
/// ```no_run
/// # async fn run(callback_url: &str) -> boxauth::Result<()> {
/// use boxauth::{AuthorizeOptions, Authentication, BoxClient, KeySet, OAuthConfig, Vault, VaultStore};
///
/// let vault = Vault::builder(OAuthConfig::new("client-id", "client-secret"))
///     .store(VaultStore::memory())
///     .keys(KeySet::from_file("/etc/myapp/vault.key")?)
///     .build()?;
/// // Alice clicks "Connect Box" in your app:
/// let request = vault.authorize_url("alice", AuthorizeOptions::default().redirect_uri("https://myapp.example/box/callback"))?;
/// // … Box redirects her browser to your callback; your app knows she is "alice":
/// vault.complete_authorization("alice", callback_url).await?;
/// // From then on, on any host of the app:
/// let me = BoxClient::from_shared(vault.auth("alice")?).users_me().await?;
/// # let _ = (request, me); Ok(()) }
/// ```
///
/// # The vault's protocol
///
/// Every identity is a [`CachedAuth`](crate::CachedAuth) over its row, so the refresh protocol
/// ([`CachedAuth`'s rules](crate::CachedAuth#the-refresh-protocol)) holds per user: a cached
/// token is served without a statement, one refresh runs for every caller of a process, and a
/// failing Box is met with back-off. Across processes and hosts, the row adds:
///
/// - **A lease, not a lock held across the Box call.** A refresh takes the row's lease with one
///   conditional `UPDATE` (free, or expired): owner and time, and in the same statement a
///   *spend marker* ("a refresh token is being spent"). No database connection is held while Box
///   answers. Others wait for the lease to end, then re-read the row and find the new token.
/// - **A write fenced by the generation.** The new tokens are written with
///   `… WHERE generation = g`, the generation the lease found, and the write ends the lease and
///   clears the marker. A holder whose lease was taken over, or an identity disconnected or
///   connected again meanwhile, cannot overwrite a newer token: its write finds no row, and the
///   token it got is revoked at Box rather than left alive. A write whose answer was lost is
///   sent again and finds itself done. So a refresh is two statements: the lease and the write.
/// - **Crash safety.** Nothing runs between Box's answer and the write. A process killed before
///   Box spent the token leaves a lease with the marker: the next holder (once the lease has
///   expired) tries the stored token once, and it works. Killed after the write: the row holds
///   the new token. Killed between Box's answer and the write — the one window no client can
///   close — the next holder's try is refused, and the identity is recorded as *lost in flight*
///   ([`ReauthReason::LostInFlight`]), counted apart from refusals by the user.
/// - **Unknown outcomes are not refusals.** A refresh Box did not answer in time
///   ([`VaultBuilder::fetch_deadline`], below the lease's lifetime) keeps the marker; 429s and
///   5xx are never terminal. Only `invalid_grant` on the stored refresh token makes an identity
///   need its user: one event ([`VaultEvent::NeedsReauthorization`]), and no request to Box for
///   it after that, from any process, until the user connects again.
/// - **Disconnect.** The row moves to a new generation in a *disconnecting* state (no refresh may
///   write after that), its tokens are revoked at Box, then the row is removed; a refresh racing
///   the disconnect revokes what it got.
/// - **Sealed at rest.** Tokens are sealed with AES-256-GCM under a [`KeySet`] (a key ID in
///   every value; the identity bound as associated data), so a database dump without the key
///   reveals no token, and a value copied to another row does not open.
/// - **Kept alive.** [`Vault::sweep`] (any host may run it, no leader) claims identities whose
///   refresh token is older than [`VaultBuilder::keepalive_after`] (default 30 days, jittered;
///   Box's tokens live 60) with `FOR UPDATE SKIP LOCKED`, and refreshes each once.
///
/// Cloning is cheap and shares everything.
#[derive(Clone)]
pub struct Vault {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    options: AuthOptions,
    live: Mutex<Lru<String, Live>>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("shared", &self.inner.shared)
            .field("live", &self.live().len())
            .finish()
    }
}

/// A user key checked: 1 to 256 bytes of text without control characters.
fn check_user_key(user_key: &str) -> Result<()> {
    if user_key.is_empty()
        || user_key.len() > MAX_USER_KEY
        || user_key.chars().any(char::is_control)
    {
        return Err(VaultError::new(
            VaultErrorKind::BadUserKey,
            format!(
                "a user key is 1 to {MAX_USER_KEY} bytes of text without control characters (this one has {} bytes)",
                user_key.len()
            ),
        )
        .into());
    }
    Ok(())
}

impl Vault {
    /// Creates the store's schema, or upgrades it (PostgreSQL: versioned, one process at a time
    /// under an advisory lock). Run it once per deploy, or at start: it is cheap when done.
    pub async fn init(&self) -> Result<()> {
        self.inner.shared.engine.init().await
    }

    fn live(&self) -> std::sync::MutexGuard<'_, Lru<String, Live>> {
        self.inner.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn oauth(&self) -> Result<&OAuthConfig> {
        match &self.inner.shared.app {
            VaultApp::OAuth(config) => Ok(config),
            _ => Err(VaultError::new(
                VaultErrorKind::WrongApp,
                "per-user connections need an OAuth 2.0 app; a JWT or Client Credentials vault mints user tokens with as_user",
            )
            .into()),
        }
    }

    /// The auth of `user_key`'s connected identity: a token whenever asked, refreshed by the
    /// vault's protocol. Nothing is read until a token is asked for; an identity that is not
    /// there is an error then ([`VaultErrorKind::UnknownIdentity`]).
    pub fn auth(&self, user_key: &str) -> Result<Arc<dyn Authentication>> {
        self.identity(user_key, true)
    }

    /// The live identity of `user_key`, or a new one, kept among the live ones if `remember`
    /// (the keep-alive does not push the app's busy identities out).
    fn identity(&self, user_key: &str, remember: bool) -> Result<Arc<dyn Authentication>> {
        check_user_key(user_key)?;
        if let Some(live) = self.live().get(user_key) {
            return Ok(live.auth);
        }
        let oauth = self.oauth()?.clone();
        let shared = &self.inner.shared;
        let cell = Arc::new(Cell::new());
        let storage = RowStorage {
            shared: shared.clone(),
            user_key: user_key.to_owned(),
            cell: cell.clone(),
        };
        let source = RowSource {
            oauth,
            cell: cell.clone(),
            fetch_deadline: shared.settings.fetch_deadline,
            shared: shared.clone(),
            user_key: user_key.to_owned(),
        };
        let options = self.inner.options.clone().storage(storage);
        let auth: Arc<dyn Authentication> = Arc::new(VaultAuth {
            auth: CachedAuth::from_source(source, options)?,
            cell,
            vault: Arc::downgrade(&self.inner),
            user_key: user_key.to_owned(),
        });
        if remember {
            self.live()
                .insert(user_key.to_owned(), Live { auth: auth.clone() });
        }
        Ok(auth)
    }

    /// The auth of Box user `box_user_id` through a JWT or Client Credentials app: tokens
    /// minted on demand (one request per user however many callers), cached in memory, nothing
    /// stored.
    pub fn as_user(&self, box_user_id: &str) -> Result<Arc<dyn Authentication>> {
        check_user_key(box_user_id)?;
        let key = format!("\u{0}as-user:{box_user_id}");
        if let Some(live) = self.live().get(key.as_str()) {
            return Ok(live.auth);
        }
        let mut options = self.inner.options.clone();
        options.storage = None;
        let auth: Arc<dyn Authentication> = match &self.inner.shared.app {
            VaultApp::Jwt(config) => Arc::new(JwtAuth::with_options(
                config
                    .clone()
                    .with_subject(crate::Subject::User(box_user_id.to_owned())),
                options,
            )?),
            VaultApp::Ccg(config) => Arc::new(CcgAuth::with_options(
                CcgConfig::user(
                    config.client_id.as_str(),
                    config.client_secret.clone(),
                    box_user_id,
                ),
                options,
            )?),
            VaultApp::OAuth(_) => {
                return Err(VaultError::new(
                    VaultErrorKind::WrongApp,
                    "as_user mints user tokens with a JWT or Client Credentials app; an OAuth 2.0 vault's users connect (auth(user_key))",
                )
                .into());
            }
        };
        self.live().insert(key, Live { auth: auth.clone() });
        Ok(auth)
    }

    /// Where `user_key`'s identity stands (one read of the store).
    pub async fn status(&self, user_key: &str) -> Result<IdentityStatus> {
        check_user_key(user_key)?;
        Ok(match self.inner.shared.engine.load(user_key).await? {
            None => IdentityStatus::NotConnected,
            Some(row) => status_of(
                row.state,
                row.reason,
                row.refreshed_at,
                row.access_expires_at,
                row.updated_at,
            ),
        })
    }

    /// Up to `limit` identities after `after` (in key order), only those that need their user
    /// when `needs_reauth`: page through with the last key of each page.
    pub async fn list(
        &self,
        needs_reauth: bool,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<IdentitySummary>> {
        let rows = self
            .inner
            .shared
            .engine
            .list(needs_reauth, after, limit)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| IdentitySummary {
                status: status_of(
                    row.state,
                    row.reason,
                    row.refreshed_at,
                    row.access_expires_at,
                    row.updated_at,
                ),
                user_key: row.user_key,
            })
            .collect())
    }

    /// How many identities are in each state, and the keep-alive's lag.
    pub async fn counts(&self) -> Result<VaultCounts> {
        let now = self.inner.shared.now_millis();
        self.inner.shared.engine.counts(now).await
    }

    /// Disconnects `user_key`: its tokens revoked at Box, its row removed, its live auth
    /// forgotten. A refresh racing the disconnect revokes what it gets. If Box does not answer
    /// the revoke, the identity stays *disconnecting* (no refresh runs for it) and the error is
    /// returned: call again.
    pub async fn disconnect(&self, user_key: &str) -> Result<()> {
        check_user_key(user_key)?;
        let shared = &self.inner.shared;
        let now = shared.now_millis();
        let Some(row) = shared.engine.begin_disconnect(user_key, now).await? else {
            self.live().remove(user_key);
            return Err(VaultError::new(
                VaultErrorKind::UnknownIdentity,
                format!("no identity is stored under {user_key:?}: nothing to disconnect"),
            )
            .into());
        };
        self.live().remove(user_key);
        match shared.keys.open(OAUTH, user_key, &row.sealed) {
            Ok(plain) => {
                let token: StoredToken = serde_json::from_slice(&plain).map_err(|e| {
                    Error::from(
                        VaultError::new(
                            VaultErrorKind::SealBroken,
                            format!("the sealed tokens of identity {user_key:?} are not tokens"),
                        )
                        .with_source(e),
                    )
                })?;
                let (client_id, client_secret) = shared.client_credentials();
                // Revoking the refresh token kills the pair, even when the access token has
                // expired.
                let revoked = token
                    .refresh_token
                    .clone()
                    .unwrap_or(token.access_token.clone());
                shared
                    .authorization
                    .revoke_access_token(RevokeAccessTokenArgs {
                        client_id: Some(client_id.to_owned()),
                        client_secret: Some(client_secret.clone()),
                        token: Some(revoked),
                        ..RevokeAccessTokenArgs::default()
                    })
                    .await?;
            }
            // Tokens nobody can open cannot be revoked here, and are useless to anyone reading
            // the store: the row goes.
            Err(error) => {
                tracing::warn!(user_key, error = %error.one_line(), "disconnecting an identity whose sealed tokens do not open; nothing revoked at Box");
            }
        }
        shared.engine.delete(user_key).await?;
        shared.emit(VaultEvent::Revoked {
            user_key: user_key.to_owned(),
        });
        Ok(())
    }

    /// Reseals up to `limit` identities sealed with a key other than the primary, after a new
    /// primary key was added: returns how many were resealed (0: every row is sealed with the
    /// primary, and the older keys may be retired). A row being refreshed meanwhile is left
    /// (its new value is sealed with the primary already).
    pub async fn reseal(&self, limit: u32) -> Result<u64> {
        let shared = &self.inner.shared;
        let primary = shared.keys.primary().id().to_owned();
        let mut resealed = 0;
        let mut after: Option<String> = None;
        loop {
            let batch = limit
                .saturating_sub(u32::try_from(resealed).unwrap_or(u32::MAX))
                .min(500);
            if batch == 0 {
                return Ok(resealed);
            }
            let rows = shared
                .engine
                .sealed_with_other_keys(&primary, after.as_deref(), batch)
                .await?;
            let Some(last) = rows.last() else {
                return Ok(resealed);
            };
            after = Some(last.user_key.clone());
            for row in rows {
                let plain = shared.keys.open(OAUTH, &row.user_key, &row.sealed)?;
                let sealed = shared.keys.seal(OAUTH, &row.user_key, &plain)?;
                if shared
                    .engine
                    .reseal(&row.user_key, row.generation, sealed)
                    .await?
                {
                    resealed += 1;
                }
            }
        }
    }

    /// How many identities live in memory now.
    pub fn live_identities(&self) -> usize {
        self.live().len()
    }
}
