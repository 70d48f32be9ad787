//! Building a [`Vault`]: its app, store, keys, the options every identity shares, and the
//! settings of its protocol.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::lru::Lru;
use super::status::{Hook, VaultEvent};
use super::{Inner, KeySet, Settings, Shared, Vault, VaultApp, VaultKey, VaultStore};
use crate::auth::AuthOptions;
use crate::authorization::AuthorizationManager;
use crate::error::{Error, Result, VaultError, VaultErrorKind};

/// Builds a [`Vault`].
pub struct VaultBuilder {
    app: VaultApp,
    store: Option<VaultStore>,
    keys: Option<KeySet>,
    options: AuthOptions,
    settings: Settings,
    capacity: usize,
    hook: Option<Hook>,
}

impl fmt::Debug for VaultBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultBuilder")
            .field("store", &self.store)
            .field("keys", &self.keys)
            .field("settings", &self.settings)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl VaultBuilder {
    /// Keeps identities in `store` (default: memory).
    pub fn store(mut self, store: VaultStore) -> Self {
        self.store = Some(store);
        self
    }

    /// Seals tokens with `keys` (required for an OAuth 2.0 app).
    pub fn keys(mut self, keys: KeySet) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The session, margin, back-off and clock every identity uses (as for any scheme).
    pub fn options(mut self, options: AuthOptions) -> Self {
        self.options = options;
        self
    }

    /// At most this many identities live in memory (default 10,000); the least recently used
    /// are forgotten and read from the store again on their next use.
    pub fn capacity(mut self, identities: usize) -> Self {
        self.capacity = identities.max(1);
        self
    }

    /// A refresh token older than this is renewed by [`Vault::sweep`] (default 30 days, give or
    /// take a tenth). Box's refresh tokens live 60 days; every renewal spends one, so not
    /// daily.
    pub fn keepalive_after(mut self, age: Duration) -> Self {
        self.settings.keepalive_after = age;
        self
    }

    /// How long a refresh's lease lasts if its holder stops (default 120 s). Must exceed the
    /// fetch deadline: a holder never writes after others may have taken over.
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.settings.lease_ttl = ttl;
        self
    }

    /// How long a refresh waits for Box before its outcome counts as unknown (default 60 s).
    pub fn fetch_deadline(mut self, deadline: Duration) -> Self {
        self.settings.fetch_deadline = deadline;
        self
    }

    /// How long a connection's `state` stays good (default 10 minutes).
    pub fn state_ttl(mut self, ttl: Duration) -> Self {
        self.settings.state_ttl = ttl;
        self
    }

    /// Called for every [`VaultEvent`], on the task where it happened: keep it quick (spawn what
    /// is slow).
    pub fn on_event(mut self, hook: impl Fn(&VaultEvent) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// The vault. Nothing is sent to the store or to Box yet.
    pub fn build(self) -> Result<Vault> {
        if self.settings.fetch_deadline >= self.settings.lease_ttl {
            return Err(Error::config(format!(
                "the fetch deadline ({} s) must be shorter than the lease ({} s): a refresh must \
                 end before others may take its identity over",
                self.settings.fetch_deadline.as_secs(),
                self.settings.lease_ttl.as_secs()
            )));
        }
        let keys = match (&self.app, self.keys) {
            (_, Some(keys)) => keys,
            (VaultApp::OAuth(_), None) => {
                return Err(VaultError::new(
                    VaultErrorKind::BadKey,
                    "an OAuth 2.0 vault seals its users' tokens: give it a key set (VaultBuilder::keys; make a key with `boxauth vault keygen`)",
                )
                .into());
            }
            // Nothing is sealed for per-user JWT or CCG tokens.
            (_, None) => KeySet::new(VaultKey::generate("ephemeral")?.0, [])?,
        };
        let session = self.options.session_or_default()?;
        let shared = Arc::new(Shared {
            engine: self.store.unwrap_or_else(VaultStore::memory).0,
            keys,
            clock: self.options.time_source.clone(),
            settings: self.settings,
            authorization: AuthorizationManager::new(session.clone()),
            app: self.app,
            hook: self.hook,
        });
        let mut options = self.options;
        options.session = Some(session);
        Ok(Vault {
            inner: Arc::new(Inner {
                shared,
                options,
                live: Mutex::new(Lru::new(self.capacity)),
            }),
        })
    }
}

impl Vault {
    /// A vault for `app` (an [`OAuthConfig`](crate::OAuthConfig), or a [`JwtConfig`](crate::JwtConfig) / [`CcgConfig`](crate::CcgConfig) for
    /// [`as_user`](Self::as_user)).
    pub fn builder(app: impl Into<VaultApp>) -> VaultBuilder {
        VaultBuilder {
            app: app.into(),
            store: None,
            keys: None,
            options: AuthOptions::default(),
            settings: Settings {
                lease_ttl: Duration::from_secs(120),
                fetch_deadline: Duration::from_secs(60),
                lock_timeout: Duration::from_secs(180),
                keepalive_after: Duration::from_secs(30 * 24 * 3600),
                state_ttl: Duration::from_secs(600),
            },
            capacity: 10_000,
            hook: None,
        }
    }
}
