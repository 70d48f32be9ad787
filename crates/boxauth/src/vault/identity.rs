//! One identity of a vault on the token manager: its row is a [`TokenStorage`] (the lease is the
//! refresh lock, a write is fenced by the row's generation) and its refresh is an OAuth 2.0
//! [`TokenSource`] that records what happened to the refresh token it spent, so that the lease
//! ends saying whether the token was spent, unknown, or refused.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::engine::{Lease, Millis, ReauthReason, Release, Row, State, Tokens};
use super::{Shared, VaultEvent, millis};
use crate::auth::OAuthConfig;
use crate::authorization::RevokeAccessTokenArgs;
use crate::error::{
    Error, ReauthorizationError, ReauthorizationKind, Result, StorageError, StorageErrorKind,
    VaultError, VaultErrorKind,
};
use crate::future::BoxFuture;
use crate::secret::ClientSecret;
use crate::source::{FetchContext, TokenSource};
use crate::storage::{RefreshLock, TokenStorage};
use crate::token::StoredToken;

/// Box keeps a refresh token 60 days; one refused at least this old had expired.
const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(60 * 24 * 3600);

/// The kind of identity a row holds (bound into its sealed value).
pub(crate) const OAUTH: &str = "oauth";

/// What the source did with the refresh token under the current lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spend {
    /// Box was not asked.
    NotAsked,
    /// Box answered without spending it (a 429, another 4xx), or no request left.
    NotSpent,
    /// No answer: Box may have spent it.
    Unknown,
    /// Box refused it (`invalid_grant`); it was the refresh token of this generation.
    Refused(i64),
    /// Box answered with new tokens.
    Spent,
}

/// What one identity's storage, lock and source share.
#[derive(Debug)]
pub(crate) struct Cell {
    state: Mutex<CellState>,
}

#[derive(Debug)]
struct CellState {
    /// The row the lease found, for the read that follows it (one statement, not two).
    leased: Option<Row>,
    /// The row last read: its generation, state and when its refresh token was issued.
    last: Option<(i64, State, Option<ReauthReason>, Millis)>,
    /// The lease replaced one whose holder stopped while spending a refresh token.
    inherited_spend: bool,
    spend: Spend,
    /// Why the last refusal made the identity need the user (for the error callers get).
    refused: Option<ReauthReason>,
}

impl Cell {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(CellState {
                leased: None,
                last: None,
                inherited_spend: false,
                spend: Spend::NotAsked,
                refused: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, CellState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Why the identity needs the user, when a refresh found it so.
    pub(crate) fn refused(&self) -> Option<ReauthReason> {
        self.lock().refused
    }
}

/// The row of one identity, as the token manager's storage.
#[derive(Debug)]
pub(crate) struct RowStorage {
    pub(crate) shared: Arc<Shared>,
    pub(crate) user_key: String,
    pub(crate) cell: Arc<Cell>,
}

impl RowStorage {
    fn unknown(&self) -> Error {
        VaultError::new(
            VaultErrorKind::UnknownIdentity,
            format!(
                "no identity is stored under {:?}: connect it (authorize_url, then complete_authorization) or import a refresh token",
                self.user_key
            ),
        )
        .into()
    }

    /// The token a row holds, opened; the row is remembered for the source.
    fn open(&self, row: &Row) -> Result<StoredToken> {
        let plain = self.shared.keys.open(OAUTH, &self.user_key, &row.sealed)?;
        let token = serde_json::from_slice(&plain).map_err(|e| {
            Error::from(
                VaultError::new(
                    VaultErrorKind::SealBroken,
                    format!(
                        "the sealed tokens of identity {:?} open, but are not tokens boxauth wrote",
                        self.user_key
                    ),
                )
                .with_source(e),
            )
        })?;
        self.cell.lock().last = Some((row.generation, row.state, row.reason, row.refreshed_at));
        Ok(token)
    }
}

/// `token` sealed for `user_key`, with what the row keeps in the clear.
pub(crate) fn seal(shared: &Shared, user_key: &str, token: &StoredToken) -> Result<Tokens> {
    let json =
        zeroize::Zeroizing::new(serde_json::to_vec(token).map_err(|_| {
            Error::storage_kind(StorageErrorKind::Corrupt, "cannot encode the token")
        })?);
    let now = shared.now_millis();
    Ok(Tokens {
        sealed: shared.keys.seal(OAUTH, user_key, &json)?,
        refreshed_at: now,
        access_expires_at: millis(token.expires_at),
        next_keepalive_at: shared.next_keepalive(now),
    })
}

impl TokenStorage for RowStorage {
    fn load(&self) -> BoxFuture<'_, Result<Option<StoredToken>>> {
        Box::pin(async move {
            let leased = self.cell.lock().leased.take();
            let row = match leased {
                Some(row) => row,
                None => match self.shared.engine.load(&self.user_key).await? {
                    Some(row) => row,
                    None => return Err(self.unknown()),
                },
            };
            self.open(&row).map(Some)
        })
    }

    fn store<'a>(&'a self, token: &'a StoredToken) -> BoxFuture<'a, Result<()>> {
        Box::pin(crate::storage::store_under_lock(self, token))
    }

    fn clear(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.shared.engine.delete(&self.user_key).await })
    }

    fn lock(&self) -> BoxFuture<'_, Result<Box<dyn RefreshLock>>> {
        Box::pin(async move {
            let owner = random_owner();
            let started = tokio::time::Instant::now();
            let mut pause = Duration::from_millis(20);
            loop {
                let now = self.shared.now_millis();
                let until = now.saturating_add(duration_millis(self.shared.settings.lease_ttl));
                match self
                    .shared
                    .engine
                    .lease(&self.user_key, &owner, now, until)
                    .await?
                {
                    Lease::Taken {
                        row,
                        inherited_spend,
                    } => {
                        let generation = row.generation;
                        let mut cell = self.cell.lock();
                        cell.leased = Some(row);
                        cell.inherited_spend = inherited_spend;
                        cell.spend = Spend::NotAsked;
                        if inherited_spend {
                            tracing::warn!(user_key = %self.user_key, "the last refresh of this identity stopped while spending its refresh token; trying that token once");
                        }
                        drop(cell);
                        return Ok(Box::new(RowLock {
                            storage: RowStorage {
                                shared: self.shared.clone(),
                                user_key: self.user_key.clone(),
                                cell: self.cell.clone(),
                            },
                            owner,
                            generation,
                            done: false,
                        }) as Box<dyn RefreshLock>);
                    }
                    Lease::Missing => return Err(self.unknown()),
                    Lease::Held { until } => {
                        if started.elapsed() >= self.shared.settings.lock_timeout {
                            return Err(Error::storage_kind(
                                StorageErrorKind::LockTimeout,
                                format!(
                                    "another process has held the refresh lease of identity {:?} for over {} s",
                                    self.user_key,
                                    self.shared.settings.lock_timeout.as_secs()
                                ),
                            ));
                        }
                        // The holder is refreshing: its write is one statement away. (Never
                        // longer than its lease has left, on the vault's clock.)
                        let left =
                            Duration::from_millis(u64::try_from(until - now).unwrap_or(0).max(1));
                        let jitter = 0.5 + crate::network::unit_random();
                        tokio::time::sleep(pause.min(left).mul_f64(jitter)).await;
                        pause = (pause * 2).min(Duration::from_millis(500));
                    }
                }
            }
        })
    }
}

fn random_owner() -> String {
    let mut bytes = [0u8; 16];
    // Without randomness two holders could share an owner: fail loudly.
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn duration_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// A held lease.
struct RowLock {
    storage: RowStorage,
    owner: String,
    /// The generation the lease found: the fence of its write.
    generation: i64,
    /// Written (the write freed the lease) or released.
    done: bool,
}

impl RowLock {
    /// The token fetched under a lease whose row moved on (a disconnect, a new connection):
    /// nobody will store it, so it is revoked rather than left alive at Box.
    async fn revoke_orphan(&self, token: &StoredToken) {
        let shared = &self.storage.shared;
        let (client_id, client_secret) = shared.client_credentials();
        let args = RevokeAccessTokenArgs {
            client_id: Some(client_id.to_owned()),
            client_secret: Some(client_secret.clone()),
            token: Some(
                token
                    .refresh_token
                    .clone()
                    .unwrap_or_else(|| token.access_token.clone()),
            ),
            ..RevokeAccessTokenArgs::default()
        };
        if let Err(error) = shared.authorization.revoke_access_token(args).await {
            tracing::warn!(user_key = %self.storage.user_key, error = %error.one_line(), "could not revoke a token refreshed for an identity that changed meanwhile");
        }
    }
}

impl RefreshLock for RowLock {
    fn store<'a>(&'a mut self, token: &'a StoredToken) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let storage = &self.storage;
            let shared = &storage.shared;
            let tokens = seal(shared, &storage.user_key, token)?;
            let now = shared.now_millis();
            // Nothing runs between Box's answer and this statement.
            let written = shared
                .engine
                .write(&storage.user_key, self.generation, &self.owner, tokens, now)
                .await?;
            match written {
                Some(generation) => {
                    crate::failpoint::reached("vault::after_write");
                    self.done = true;
                    {
                        let mut cell = storage.cell.lock();
                        cell.last = Some((generation, State::Active, None, now));
                        cell.refused = None;
                    }
                    shared.emit(VaultEvent::Refreshed {
                        user_key: storage.user_key.clone(),
                    });
                    Ok(())
                }
                None => {
                    self.done = true;
                    self.revoke_orphan(token).await;
                    Err(StorageError::new(
                        StorageErrorKind::LockLost,
                        format!(
                            "identity {:?} changed while it was refreshed (disconnected, or connected again): the new token was revoked, not stored",
                            storage.user_key
                        ),
                    )
                    .into())
                }
            }
        })
    }

    fn release(mut self: Box<Self>) -> BoxFuture<'static, Result<()>> {
        Box::pin(async move {
            if self.done {
                return Ok(());
            }
            self.done = true;
            let storage = &self.storage;
            let (release, refused_reason) = {
                let cell = storage.cell.lock();
                match cell.spend {
                    Spend::NotAsked | Spend::NotSpent | Spend::Spent => (Release::NotSpent, None),
                    Spend::Unknown => (Release::Unknown, None),
                    Spend::Refused(generation) => {
                        let reason = if cell.inherited_spend {
                            ReauthReason::LostInFlight
                        } else if cell.last.is_some_and(|(_, _, _, refreshed_at)| {
                            storage.shared.now_millis().saturating_sub(refreshed_at)
                                >= duration_millis(REFRESH_TOKEN_LIFETIME)
                        }) {
                            ReauthReason::Expired
                        } else {
                            ReauthReason::RefusedByBox
                        };
                        (Release::Refused { generation, reason }, Some(reason))
                    }
                }
            };
            let now = storage.shared.now_millis();
            let marked = storage
                .shared
                .engine
                .release(&storage.user_key, &self.owner, release, now)
                .await?;
            if let Some(reason) = refused_reason {
                storage.cell.lock().refused = Some(reason);
                if marked {
                    tracing::warn!(user_key = %storage.user_key, reason = reason.as_str(), "the identity needs its user to connect again");
                    storage.shared.emit(VaultEvent::NeedsReauthorization {
                        user_key: storage.user_key.clone(),
                        reason,
                    });
                }
            }
            Ok(())
        })
    }
}

/// An identity's refresh: OAuth 2.0's, bounded in time, recording what happened to the refresh
/// token; no request at all for an identity that needs its user or is being disconnected.
#[derive(Debug)]
pub(crate) struct RowSource {
    pub(crate) oauth: OAuthConfig,
    pub(crate) cell: Arc<Cell>,
    pub(crate) fetch_deadline: Duration,
    pub(crate) shared: Arc<Shared>,
    pub(crate) user_key: String,
}

impl RowSource {
    fn record(&self, spend: Spend) {
        self.cell.lock().spend = spend;
    }
}

/// Whether Box spent the refresh token, from the error of a refresh that failed.
fn spend_of(error: &Error, generation: i64) -> Spend {
    match error {
        Error::Api(api) if api.is("invalid_grant") => Spend::Refused(generation),
        Error::Api(api) if api.status >= 500 => Spend::Unknown,
        Error::Api(_) => Spend::NotSpent,
        Error::Network(network) if network.is_connect() || network.is_tls() => Spend::NotSpent,
        Error::Network(_) | Error::InvalidResponse(_) => Spend::Unknown,
        _ => Spend::NotSpent,
    }
}

impl TokenSource for RowSource {
    fn fetch<'a>(&'a self, context: FetchContext<'a>) -> BoxFuture<'a, Result<StoredToken>> {
        Box::pin(async move {
            let last = self.cell.lock().last;
            let Some((generation, state, reason, _)) = last else {
                return Err(VaultError::new(
                    VaultErrorKind::UnknownIdentity,
                    format!(
                        "identity {:?} was not read before its refresh",
                        self.user_key
                    ),
                )
                .into());
            };
            match state {
                State::Active => {}
                State::NeedsReauth => {
                    self.record(Spend::NotAsked);
                    let reason = reason.unwrap_or(ReauthReason::RefusedByBox);
                    self.cell.lock().refused = Some(reason);
                    return Err(needs_user(&self.user_key, reason));
                }
                State::Disconnecting => {
                    self.record(Spend::NotAsked);
                    return Err(ReauthorizationError::new(
                        ReauthorizationKind::Disconnected,
                        format!("identity {:?} is being disconnected", self.user_key),
                    )
                    .into());
                }
            }
            let fetched =
                tokio::time::timeout(self.fetch_deadline, self.oauth.fetch(context)).await;
            match fetched {
                Ok(Ok(token)) => {
                    self.record(Spend::Spent);
                    Ok(token)
                }
                Ok(Err(error)) => {
                    let spend = spend_of(&error, generation);
                    self.record(spend);
                    if spend != Spend::Refused(generation) {
                        self.shared.emit(VaultEvent::TransientFailure {
                            user_key: self.user_key.clone(),
                            error: error.clone(),
                        });
                    }
                    Err(error)
                }
                Err(_) => {
                    self.record(Spend::Unknown);
                    let error: Error = VaultError::new(
                        VaultErrorKind::RefreshTimedOut,
                        format!(
                            "Box did not answer the refresh of identity {:?} within {} s; whether it spent the refresh token is unknown, and the next refresh finds out",
                            self.user_key,
                            self.fetch_deadline.as_secs()
                        ),
                    )
                    .into();
                    self.shared.emit(VaultEvent::TransientFailure {
                        user_key: self.user_key.clone(),
                        error: error.clone(),
                    });
                    Err(error)
                }
            }
        })
    }

    fn spends_stored_token(&self) -> bool {
        true
    }

    fn client_credentials(&self) -> Option<(&str, &ClientSecret)> {
        Some((&self.oauth.client_id, &self.oauth.client_secret))
    }
}

/// The error of an identity that needs its user.
pub(crate) fn needs_user(user_key: &str, reason: ReauthReason) -> Error {
    let (kind, why) = match reason {
        ReauthReason::LostInFlight => (
            ReauthorizationKind::LostInFlight,
            "a refresh stopped half-way after Box had spent its refresh token",
        ),
        ReauthReason::Expired => (
            ReauthorizationKind::RefreshTokenRefused,
            "its refresh token expired (60 days without a refresh)",
        ),
        ReauthReason::RefusedByBox => (
            ReauthorizationKind::RefreshTokenRefused,
            "Box refused its refresh token",
        ),
    };
    ReauthorizationError::new(
        kind,
        format!("identity {user_key:?} needs its user to connect again: {why}"),
    )
    .into()
}
