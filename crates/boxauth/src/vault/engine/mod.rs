//! Where a vault keeps its identities: one row per user key, written only by statements fenced
//! by the row's generation. [`memory`] keeps them in this process (tests, demos, one process);
//! [`postgres`] in PostgreSQL (feature `postgres`), shared by every host of an app.
//!
//! Every time is milliseconds since the Unix epoch on the vault's clock, passed in by the
//! caller, so a test that moves the clock moves leases and due times with it.

pub(crate) mod memory;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;

use std::fmt;

use crate::error::Result;
use crate::future::BoxFuture;

/// Milliseconds since the Unix epoch.
pub(crate) type Millis = i64;

/// Where an identity stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Its tokens are usable.
    Active,
    /// The user must connect again ([`Reason`] says why).
    NeedsReauth,
    /// A disconnect started: no refresh may run, its tokens are being revoked.
    Disconnecting,
}

impl State {
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "active" => Self::Active,
            "needs_reauth" => Self::NeedsReauth,
            "disconnecting" => Self::Disconnecting,
            _ => return None,
        })
    }
}

/// Why an identity needs the user again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReauthReason {
    /// Box refused the refresh token (revoked by the user or an admin, or spent elsewhere).
    RefusedByBox,
    /// Box refused a refresh token older than its 60 days: the identity was idle too long.
    Expired,
    /// A refresh was under way when its process stopped, after Box had spent the refresh token
    /// and before the new one was stored. Rare; counted apart, since it is not the user's doing.
    LostInFlight,
}

impl ReauthReason {
    /// `refused`, `expired` or `lost_in_flight`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RefusedByBox => "refused",
            Self::Expired => "expired",
            Self::LostInFlight => "lost_in_flight",
        }
    }

    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "refused" => Self::RefusedByBox,
            "expired" => Self::Expired,
            "lost_in_flight" => Self::LostInFlight,
            _ => return None,
        })
    }
}

/// An identity's row.
#[derive(Clone)]
pub(crate) struct Row {
    pub(crate) user_key: String,
    /// Bumped by every write of tokens or state: the fence of every write.
    pub(crate) generation: i64,
    pub(crate) sealed: Vec<u8>,
    pub(crate) state: State,
    pub(crate) reason: Option<ReauthReason>,
    /// When the stored refresh token was issued.
    pub(crate) refreshed_at: Millis,
    pub(crate) access_expires_at: Millis,
    pub(crate) next_keepalive_at: Millis,
    pub(crate) updated_at: Millis,
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Row")
            .field("user_key", &self.user_key)
            .field("generation", &self.generation)
            .field("sealed", &format_args!("<{} bytes>", self.sealed.len()))
            .field("state", &self.state)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

/// Tokens to write: sealed, with what the sweeper and status need to know in the clear.
#[derive(Clone)]
pub(crate) struct Tokens {
    pub(crate) sealed: Vec<u8>,
    pub(crate) refreshed_at: Millis,
    pub(crate) access_expires_at: Millis,
    pub(crate) next_keepalive_at: Millis,
}

/// What taking an identity's lease found.
pub(crate) enum Lease {
    /// Taken: the row as it is now, and whether the lease it replaced had expired with a refresh
    /// token being spent (its holder stopped mid-refresh).
    Taken { row: Row, inherited_spend: bool },
    /// Another holder has it until then.
    Held { until: Millis },
    /// No identity under this key.
    Missing,
}

/// How a lease ends when no token was written under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Release {
    /// The refresh token was not spent (no refresh, or Box refused without spending it).
    NotSpent,
    /// Whether Box spent the refresh token is unknown (no answer): the marker stays, and the
    /// next holder finds it.
    Unknown,
    /// Box refused the refresh token of generation `generation`: the identity needs the user.
    Refused {
        generation: i64,
        reason: ReauthReason,
    },
}

/// One identity as listings show it.
#[derive(Debug, Clone)]
pub(crate) struct Summary {
    pub(crate) user_key: String,
    pub(crate) state: State,
    pub(crate) reason: Option<ReauthReason>,
    pub(crate) refreshed_at: Millis,
    pub(crate) access_expires_at: Millis,
    pub(crate) updated_at: Millis,
}

/// How many identities are in each state, and how far behind the keep-alive is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VaultCounts {
    /// Usable identities.
    pub active: u64,
    /// Identities that need the user again, by reason.
    pub needs_reauth: Vec<(ReauthReason, u64)>,
    /// Disconnects under way (or stopped half-way: run `disconnect` again).
    pub disconnecting: u64,
    /// Active identities whose keep-alive is due now.
    pub keepalive_due: u64,
    /// How long the oldest due keep-alive has waited (zero when none is due).
    pub keepalive_lag: std::time::Duration,
}

/// The operations every engine offers. Each is one statement for PostgreSQL.
pub(crate) trait Engine: Send + Sync + fmt::Debug {
    /// Creates or upgrades the schema.
    fn init(&self) -> BoxFuture<'_, Result<()>>;

    /// The row of `user_key`.
    fn load<'a>(&'a self, user_key: &'a str) -> BoxFuture<'a, Result<Option<Row>>>;

    /// Stores a newly connected or imported identity, replacing one of the same key (its
    /// generation moves on, so a refresh of the old one cannot write over it).
    fn put<'a>(
        &'a self,
        user_key: &'a str,
        tokens: Tokens,
        now: Millis,
    ) -> BoxFuture<'a, Result<i64>>;

    /// Takes the lease of `user_key` for `owner` until `until`, if nobody holds it, and marks a
    /// refresh token as being spent.
    fn lease<'a>(
        &'a self,
        user_key: &'a str,
        owner: &'a str,
        now: Millis,
        until: Millis,
    ) -> BoxFuture<'a, Result<Lease>>;

    /// Writes `tokens` if the row is still at `generation` (and frees `owner`'s lease with it).
    /// `Ok(None)`: the row moved on (or is gone), nothing was written; else the new generation.
    /// The same write sent again by `owner` (its first answer was lost) finds it done.
    fn write<'a>(
        &'a self,
        user_key: &'a str,
        generation: i64,
        owner: &'a str,
        tokens: Tokens,
        now: Millis,
    ) -> BoxFuture<'a, Result<Option<i64>>>;

    /// Frees `owner`'s lease as `release` says. `Ok(true)` when it marked the identity as
    /// needing the user (the first to do so).
    fn release<'a>(
        &'a self,
        user_key: &'a str,
        owner: &'a str,
        release: Release,
        now: Millis,
    ) -> BoxFuture<'a, Result<bool>>;

    /// Starts a disconnect: the state, a new generation (no refresh may write after this), and
    /// the row as it was.
    fn begin_disconnect<'a>(
        &'a self,
        user_key: &'a str,
        now: Millis,
    ) -> BoxFuture<'a, Result<Option<Row>>>;

    /// Removes the row of a disconnect.
    fn delete<'a>(&'a self, user_key: &'a str) -> BoxFuture<'a, Result<()>>;

    /// Up to `limit` identities after `after` in key order; only those needing the user if
    /// `needs_reauth`.
    fn list<'a>(
        &'a self,
        needs_reauth: bool,
        after: Option<&'a str>,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<Summary>>>;

    /// Claims up to `limit` active identities whose keep-alive is due at `now`: their due time
    /// moves to `claim_until`, so no other sweeper takes them meanwhile.
    fn claim_due(
        &self,
        now: Millis,
        claim_until: Millis,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<String>>>;

    /// Counts per state, and the keep-alive's lag, at `now`.
    fn counts(&self, now: Millis) -> BoxFuture<'_, Result<VaultCounts>>;

    /// Up to `limit` rows (after `after`, in key order) sealed with a key other than `key_id`.
    fn sealed_with_other_keys<'a>(
        &'a self,
        key_id: &'a str,
        after: Option<&'a str>,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<Row>>>;

    /// Replaces the sealed value of a row still at `generation` (a reseal): `Ok(false)` when the
    /// row moved on meanwhile (its new value is sealed with the primary key already).
    fn reseal<'a>(
        &'a self,
        user_key: &'a str,
        generation: i64,
        sealed: Vec<u8>,
    ) -> BoxFuture<'a, Result<bool>>;

    /// Statements sent so far (for benchmarks).
    fn statements(&self) -> u64;
}
