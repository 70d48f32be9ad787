//! The world the emulator serves: enterprises, users, apps and items, plus lifetimes and limits.

mod defaults;
mod error;
pub(crate) mod file;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use defaults::{
    DEFAULT_ADMIN_ID, DEFAULT_ADMIN_LOGIN, DEFAULT_APP_USER_ID, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET, DEFAULT_ENTERPRISE_ID, DEFAULT_KEY_ID, DEFAULT_MANAGED_USER_ID,
    DEFAULT_REDIRECT_URI, DEFAULT_SERVICE_ACCOUNT_ID,
};
pub use error::{ConfigError, ConfigErrorKind};

use crate::clock::Clock;
use crate::keys::AppKey;

/// A grant an app may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grant {
    /// `authorization_code`.
    AuthorizationCode,
    /// `refresh_token`.
    RefreshToken,
    /// `client_credentials`.
    ClientCredentials,
    /// `urn:ietf:params:oauth:grant-type:jwt-bearer`.
    JwtBearer,
    /// `urn:ietf:params:oauth:grant-type:token-exchange`.
    TokenExchange,
}

impl Grant {
    /// Every grant.
    pub const ALL: [Grant; 5] = [
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::ClientCredentials,
        Self::JwtBearer,
        Self::TokenExchange,
    ];

    /// The `grant_type` wire value.
    pub fn wire(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
            Self::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }

    /// The grant for a `grant_type` value; also accepts the short names `jwt_bearer` and
    /// `token_exchange` (for config files).
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "authorization_code" => Self::AuthorizationCode,
            "refresh_token" => Self::RefreshToken,
            "client_credentials" => Self::ClientCredentials,
            "urn:ietf:params:oauth:grant-type:jwt-bearer" | "jwt_bearer" => Self::JwtBearer,
            "urn:ietf:params:oauth:grant-type:token-exchange" | "token_exchange" => {
                Self::TokenExchange
            }
            _ => return None,
        })
    }
}

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The enterprise's primary admin.
    Admin,
    /// A co-admin.
    Coadmin,
    /// A managed user.
    User,
    /// An app user, owned by one app.
    AppUser,
    /// An app's service account in an enterprise.
    ServiceAccount,
}

impl Role {
    /// The name used in config files and `emulator.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Coadmin => "coadmin",
            Self::User => "user",
            Self::AppUser => "app_user",
            Self::ServiceAccount => "service_account",
        }
    }

    /// Whether the user can act for others with `As-User`.
    pub fn is_admin(self) -> bool {
        matches!(self, Self::Admin | Self::Coadmin)
    }
}

/// An enterprise.
#[derive(Debug, Clone)]
pub struct Enterprise {
    /// Numeric ID, as a string.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A user.
#[derive(Debug, Clone)]
pub struct User {
    /// Numeric ID, as a string.
    pub id: String,
    /// The login (an email address).
    pub login: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The enterprise the user belongs to.
    pub enterprise_id: String,
    /// For app users and service accounts: the app's client ID.
    pub app_client_id: Option<String>,
}

/// Which users an app's server tokens may act as (Box's "App Access Level").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessLevel {
    /// "App Access Only": the service account and the app's own app users.
    AppOnly,
    /// "App + Enterprise Access": also the enterprise's managed users and admins.
    AppAndEnterprise,
}

/// An application registered in the Developer Console.
#[derive(Debug, Clone)]
pub struct App {
    /// The name shown on the consent page.
    pub name: String,
    /// The client ID.
    pub client_id: String,
    /// The client secret (kept here for export; the server compares hashes only).
    pub client_secret: String,
    /// The enterprise that owns the app.
    pub enterprise_id: String,
    /// The grants it may use.
    pub grants: Vec<Grant>,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Application scopes (`root_readwrite`, `manage_users`, …).
    pub scopes: Vec<String>,
    /// Registered public keys for JWT assertions.
    pub keys: Vec<AppKey>,
    /// App access level.
    pub access_level: AccessLevel,
    /// "Generate user access tokens".
    pub generate_user_tokens: bool,
    /// "Make API calls using the as-user header".
    pub as_user: bool,
    /// Authorized by the enterprise admin (needed for JWT and CCG).
    pub authorized: bool,
    /// The service account's user ID.
    pub service_account_id: String,
    /// Origins a browser app may call the token and revoke endpoints from (Box's "CORS Domains"),
    /// e.g. `http://localhost:3000`.
    pub cors_origins: Vec<String>,
    /// The app's App Tokens (an app of the App Token kind: Box View, limited access): each is
    /// a bearer token for the API as the app's service account, until revoked or rotated.
    pub app_tokens: AppTokens,
}

/// An app's two App Tokens, as the Developer Console shows them (Configuration → App Tokens):
/// a primary and a secondary, generated, revoked and regenerated one at a time, so that a
/// program can move to the other while one is rotated.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AppTokens {
    /// The primary token, if generated.
    pub primary: Option<String>,
    /// The secondary token, if generated.
    pub secondary: Option<String>,
}

impl std::fmt::Debug for AppTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppTokens")
            .field("primary", &self.primary.as_ref().map(|_| "[redacted]"))
            .field("secondary", &self.secondary.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// Which of an app's two App Tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppTokenSlot {
    /// The primary token.
    Primary,
    /// The secondary token.
    Secondary,
}

impl AppTokenSlot {
    /// `primary` or `secondary`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Secondary => "secondary",
        }
    }

    /// The slot named `primary` or `secondary`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "primary" => Some(Self::Primary),
            "secondary" => Some(Self::Secondary),
            _ => None,
        }
    }
}

impl AppTokens {
    /// Whether the app has any App Token (it is of the App Token kind).
    pub fn any(&self) -> bool {
        self.primary.is_some() || self.secondary.is_some()
    }

    /// The token in `slot`.
    pub fn get(&self, slot: AppTokenSlot) -> Option<&str> {
        match slot {
            AppTokenSlot::Primary => self.primary.as_deref(),
            AppTokenSlot::Secondary => self.secondary.as_deref(),
        }
    }

    /// The place of the token in `slot`.
    pub fn slot_mut(&mut self, slot: AppTokenSlot) -> &mut Option<String> {
        match slot {
            AppTokenSlot::Primary => &mut self.primary,
            AppTokenSlot::Secondary => &mut self.secondary,
        }
    }
}

/// File or folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// A file.
    File,
    /// A folder.
    Folder,
}

impl ItemKind {
    /// `file` or `folder`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Folder => "folder",
        }
    }
}

/// A file or folder, for downscoping to a `resource` or `box_shared_link`.
#[derive(Debug, Clone)]
pub struct Item {
    /// File or folder.
    pub kind: ItemKind,
    /// The item ID.
    pub id: String,
    /// The name.
    pub name: String,
    /// The owner's user ID.
    pub owner_id: String,
    /// Users besides the owner who can see it.
    pub collaborators: Vec<String>,
    /// Its shared link URL, if any.
    pub shared_link: Option<String>,
    /// A file's SHA-1.
    pub sha1: Option<String>,
}

/// The world: who exists and which apps are registered.
#[derive(Debug, Clone, Default)]
pub struct World {
    /// Enterprises.
    pub enterprises: Vec<Enterprise>,
    /// Users.
    pub users: Vec<User>,
    /// Apps.
    pub apps: Vec<App>,
    /// Files and folders.
    pub items: Vec<Item>,
}

/// How long things live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Authorization codes (Box: 30 s).
    pub code: Duration,
    /// Access tokens (Box: about 60 min).
    pub access_token: Duration,
    /// Refresh tokens (Box: 60 days).
    pub refresh_token: Duration,
    /// The latest a JWT's `exp` may be after its issue time (Box: 60 s).
    pub jwt_max_exp: Duration,
    /// Allowed clock difference when checking `exp` and `nbf`.
    pub jwt_leeway: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            code: Duration::from_secs(30),
            access_token: Duration::from_secs(3600),
            refresh_token: Duration::from_secs(60 * 24 * 3600),
            jwt_max_exp: Duration::from_secs(60),
            jwt_leeway: Duration::from_secs(5),
        }
    }
}

/// What one client may take of the server: time and connections. Every connection is closed when
/// it sends no complete request head within `header_read_timeout` (that covers idle keep-alive
/// connections and slowloris clients alike), a request whose body is not read and answered
/// within `request_timeout` gets `408` and its connection closed, and at most `max_connections`
/// are served at once (more wait in the listen queue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// How long a client may take to send a request's head (default 10 s).
    pub header_read_timeout: Duration,
    /// How long a request's body and answer may take (default 30 s).
    pub request_timeout: Duration,
    /// The most connections served at once (default 1024).
    pub max_connections: usize,
    /// The largest request body read (default 64 KiB; Box's token forms are a few KiB).
    pub max_body_bytes: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_body_bytes: 64 * 1024,
        }
    }
}

impl ServerLimits {
    /// Checks every limit is usable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let hour = Duration::from_secs(3600);
        for (name, value) in [
            (
                "the header read timeout (--header-timeout)",
                self.header_read_timeout,
            ),
            (
                "the request timeout (--request-timeout)",
                self.request_timeout,
            ),
        ] {
            if value.is_zero() || value > hour {
                return Err(ConfigError::invalid(format!(
                    "{name} must be between 1 ms and 1 hour (it is {value:?})"
                )));
            }
        }
        if !(1..=1_000_000).contains(&self.max_connections) {
            return Err(ConfigError::invalid(format!(
                "the connection limit (--max-connections) must be between 1 and 1000000 (it is {})",
                self.max_connections
            )));
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.max_body_bytes) {
            return Err(ConfigError::invalid(format!(
                "the body limit must be between 1 KiB and 64 MiB (it is {} bytes)",
                self.max_body_bytes
            )));
        }
        Ok(())
    }
}

/// Everything [`Emulator::start`](crate::Emulator::start) needs.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Where to listen (default `127.0.0.1:0`: a free port).
    pub addr: SocketAddr,
    /// The world.
    pub world: Arc<World>,
    /// Lifetimes.
    pub lifetimes: Lifetimes,
    /// How often expired codes, tokens and `jti`s are swept from memory (default 100 ms: short
    /// sweeps keep both memory and the longest pause small).
    pub sweep_interval: Duration,
    /// The clock (share it with a test to move time).
    pub clock: Clock,
    /// Serve `https://` with a certificate for `127.0.0.1`, `::1` and `localhost`, signed by a
    /// CA made at start ([`EmulatorHandle::ca_pem`](crate::EmulatorHandle::ca_pem)).
    pub tls: bool,
    /// Print each exchange on stderr in this format (default: not at all).
    pub log_format: Option<crate::LogFormat>,
    /// How many recent exchanges `GET /__emulator/requests` and
    /// [`EmulatorHandle::requests`](crate::EmulatorHandle::requests) keep (default 0: none).
    pub keep_requests: usize,
    /// Timeouts and connection limits.
    pub limits: ServerLimits,
    /// Answer the control API (`/__emulator/…`) to peers other than loopback ones too (default
    /// false: a container's published port or a proxy needs it; anyone who can reach the port
    /// can then reset the emulator and read its credentials).
    pub allow_remote_control: bool,
    /// The URL clients reach the emulator at, when it is not the address it listens on (a
    /// container's published port, a proxy): what [`EmulatorHandle::base_url`](crate::EmulatorHandle::base_url)
    /// and the exported files say. `http(s)://host[:port]`, no path.
    pub public_url: Option<String>,
    /// The names (DNS names or IP addresses) the `https://` certificate carries (default
    /// [`TLS_NAMES`](crate::TLS_NAMES): `127.0.0.1`, `::1`, `localhost`).
    pub tls_names: Vec<String>,
}

impl Default for EmulatorConfig {
    /// The default world: one enterprise, an admin, a managed user, an app user, and one app allowed
    /// every grant with a registered RSA key.
    fn default() -> Self {
        Self {
            world: Arc::new(defaults::world()),
            ..Self::default_without_world()
        }
    }
}

impl EmulatorConfig {
    /// The default settings around an empty world (no key is generated).
    pub(crate) fn default_without_world() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            world: Arc::new(World::default()),
            lifetimes: Lifetimes::default(),
            sweep_interval: Duration::from_millis(100),
            clock: Clock::system(),
            tls: false,
            log_format: None,
            keep_requests: 0,
            limits: ServerLimits::default(),
            allow_remote_control: false,
            public_url: None,
            tls_names: crate::tls::TLS_NAMES.map(str::to_owned).to_vec(),
        }
    }

    /// Reads a TOML world description (see `examples/emulator.toml`).
    pub fn from_toml_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = boxauth::internal::private_file::read_text(
            path,
            boxauth::internal::private_file::MAX_CONFIG_BYTES,
        )
        .map_err(|e| {
            ConfigError::new(
                ConfigErrorKind::Unreadable,
                format!("cannot read {}", path.display()),
            )
            .with_source(e)
        })?;
        Self::from_toml_str(&text).map_err(|e| e.in_context(path.display()))
    }

    /// Parses a TOML world description.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        file::parse(text)
    }

    /// The first app: the one `boxauth emulator` prints and exports.
    pub fn default_app(&self) -> Option<&App> {
        self.world.apps.first()
    }

    /// Checks that every reference resolves and every value is usable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.lifetimes.validate()?;
        self.limits.validate()?;
        if self.sweep_interval.is_zero() || self.sweep_interval > Duration::from_secs(3600) {
            return Err(ConfigError::invalid(format!(
                "the sweep interval (sweep_interval_ms) must be between 1 ms and 1 hour (it is {:?})",
                self.sweep_interval
            )));
        }
        if let Some(url) = &self.public_url {
            check_public_url(url)
                .map_err(|why| ConfigError::invalid(format!("the public URL {url:?} {why}")))?;
        }
        if self.tls_names.is_empty() || self.tls_names.iter().any(|n| n.trim().is_empty()) {
            return Err(ConfigError::invalid(
                "the TLS names must be at least one non-empty DNS name or IP address",
            ));
        }
        validate(&self.world)
    }

    /// The default settings and world, with `key` as the default app's key instead of a newly
    /// generated one (starts faster: no RSA key generation).
    pub fn default_with_key(key: AppKey) -> Self {
        Self {
            world: Arc::new(defaults::world_with_key(key)),
            ..Self::default_without_world()
        }
    }
}

/// `http(s)://host[:port]` with no path, query or fragment (a trailing `/` is refused too, so
/// URLs built from it have one slash).
fn check_public_url(url: &str) -> Result<(), &'static str> {
    let parsed = url::Url::parse(url).map_err(|_| "is not a URL")?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err("must be an http:// or https:// URL with a host");
    }
    if parsed.path() != "/" || url.ends_with('/') || parsed.query().is_some() {
        return Err("must have no path (scheme://host[:port])");
    }
    Ok(())
}

/// The longest lifetime the emulator takes: ten years, so every expiry fits its clock's
/// milliseconds with room to spare.
pub(crate) const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

impl Lifetimes {
    /// Checks each lifetime is in range: codes and tokens at least a second and at most ten
    /// years, the JWT limits at most a day.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = |name: &str, value: Duration, min: Duration, max: Duration| {
            if value < min || value > max {
                Err(ConfigError::invalid(format!(
                    "{name} must be between {} and {} seconds (it is {})",
                    min.as_secs(),
                    max.as_secs(),
                    value.as_secs()
                )))
            } else {
                Ok(())
            }
        };
        let second = Duration::from_secs(1);
        let day = Duration::from_secs(24 * 3600);
        check(
            "the code lifetime (code_ttl_secs)",
            self.code,
            second,
            MAX_LIFETIME,
        )?;
        check(
            "the access-token lifetime (access_token_ttl_secs, --access-token-ttl)",
            self.access_token,
            second,
            MAX_LIFETIME,
        )?;
        check(
            "the refresh-token lifetime (refresh_token_ttl_secs)",
            self.refresh_token,
            second,
            MAX_LIFETIME,
        )?;
        check(
            "the JWT exp maximum (jwt_max_exp_secs)",
            self.jwt_max_exp,
            second,
            day,
        )?;
        check(
            "the JWT leeway (jwt_leeway_secs)",
            self.jwt_leeway,
            Duration::ZERO,
            day,
        )
    }
}

fn unique<'a>(what: &str, ids: impl Iterator<Item = &'a str>) -> Result<(), ConfigError> {
    let mut seen = HashSet::new();
    for id in ids {
        if id.is_empty() {
            return Err(ConfigError::invalid(format!("a {what} has an empty id")));
        }
        if !seen.insert(id) {
            return Err(ConfigError::new(
                ConfigErrorKind::Duplicate,
                format!("two {what}s share the id {id:?}"),
            ));
        }
    }
    Ok(())
}

pub(crate) fn validate(world: &World) -> Result<(), ConfigError> {
    unique(
        "enterprise",
        world.enterprises.iter().map(|e| e.id.as_str()),
    )?;
    unique("user", world.users.iter().map(|u| u.id.as_str()))?;
    unique("user login", world.users.iter().map(|u| u.login.as_str()))?;
    unique(
        "app client_id",
        world.apps.iter().map(|a| a.client_id.as_str()),
    )?;
    let enterprise_exists = |id: &str| world.enterprises.iter().any(|e| e.id == id);
    for user in &world.users {
        if !enterprise_exists(&user.enterprise_id) {
            return Err(ConfigError::invalid(format!(
                "user {} names enterprise {:?}, which is not defined",
                user.id, user.enterprise_id
            )));
        }
        if matches!(user.role, Role::AppUser | Role::ServiceAccount)
            && !world
                .apps
                .iter()
                .any(|a| Some(&a.client_id) == user.app_client_id.as_ref())
        {
            return Err(ConfigError::invalid(format!(
                "{} {} must name its app's client_id in `app`",
                user.role.as_str(),
                user.id
            )));
        }
    }
    let mut app_tokens = HashSet::new();
    for app in &world.apps {
        if !enterprise_exists(&app.enterprise_id) {
            return Err(ConfigError::invalid(format!(
                "app {} names enterprise {:?}, which is not defined",
                app.client_id, app.enterprise_id
            )));
        }
        if app.client_secret.is_empty() {
            return Err(ConfigError::invalid(format!(
                "app {} has an empty client_secret",
                app.client_id
            )));
        }
        let service = world.users.iter().find(|u| u.id == app.service_account_id);
        if !service.is_some_and(|u| u.role == Role::ServiceAccount) {
            return Err(ConfigError::invalid(format!(
                "app {}: service account {:?} is not a user with role service_account",
                app.client_id, app.service_account_id
            )));
        }
        unique("key of app", app.keys.iter().map(|k| k.id.as_str()))?;
        for token in [&app.app_tokens.primary, &app.app_tokens.secondary]
            .into_iter()
            .flatten()
        {
            // Sent in a header and looked up as given: Box's own are 32 letters and digits.
            if !(16..=128).contains(&token.len())
                || !token.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(ConfigError::invalid(format!(
                    "app {}: an App Token must be 16 to 128 letters and digits",
                    app.client_id
                )));
            }
            if !app_tokens.insert(token.as_str()) {
                return Err(ConfigError::new(
                    ConfigErrorKind::Duplicate,
                    format!(
                        "app {}: an App Token is used twice (each must be unique)",
                        app.client_id
                    ),
                ));
            }
        }
        let mut seen = HashSet::new();
        for origin in &app.cors_origins {
            check_origin(origin).map_err(|why| {
                ConfigError::invalid(format!(
                    "app {}: CORS origin {origin:?} {why}",
                    app.client_id
                ))
            })?;
        }
        for uri in &app.redirect_uris {
            check_redirect_uri(uri).map_err(|why| {
                ConfigError::invalid(format!("app {}: redirect URI {uri:?} {why}", app.client_id))
            })?;
            if !seen.insert(uri) {
                return Err(ConfigError::invalid(format!(
                    "app {}: redirect URI {uri:?} is listed twice (Box refuses duplicates)",
                    app.client_id
                )));
            }
        }
    }
    let mut items = HashSet::new();
    for item in &world.items {
        if !items.insert((item.kind, item.id.as_str())) {
            return Err(ConfigError::invalid(format!(
                "two {}s share the id {:?}",
                item.kind.as_str(),
                item.id
            )));
        }
        if !world.users.iter().any(|u| u.id == item.owner_id) {
            return Err(ConfigError::invalid(format!(
                "{} {} is owned by {:?}, which is not a user",
                item.kind.as_str(),
                item.id,
                item.owner_id
            )));
        }
    }
    Ok(())
}

/// Box's rule: HTTPS, or plain HTTP for localhost and loopback addresses.
/// An origin is `scheme://host[:port]`: no path, query or fragment.
fn check_origin(origin: &str) -> Result<(), &'static str> {
    let parsed = url::Url::parse(origin).map_err(|_| "is not a URL")?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err("must be an http:// or https:// origin with a host");
    }
    if parsed.path() != "/"
        || origin.ends_with('/')
        || parsed.query().is_some()
        || parsed.fragment().is_some()
    {
        return Err("must be an origin only (scheme://host[:port], no path)");
    }
    Ok(())
}

fn check_redirect_uri(uri: &str) -> Result<(), &'static str> {
    let parsed = url::Url::parse(uri).map_err(|_| "is not a valid URL")?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if crate::routes::authorize::is_loopback(&parsed) => Ok(()),
        _ => Err("must be https, or http on localhost / a loopback address"),
    }
}
