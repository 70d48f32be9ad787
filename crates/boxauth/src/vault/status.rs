//! What a vault says about its identities: where each stands, listings, and events for an app
//! that tells its users.

use std::sync::Arc;
use std::time::SystemTime;

use super::engine::{ReauthReason, State};
use super::from_millis;
use crate::error::Error;

/// What happened to an identity, for an app that tells its users (an email when a connection
/// needs them again).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum VaultEvent {
    /// A refresh stored new tokens.
    Refreshed {
        /// The identity.
        user_key: String,
    },
    /// A refresh failed in a way that is not terminal (Box down or slow, a 429); it is tried
    /// again later.
    TransientFailure {
        /// The identity.
        user_key: String,
        /// What went wrong.
        error: Error,
    },
    /// The identity needs its user to connect again. Sent once, by the process that found it.
    NeedsReauthorization {
        /// The identity.
        user_key: String,
        /// Why.
        reason: ReauthReason,
    },
    /// The identity was disconnected: its tokens revoked at Box and forgotten.
    Revoked {
        /// The identity.
        user_key: String,
    },
}

pub(crate) type Hook = Arc<dyn Fn(&VaultEvent) + Send + Sync>;

/// Where an identity stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentityStatus {
    /// Its tokens are usable.
    Active {
        /// When its refresh token was issued (by the connection, or the last refresh).
        refreshed_at: SystemTime,
        /// When its stored access token expires.
        access_expires_at: SystemTime,
    },
    /// The user must connect again.
    NeedsReauthorization {
        /// Why.
        reason: ReauthReason,
        /// Since when.
        since: SystemTime,
    },
    /// A disconnect started and did not finish (Box did not answer the revoke): run
    /// [`Vault::disconnect`](super::Vault::disconnect) again.
    Disconnecting {
        /// Since when.
        since: SystemTime,
    },
    /// No identity is stored under this key.
    NotConnected,
}

/// One identity in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySummary {
    /// The app's user key.
    pub user_key: String,
    /// Where it stands (never [`IdentityStatus::NotConnected`]).
    pub status: IdentityStatus,
}

pub(crate) fn status_of(
    state: State,
    reason: Option<ReauthReason>,
    refreshed_at: i64,
    access_expires_at: i64,
    updated_at: i64,
) -> IdentityStatus {
    match state {
        State::Active => IdentityStatus::Active {
            refreshed_at: from_millis(refreshed_at),
            access_expires_at: from_millis(access_expires_at),
        },
        State::NeedsReauth => IdentityStatus::NeedsReauthorization {
            reason: reason.unwrap_or(ReauthReason::RefusedByBox),
            since: from_millis(updated_at),
        },
        State::Disconnecting => IdentityStatus::Disconnecting {
            since: from_millis(updated_at),
        },
    }
}
