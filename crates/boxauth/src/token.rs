//! The token handed to callers and kept in storage: an access token that is always there and the
//! moment it expires, beside what else Box said. The wire type [`AccessToken`] stays Box's schema
//! (every field optional); this one is checked once, when a token arrives.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, InvalidResponseError, Result};
use crate::schemas::{
    AccessToken, AccessTokenIssuedTokenType, AccessTokenTokenType, ResourceScope,
};
use crate::secret::Token;
use crate::time;

/// How long a token lives when Box's answer has no `expires_in`: Box documents 60 minutes for
/// every access token (BOX-OAUTH2-BEHAVIOUR.md §5). Box always sends `expires_in`; this only
/// keeps a nonsense answer from becoming a token that never expires.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The longest lifetime believed from `expires_in`: a larger value (a hostile or broken
/// endpoint) is cut to this, so the token is still refreshed now and then.
const MAX_TOKEN_LIFETIME: i64 = 366 * 24 * 3600;

/// A valid-looking token with its expiry: what [`retrieve_token`](crate::Authentication::retrieve_token)
/// hands out and what [`TokenStorage`](crate::TokenStorage) keeps.
///
/// Stored as Box's `AccessToken` fields plus `expires_at` (Unix seconds), the format every
/// release of boxauth reads and writes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoredToken {
    /// The access token, for `Authorization: Bearer …`.
    pub access_token: Token,
    /// When the access token expires.
    pub expires_at: SystemTime,
    /// The refresh token (OAuth 2.0 only; JWT, CCG and downscoped tokens have none).
    pub refresh_token: Option<Token>,
    /// For a downscoped token: the resources and scopes it is limited to.
    pub restricted_to: Option<Vec<ResourceScope>>,
    /// The lifetime Box gave the token when it was issued, in seconds.
    pub expires_in: Option<i64>,
    /// Always `bearer` today.
    pub token_type: Option<AccessTokenTokenType>,
    /// For a downscoped token: `urn:ietf:params:oauth:token-type:access_token`.
    pub issued_token_type: Option<AccessTokenIssuedTokenType>,
}

impl StoredToken {
    /// `access_token`, valid until `expires_at`; every other field empty.
    pub fn new(access_token: impl Into<Token>, expires_at: SystemTime) -> Self {
        Self {
            access_token: access_token.into(),
            expires_at,
            refresh_token: None,
            restricted_to: None,
            expires_in: None,
            token_type: Some(AccessTokenTokenType::Bearer),
            issued_token_type: None,
        }
    }

    /// The same token with a refresh token.
    pub fn with_refresh_token(mut self, refresh_token: impl Into<Token>) -> Self {
        self.refresh_token = Some(refresh_token.into());
        self
    }

    /// Box's answer, received at `received_at`: it expires `expires_in` seconds later (60 minutes
    /// if Box did not say; at most a year). An answer without `access_token` is
    /// [`Error::InvalidResponse`].
    pub fn from_access_token(token: AccessToken, received_at: SystemTime) -> Result<Self> {
        let AccessToken {
            access_token,
            expires_in,
            token_type,
            restricted_to,
            refresh_token,
            issued_token_type,
        } = token;
        let access_token = access_token.ok_or_else(missing_access_token)?;
        let lifetime = expires_in.map_or(DEFAULT_TOKEN_LIFETIME, |seconds| {
            Duration::from_secs(seconds.clamp(0, MAX_TOKEN_LIFETIME).unsigned_abs())
        });
        Ok(Self {
            access_token,
            expires_at: time::saturating_add(received_at, lifetime),
            refresh_token,
            restricted_to,
            expires_in,
            token_type,
            issued_token_type,
        })
    }

    /// Box's `AccessToken` shape (what the wire carried), without the expiry time.
    pub fn to_access_token(&self) -> AccessToken {
        AccessToken {
            access_token: Some(self.access_token.clone()),
            expires_in: self.expires_in,
            token_type: self.token_type.clone(),
            restricted_to: self.restricted_to.clone(),
            refresh_token: self.refresh_token.clone(),
            issued_token_type: self.issued_token_type.clone(),
        }
    }

    /// Whether the access token is still valid `margin` after `now`.
    pub fn is_valid_at(&self, now: SystemTime, margin: Duration) -> bool {
        time::saturating_add(now, margin) < self.expires_at
    }

    /// When a refresh is due with this `margin`: `margin` before expiry, but never before half
    /// the token's lifetime has passed (a margin longer than the token lives would otherwise
    /// refresh on every call).
    pub fn refresh_due_at(&self, margin: Duration) -> SystemTime {
        let half_life = self
            .expires_in
            .map_or(DEFAULT_TOKEN_LIFETIME / 2, |seconds| {
                Duration::from_secs(seconds.clamp(0, MAX_TOKEN_LIFETIME).unsigned_abs() / 2)
            });
        time::saturating_sub(self.expires_at, margin.min(half_life))
    }

    /// Whether this is the same access token as `other`, compared in constant time.
    pub fn has_access_token(&self, other: &Token) -> bool {
        same_secret(&self.access_token, other)
    }

    /// Whether the refresh tokens of both are the same (both absent counts as the same).
    pub(crate) fn same_refresh_token(&self, other: &StoredToken) -> bool {
        match (&self.refresh_token, &other.refresh_token) {
            (Some(a), Some(b)) => same_secret(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

fn same_secret(a: &Token, b: &Token) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.secret().as_bytes(), b.secret().as_bytes())
        .is_ok()
}

/// Box answered a token request without `access_token`.
pub(crate) fn missing_access_token() -> Error {
    Error::InvalidResponse(Box::new(InvalidResponseError {
        status: 200,
        request_id: None,
        content_type: None,
        problem: "Box returned a token answer without access_token".into(),
        snippet: None,
        raw_body: String::new(),
    }))
}

/// The stored form, field for field as boxauth has always written it: Box's `AccessToken` fields
/// in Box's order, then `expires_at`.
#[derive(Serialize)]
struct WireOut<'a> {
    access_token: &'a Token,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'a AccessTokenTokenType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    restricted_to: Option<&'a Vec<ResourceScope>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a Token>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issued_token_type: Option<&'a AccessTokenIssuedTokenType>,
    expires_at: i64,
}

#[derive(Deserialize)]
struct WireIn {
    #[serde(flatten)]
    token: AccessToken,
    #[serde(default)]
    expires_at: Option<i64>,
}

impl Serialize for StoredToken {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        WireOut {
            access_token: &self.access_token,
            expires_in: self.expires_in,
            token_type: self.token_type.as_ref(),
            restricted_to: self.restricted_to.as_ref(),
            refresh_token: self.refresh_token.as_ref(),
            issued_token_type: self.issued_token_type.as_ref(),
            expires_at: time::unix_seconds(self.expires_at),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for StoredToken {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let WireIn { token, expires_at } = WireIn::deserialize(deserializer)?;
        // A record without `expires_at` (never written by boxauth for a Box token) counts as
        // expired: it is refreshed before use rather than trusted forever.
        let expires_at = expires_at.map_or(SystemTime::UNIX_EPOCH, time::from_unix_seconds);
        let mut stored = Self::from_access_token(token, SystemTime::UNIX_EPOCH)
            .map_err(|_| serde::de::Error::custom("the stored token has no access_token"))?;
        stored.expires_at = expires_at;
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn wire(expires_in: Option<i64>) -> AccessToken {
        AccessToken {
            access_token: Some("a".into()),
            expires_in,
            ..AccessToken::default()
        }
    }

    #[test]
    fn expiry_is_received_at_plus_expires_in_and_the_margin_counts() {
        let at = UNIX_EPOCH + Duration::from_secs(1_000);
        let stored = StoredToken::from_access_token(wire(Some(3600)), at).unwrap();
        assert_eq!(stored.expires_at, UNIX_EPOCH + Duration::from_secs(4_600));
        let second = |s| UNIX_EPOCH + Duration::from_secs(s);
        assert!(stored.is_valid_at(second(4_000), Duration::from_secs(60)));
        assert!(!stored.is_valid_at(second(4_550), Duration::from_secs(60)));
        assert!(!stored.is_valid_at(second(4_600), Duration::ZERO));
        let json = serde_json::to_value(&stored).unwrap();
        assert_eq!(json["expires_at"], 4_600);
        assert_eq!(json["access_token"], "a");
    }

    #[test]
    fn nonsense_lifetimes_are_bounded() {
        let at = UNIX_EPOCH + Duration::from_secs(1_000);
        let none = StoredToken::from_access_token(wire(None), at).unwrap();
        assert_eq!(none.expires_at, at + DEFAULT_TOKEN_LIFETIME);
        let negative = StoredToken::from_access_token(wire(Some(-50)), at).unwrap();
        assert_eq!(negative.expires_at, at);
        let huge = StoredToken::from_access_token(wire(Some(i64::MAX)), at).unwrap();
        assert_eq!(
            huge.expires_at,
            at + Duration::from_secs(MAX_TOKEN_LIFETIME as u64)
        );
        let missing = AccessToken {
            access_token: None,
            ..wire(Some(60))
        };
        assert!(matches!(
            StoredToken::from_access_token(missing, at),
            Err(Error::InvalidResponse(_))
        ));
    }

    #[test]
    fn a_refresh_is_due_a_margin_before_expiry_but_not_before_half_the_lifetime() {
        let at = UNIX_EPOCH + Duration::from_secs(10_000);
        let hour = StoredToken::from_access_token(wire(Some(3600)), at).unwrap();
        assert_eq!(
            hour.refresh_due_at(Duration::from_secs(60)),
            at + Duration::from_secs(3540)
        );
        assert_eq!(
            hour.refresh_due_at(Duration::from_secs(3599)),
            at + Duration::from_secs(1800)
        );
    }

    #[test]
    fn the_stored_form_is_the_one_every_release_wrote() {
        // What boxauth 0.1 wrote for an OAuth 2.0 pair (serde_json::to_vec_pretty of its token).
        let written_by_0_1 = r#"{
  "access_token": "A1",
  "expires_in": 3600,
  "token_type": "bearer",
  "refresh_token": "R1",
  "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
  "expires_at": 1800003600
}"#;
        let stored: StoredToken = serde_json::from_str(written_by_0_1).unwrap();
        assert_eq!(stored.access_token.secret(), "A1");
        assert_eq!(stored.refresh_token.as_ref().unwrap().secret(), "R1");
        assert_eq!(
            stored.expires_at,
            UNIX_EPOCH + Duration::from_secs(1_800_003_600)
        );
        assert_eq!(
            serde_json::to_string_pretty(&stored).unwrap(),
            written_by_0_1
        );
        let without_expiry: StoredToken = serde_json::from_str(r#"{"access_token":"A"}"#).unwrap();
        assert_eq!(without_expiry.expires_at, UNIX_EPOCH, "counts as expired");
        let no_access = serde_json::from_str::<StoredToken>(r#"{"refresh_token":"R"}"#);
        assert!(
            no_access
                .unwrap_err()
                .to_string()
                .contains("no access_token")
        );
    }
}
