//! The emulator's controls: one implementation, two surfaces. [`EmulatorHandle`]'s methods are
//! the Rust surface; `/__emulator/…` over HTTP ([`http`]) is the other, for tests in any language.
//! Both call the functions here.
//!
//! What can change while the emulator runs: the clock, the faults, the store (reset, a user's
//! tokens revoked) and the world (users, apps and items added; nothing is removed, so what a
//! token points at stays valid). A world edit builds a new directory of the world and swaps it
//! in whole: a request in flight finishes with the world it started with.

pub mod edits;
pub mod http;

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use axum::extract::FromRef;

use crate::config::{
    App, AppTokenSlot, ConfigError, EmulatorConfig, Grant, Item, Role, User, World,
};
use crate::faults::Faults;
use crate::server::EmulatorHandle;
use crate::state::AppState;
use crate::store::Store;

/// Every control path starts with this: a prefix Box never uses. Requests under it are neither
/// faulted nor logged.
pub const CONTROL_PREFIX: &str = "/__emulator/";

/// Whether `path` is a control path.
pub(crate) fn is_control(path: &str) -> bool {
    path.starts_with(CONTROL_PREFIX)
}

/// The most users, apps and items edits may add to the world the emulator started with (each
/// edit copies the world).
pub const MAX_WORLD_ENTRIES: usize = 10_000;

/// The emulator as it runs: the current directory of the world and what the controls reach.
pub(crate) struct Live {
    current: ArcSwap<AppState>,
    /// Serialises world edits (each reads the current world and swaps in the next).
    edits: Mutex<()>,
    pub(crate) faults: Faults,
    pub(crate) config: Arc<EmulatorConfig>,
    /// The URL clients use: the public URL when one is configured.
    pub(crate) base_url: String,
    pub(crate) ca_pem: Option<String>,
}

impl Live {
    pub(crate) fn new(
        state: AppState,
        faults: Faults,
        config: Arc<EmulatorConfig>,
        base_url: String,
        ca_pem: Option<String>,
    ) -> Self {
        Self {
            current: ArcSwap::from_pointee(state),
            edits: Mutex::new(()),
            faults,
            config,
            base_url,
            ca_pem,
        }
    }

    /// The current directory of the world, with the shared store, clock, counters and log.
    pub(crate) fn state(&self) -> Arc<AppState> {
        self.current.load_full()
    }

    /// The world as it is now (the configured one plus every edit).
    pub(crate) fn world(&self) -> Arc<World> {
        self.current.load().world.clone()
    }

    /// Tokens, codes, `jti`s, the clock's offset, the faults, the counters and the request log
    /// cleared; the world kept as it is (edits included).
    pub(crate) fn reset(&self) {
        let state = self.state();
        *state.store() = Store::default();
        state.stats.reset();
        state.log.clear();
        state.clock.set_offset_seconds(0);
        self.faults.clear();
    }

    /// Applies `edit` to a copy of the world, checks the result as a config file is checked, and
    /// serves it. On an error nothing changes.
    pub(crate) fn edit_world(
        &self,
        edit: impl FnOnce(&mut World) -> Result<(), ConfigError>,
    ) -> Result<(), ConfigError> {
        let _one_at_a_time = self.edits.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.state();
        let mut world = World::clone(&current.world);
        edit(&mut world)?;
        let started = &self.config.world;
        for (what, count, at_start) in [
            ("users", world.users.len(), started.users.len()),
            ("apps", world.apps.len(), started.apps.len()),
            ("items", world.items.len(), started.items.len()),
        ] {
            if count > at_start + MAX_WORLD_ENTRIES {
                return Err(ConfigError::invalid(format!(
                    "the world would hold {count} {what}, more than {MAX_WORLD_ENTRIES} beyond the \
                     {at_start} it started with; the emulator takes no more (start it with a \
                     config file, or generated users, for a larger world)"
                )));
            }
        }
        crate::config::validate(&world)?;
        self.current
            .store(Arc::new(current.with_world(Arc::new(world))));
        Ok(())
    }

    /// A pair for `user_id` from `client_id`; see [`EmulatorHandle::issue_user_tokens`].
    pub(crate) fn issue_user_tokens(
        &self,
        client_id: &str,
        user_id: &str,
    ) -> Result<boxauth::AccessToken, ConfigError> {
        let state = self.state();
        let client = state
            .client(client_id)
            .ok_or_else(|| ConfigError::invalid(format!("there is no app {client_id:?}")))?;
        let app = state.app(client);
        if !app.grants.contains(&Grant::AuthorizationCode) {
            return Err(ConfigError::invalid(format!(
                "app {client_id} may not use authorization_code"
            )));
        }
        let user = state
            .user(user_id)
            .filter(|u| matches!(u.role, Role::Admin | Role::Coadmin | Role::User))
            .ok_or_else(|| {
                ConfigError::invalid(format!(
                    "there is no user {user_id:?} who can approve an app (an admin, co-admin or \
                     managed user)"
                ))
            })?;
        // What the consent page and the code exchange do, in the same store operations.
        let grantee = crate::store::Grantee::new(
            client.id.clone(),
            Arc::from(user.id.as_str()),
            client.scopes.clone(),
        );
        let now = state.now();
        let mut store = state.store();
        let code = store.issue_code(grantee, now, state.ttls);
        let pair = store
            .redeem_code(&code, &client.id, None, now, state.ttls, &mut false)
            .map_err(|e| {
                ConfigError::invalid(format!("the code was refused: {}", e.row().description))
            })?;
        drop(store);
        Ok(boxauth::AccessToken {
            access_token: Some(boxauth::Token::new(&*pair.access_token)),
            expires_in: Some(state.ttls.access / 1000),
            token_type: Some(boxauth::AccessTokenTokenType::Bearer),
            refresh_token: Some(boxauth::Token::new(&*pair.refresh_token)),
            ..boxauth::AccessToken::default()
        })
    }

    /// Revokes everything issued to act as `user_id`; see [`EmulatorHandle::revoke_user_tokens`].
    pub(crate) fn revoke_user_tokens(&self, user_id: &str) -> Result<usize, ConfigError> {
        let state = self.state();
        if state.user(user_id).is_none() {
            return Err(ConfigError::invalid(format!(
                "there is no user {user_id:?}"
            )));
        }
        Ok(state.store().revoke_user(user_id))
    }
}

impl Live {
    /// See [`EmulatorHandle::set_app_scopes`].
    pub(crate) fn set_app_scopes(
        &self,
        client_id: &str,
        scopes: Vec<String>,
    ) -> Result<(), ConfigError> {
        if scopes
            .iter()
            .any(|s| s.is_empty() || !s.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(ConfigError::invalid(
                "a scope must be a word such as root_readwrite",
            ));
        }
        self.edit_app(client_id, |app| app.scopes = scopes)
    }

    /// Puts `token` (or none) in `slot` of app `client_id`'s App Tokens, as the Developer
    /// Console's generate and revoke buttons do; what the old token was downscoped to dies with
    /// it. Returns the old token.
    pub(crate) fn set_app_token(
        &self,
        client_id: &str,
        slot: AppTokenSlot,
        token: Option<String>,
    ) -> Result<Option<String>, ConfigError> {
        let mut old = None;
        self.edit_app(client_id, |app| {
            old = std::mem::replace(app.app_tokens.slot_mut(slot), token);
        })?;
        if let Some(old) = &old {
            self.state().store().revoke_children(old);
        }
        Ok(old)
    }

    /// Edits app `client_id` of the world ([`Live::edit_world`]); an unknown app is an error.
    fn edit_app(
        &self,
        client_id: &str,
        edit: impl FnOnce(&mut crate::config::App),
    ) -> Result<(), ConfigError> {
        self.edit_world(|world| {
            let app = world
                .apps
                .iter_mut()
                .find(|a| a.client_id == client_id)
                .ok_or_else(|| ConfigError::invalid(format!("there is no app {client_id:?}")))?;
            edit(app);
            Ok(())
        })
    }
}

/// The router's state: Box's handlers ask for `State<Arc<AppState>>` and get the current
/// directory; the control handlers ask for `State<Arc<Live>>`.
#[derive(Clone)]
pub(crate) struct RouterState(pub(crate) Arc<Live>);

impl FromRef<RouterState> for Arc<AppState> {
    fn from_ref(router: &RouterState) -> Self {
        router.0.state()
    }
}

impl FromRef<RouterState> for Arc<Live> {
    fn from_ref(router: &RouterState) -> Self {
        router.0.clone()
    }
}

/// The Rust surface of the controls (the HTTP one is [`http`]). The clock, faults, counters and
/// request log have their own accessors: [`clock`](EmulatorHandle::clock),
/// [`faults`](EmulatorHandle::faults), [`stats`](EmulatorHandle::stats),
/// [`requests`](EmulatorHandle::requests).
impl EmulatorHandle {
    /// Clears every code, token and remembered `jti`, the clock's offset, the faults, the
    /// counters and the request log: a fresh start for the next test. The world stays as it is,
    /// edits included.
    pub fn reset(&self) {
        self.live.reset();
    }

    /// The world as it is now: the configured one plus every edit.
    pub fn world(&self) -> Arc<World> {
        self.live.world()
    }

    /// Adds a user (its enterprise must exist; an app user or service account names its app).
    pub fn add_user(&self, user: User) -> Result<(), ConfigError> {
        self.live.edit_world(|world| {
            world.users.push(user);
            Ok(())
        })
    }

    /// Registers an app (its enterprise and service account must exist: add the service account
    /// first, with [`add_user`](Self::add_user)).
    pub fn add_app(&self, app: App) -> Result<(), ConfigError> {
        self.live.edit_world(|world| {
            world.apps.push(app);
            Ok(())
        })
    }

    /// Adds a file or folder (its owner must exist).
    pub fn add_item(&self, item: Item) -> Result<(), ConfigError> {
        self.live.edit_world(|world| {
            world.items.push(item);
            Ok(())
        })
    }

    /// The access and refresh token the token endpoint answers once `user_id` has approved app
    /// `client_id` on the consent page and the app has exchanged the code: a code issued and
    /// redeemed in the store, as those requests do, without the HTTP round trips. For seeding
    /// many identities quickly (100,000 take about a second in a debug build, against minutes
    /// through the consent page); the flow itself is tested through HTTP. Neither counted in
    /// [`stats`](Self::stats) nor in the request log: no request was made. The user must be a
    /// person (admin, co-admin or managed user) and the app allowed `authorization_code`.
    pub fn issue_user_tokens(
        &self,
        client_id: &str,
        user_id: &str,
    ) -> Result<boxauth::AccessToken, ConfigError> {
        self.live.issue_user_tokens(client_id, user_id)
    }

    /// Sets app `client_id`'s application scopes, as an admin does in the Developer Console:
    /// tokens issued from now on carry them; tokens already issued keep the scopes they were
    /// issued with (a `403 insufficient_scope` until they are replaced).
    pub fn set_app_scopes(&self, client_id: &str, scopes: Vec<String>) -> Result<(), ConfigError> {
        self.live.set_app_scopes(client_id, scopes)
    }

    /// Generates a new App Token in `slot` of app `client_id` (the Developer Console's
    /// "Generate Key" beside a revoked or rotated token) and returns it. The token it replaces,
    /// if any, stops working at once, with every token downscoped from it.
    pub fn rotate_app_token(
        &self,
        client_id: &str,
        slot: AppTokenSlot,
    ) -> Result<String, ConfigError> {
        let token = crate::tokens::random_key("", 32).to_string();
        self.live
            .set_app_token(client_id, slot, Some(token.clone()))?;
        Ok(token)
    }

    /// Revokes the App Token in `slot` of app `client_id`: it stops working at once, with every
    /// token downscoped from it. Revoking an empty slot does nothing.
    pub fn revoke_app_token(&self, client_id: &str, slot: AppTokenSlot) -> Result<(), ConfigError> {
        self.live.set_app_token(client_id, slot, None).map(drop)
    }

    /// Revokes every code, access token and refresh token issued to act as `user_id`, by any
    /// app (as when an admin ends a user's sessions). Returns how many grants were revoked:
    /// token families, lone access tokens and unused codes.
    pub fn revoke_user_tokens(&self, user_id: &str) -> Result<usize, ConfigError> {
        self.live.revoke_user_tokens(user_id)
    }
}
