//! What every handler shares: the world, indexed; the store; the clock; counters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use subtle::ConstantTimeEq;

use crate::clock::Clock;
use crate::config::{App, EmulatorConfig, Grant, Item, ItemKind, Lifetimes, User, World};
use crate::errors::BoxError;
use crate::store::{AccessRecord, Grantee, Millis, Store, StoreSizes, Ttls};
use crate::tokens::random_bytes;

/// An app as the token endpoint sees it: its secret only as a salted SHA-256.
pub(crate) struct Client {
    /// Server-token grantees by user ID: every token for one subject shares one (bounded by the
    /// world's users).
    grantees: Mutex<HashMap<String, Grantee>>,
    /// The grantee of the app's service account (every enterprise token), made once.
    service: Option<Grantee>,
    pub(crate) app: usize,
    pub(crate) id: Arc<str>,
    pub(crate) scopes: Arc<[String]>,
    salt: [u8; 16],
    secret_hash: [u8; 32],
}

pub(crate) struct AppState {
    pub(crate) world: Arc<World>,
    clients: HashMap<String, Client>,
    users: HashMap<String, usize>,
    logins: HashMap<String, usize>,
    items: HashMap<(ItemKind, String), usize>,
    shared_links: HashMap<String, usize>,
    pub(crate) lifetimes: Lifetimes,
    pub(crate) ttls: Ttls,
    pub(crate) clock: Clock,
    store: Arc<Mutex<Store>>,
    pub(crate) stats: Arc<Stats>,
    /// Compared with a dummy hash when the client ID is unknown, so timing does not tell.
    dummy: Client,
    /// Every app's CORS origins.
    cors_origins: std::collections::HashSet<String>,
    /// The request log.
    pub(crate) log: Arc<crate::request_log::RequestLog>,
    /// The consent pages' CSRF tokens.
    pub(crate) consent_tokens: Arc<crate::routes::consent_tokens::ConsentTokens>,
    /// Every app's App Tokens: the app's index in `World::apps`.
    app_tokens: HashMap<String, usize>,
}

fn secret_hash(salt: &[u8; 16], secret: &str) -> [u8; 32] {
    let mut input = [0u8; 16 + 128];
    let digest = if secret.len() <= 128 {
        input[..16].copy_from_slice(salt);
        input[16..16 + secret.len()].copy_from_slice(secret.as_bytes());
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &input[..16 + secret.len()])
    } else {
        let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        context.update(salt);
        context.update(secret.as_bytes());
        context.finish()
    };
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// What every version of the world shares: a world edit swaps the directory, not these.
struct Shared {
    lifetimes: Lifetimes,
    clock: Clock,
    store: Arc<Mutex<Store>>,
    stats: Arc<Stats>,
    log: Arc<crate::request_log::RequestLog>,
    consent_tokens: Arc<crate::routes::consent_tokens::ConsentTokens>,
}

fn millis(duration: std::time::Duration) -> Millis {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl AppState {
    pub(crate) fn new(config: &EmulatorConfig) -> Self {
        Self::build(
            config.world.clone(),
            Shared {
                lifetimes: config.lifetimes,
                clock: config.clock.clone(),
                store: Arc::default(),
                stats: Arc::default(),
                log: Arc::new(crate::request_log::RequestLog::new(
                    config.log_format,
                    config.keep_requests,
                )),
                consent_tokens: Arc::default(),
            },
        )
    }

    /// The same store, clock, counters and log, serving `world` (a world edit).
    pub(crate) fn with_world(&self, world: Arc<World>) -> Self {
        Self::build(
            world,
            Shared {
                lifetimes: self.lifetimes,
                clock: self.clock.clone(),
                store: self.store.clone(),
                stats: self.stats.clone(),
                log: self.log.clone(),
                consent_tokens: self.consent_tokens.clone(),
            },
        )
    }

    fn build(world: Arc<World>, shared: Shared) -> Self {
        let client = |index: usize, app: &App| {
            let salt = random_bytes::<16>();
            let id: Arc<str> = Arc::from(app.client_id.as_str());
            let scopes: Arc<[String]> = Arc::from(app.scopes.clone());
            Client {
                grantees: Mutex::new(HashMap::new()),
                service: Some(Grantee::new(
                    id.clone(),
                    Arc::from(app.service_account_id.as_str()),
                    scopes.clone(),
                )),
                app: index,
                id,
                scopes,
                secret_hash: secret_hash(&salt, &app.client_secret),
                salt,
            }
        };
        let clients = world
            .apps
            .iter()
            .enumerate()
            .map(|(index, app)| (app.client_id.clone(), client(index, app)))
            .collect();
        let dummy_salt = random_bytes::<16>();
        let dummy = Client {
            grantees: Mutex::new(HashMap::new()),
            service: None,
            app: usize::MAX,
            id: Arc::from(""),
            scopes: Arc::from(Vec::new()),
            secret_hash: secret_hash(&dummy_salt, "unknown client"),
            salt: dummy_salt,
        };
        let cors_origins = world
            .apps
            .iter()
            .flat_map(|app| app.cors_origins.iter().cloned())
            .collect();
        let app_tokens = world
            .apps
            .iter()
            .enumerate()
            .flat_map(|(index, app)| {
                [&app.app_tokens.primary, &app.app_tokens.secondary]
                    .into_iter()
                    .flatten()
                    .map(move |token| (token.clone(), index))
            })
            .collect();
        Self {
            app_tokens,
            log: shared.log,
            consent_tokens: shared.consent_tokens,
            cors_origins,
            users: world
                .users
                .iter()
                .enumerate()
                .map(|(i, u)| (u.id.clone(), i))
                .collect(),
            logins: world
                .users
                .iter()
                .enumerate()
                .map(|(i, u)| (u.login.to_ascii_lowercase(), i))
                .collect(),
            items: world
                .items
                .iter()
                .enumerate()
                .map(|(i, it)| ((it.kind, it.id.clone()), i))
                .collect(),
            shared_links: world
                .items
                .iter()
                .enumerate()
                .filter_map(|(i, it)| it.shared_link.clone().map(|link| (link, i)))
                .collect(),
            clients,
            lifetimes: shared.lifetimes,
            ttls: Ttls {
                code: millis(shared.lifetimes.code),
                access: millis(shared.lifetimes.access_token),
                refresh: millis(shared.lifetimes.refresh_token),
            },
            clock: shared.clock,
            store: shared.store,
            stats: shared.stats,
            dummy,
            world,
        }
    }

    /// Now, in milliseconds since the epoch, on the emulator's clock.
    pub(crate) fn now(&self) -> Millis {
        match self.clock.now().duration_since(std::time::UNIX_EPOCH) {
            Ok(since) => millis(since),
            Err(_) => 0,
        }
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than stopping: keep serving.
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn store_sizes(&self) -> StoreSizes {
        self.store().sizes()
    }

    /// The client with this ID, if the secret matches (compared in constant time).
    pub(crate) fn authenticate(
        &self,
        client_id: Option<&str>,
        secret: Option<&str>,
    ) -> Result<&Client, BoxError> {
        let client = client_id.and_then(|id| self.clients.get(id));
        let candidate = client.unwrap_or(&self.dummy);
        let presented = secret_hash(&candidate.salt, secret.unwrap_or_default());
        let matches: bool = presented.ct_eq(&candidate.secret_hash).into();
        match client {
            Some(client) if matches && secret.is_some() => Ok(client),
            _ => Err(BoxError::InvalidClient),
        }
    }

    /// The grantee of a server token (JWT, CCG) of `client` for `user_id`, with the app's scopes.
    pub(crate) fn server_grantee(&self, client: &Client, user_id: &str) -> Grantee {
        if let Some(service) = client.service.as_ref().filter(|g| &*g.user_id == user_id) {
            return service.clone();
        }
        let mut grantees = client.grantees.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(grantee) = grantees.get(user_id) {
            return grantee.clone();
        }
        let grantee = Grantee::new(client.id.clone(), Arc::from(user_id), client.scopes.clone());
        grantees.insert(user_id.to_owned(), grantee.clone());
        grantee
    }

    /// What a bearer token on the API stands for: a live access token of the store, or an App
    /// Token (its app's service account, unrestricted, until it is revoked or rotated).
    pub(crate) fn bearer(&self, token: &str, now: Millis) -> Option<AccessRecord> {
        if let Some(record) = self.store().access(token, now) {
            return Some(record.clone());
        }
        let app = &self.world.apps[*self.app_tokens.get(token)?];
        let client = self.clients.get(&app.client_id)?;
        Some(AccessRecord {
            grantee: self.server_grantee(client, &app.service_account_id),
            expires_at: Millis::MAX,
            family: None,
            restricted_to: None,
        })
    }

    /// The client with this ID, without checking a secret (token exchange, consent page).
    pub(crate) fn client(&self, client_id: &str) -> Option<&Client> {
        self.clients.get(client_id)
    }

    /// Whether an app of the world lists `origin` among its CORS domains.
    pub(crate) fn cors_allows(&self, origin: &str) -> bool {
        self.cors_origins.contains(origin)
    }

    pub(crate) fn app(&self, client: &Client) -> &App {
        &self.world.apps[client.app]
    }

    pub(crate) fn user(&self, id: &str) -> Option<&User> {
        self.users.get(id).map(|&i| &self.world.users[i])
    }

    pub(crate) fn user_by_login(&self, login: &str) -> Option<&User> {
        self.logins
            .get(&login.trim().to_ascii_lowercase())
            .map(|&i| &self.world.users[i])
    }

    pub(crate) fn item(&self, kind: ItemKind, id: &str) -> Option<(usize, &Item)> {
        self.items
            .get(&(kind, id.to_owned()))
            .map(|&i| (i, &self.world.items[i]))
    }

    pub(crate) fn item_by_shared_link(&self, link: &str) -> Option<(usize, &Item)> {
        self.shared_links
            .get(link.trim_end_matches('/'))
            .or_else(|| self.shared_links.get(link))
            .map(|&i| (i, &self.world.items[i]))
    }
}

/// Request counters, by grant.
#[derive(Default)]
pub(crate) struct Stats {
    requests: [AtomicU64; 5],
    issued: [AtomicU64; 5],
    pub(crate) refresh_token_reuses: AtomicU64,
    pub(crate) code_replays: AtomicU64,
    pub(crate) revocations: AtomicU64,
}

fn index(grant: Grant) -> usize {
    Grant::ALL.iter().position(|g| *g == grant).unwrap_or(0)
}

impl Stats {
    pub(crate) fn request(&self, grant: Grant) {
        self.requests[index(grant)].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn issued(&self, grant: Grant) {
        self.issued[index(grant)].fetch_add(1, Ordering::Relaxed);
    }

    /// Every counter back to zero.
    pub(crate) fn reset(&self) {
        for counter in self.requests.iter().chain(&self.issued).chain([
            &self.refresh_token_reuses,
            &self.code_replays,
            &self.revocations,
        ]) {
            counter.store(0, Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> StatsSnapshot {
        let load =
            |counters: &[AtomicU64; 5]| counters.each_ref().map(|c| c.load(Ordering::Relaxed));
        StatsSnapshot {
            requests: load(&self.requests),
            issued: load(&self.issued),
            refresh_token_reuses: self.refresh_token_reuses.load(Ordering::Relaxed),
            code_replays: self.code_replays.load(Ordering::Relaxed),
            revocations: self.revocations.load(Ordering::Relaxed),
        }
    }
}

/// What the emulator has seen so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsSnapshot {
    requests: [u64; 5],
    issued: [u64; 5],
    /// Spent refresh tokens presented again (each one revoked its family).
    pub refresh_token_reuses: u64,
    /// Authorization codes presented a second time.
    pub code_replays: u64,
    /// Successful revocations.
    pub revocations: u64,
}

impl StatsSnapshot {
    /// Token requests with this `grant_type`, whatever the outcome.
    pub fn requests(&self, grant: Grant) -> u64 {
        self.requests[index(grant)]
    }

    /// Tokens issued by this grant.
    pub fn issued(&self, grant: Grant) -> u64 {
        self.issued[index(grant)]
    }

    /// Token requests of every grant.
    pub fn total_requests(&self) -> u64 {
        self.requests.iter().sum()
    }
}
