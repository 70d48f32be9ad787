//! The token endpoint's grants, one file each, and what they share.

pub(crate) mod authorization_code;
pub(crate) mod client_credentials;
pub(crate) mod jwt_bearer;
pub(crate) mod refresh_token;
pub(crate) mod token_exchange;

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::config::{AccessLevel, App, Role};
use crate::state::{AppState, Client};

/// Form parameters; the first occurrence of a name wins.
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn parse(body: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// The value, if present and not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// A successful token answer, fields in the order Box sends them.
#[derive(Serialize)]
pub(crate) struct TokenReply {
    pub(crate) access_token: String,
    pub(crate) expires_in: i64,
    pub(crate) restricted_to: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_token: Option<String>,
    pub(crate) token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) issued_token_type: Option<&'static str>,
}

impl TokenReply {
    pub(crate) fn new(access_token: String, expires_in: i64) -> Self {
        Self {
            access_token,
            expires_in,
            restricted_to: Vec::new(),
            refresh_token: None,
            token_type: "bearer",
            issued_token_type: None,
        }
    }
}

/// Why an app may not have a token for a subject.
pub(crate) enum SubjectRefusal {
    /// No such enterprise or user, or not one this app can reach at all.
    Unknown,
    /// "Generate user access tokens" is off.
    UserTokensDisabled,
    /// The access level does not cover this user.
    AccessLevel,
}

/// The user a server token for (`enterprise`, id) or (`user`, id) acts as.
pub(crate) fn resolve_subject(
    state: &AppState,
    client: &Client,
    app: &App,
    subject_type: &str,
    subject_id: &str,
) -> Result<Arc<str>, SubjectRefusal> {
    match subject_type {
        "enterprise" if subject_id == app.enterprise_id => {
            Ok(Arc::from(app.service_account_id.as_str()))
        }
        "user" => {
            let user = state.user(subject_id).ok_or(SubjectRefusal::Unknown)?;
            if user.enterprise_id != app.enterprise_id {
                return Err(SubjectRefusal::Unknown);
            }
            let own = user.app_client_id.as_deref() == Some(&*client.id);
            match user.role {
                Role::AppUser | Role::ServiceAccount if !own => {
                    return Err(SubjectRefusal::Unknown);
                }
                Role::Admin | Role::Coadmin | Role::User
                    if app.access_level != AccessLevel::AppAndEnterprise =>
                {
                    return Err(SubjectRefusal::AccessLevel);
                }
                _ => {}
            }
            if !app.generate_user_tokens {
                return Err(SubjectRefusal::UserTokensDisabled);
            }
            Ok(Arc::from(user.id.as_str()))
        }
        _ => Err(SubjectRefusal::Unknown),
    }
}

/// Seconds from `now` to `expires_at`, both in milliseconds.
pub(crate) fn seconds_left(expires_at: i64, now: i64) -> i64 {
    (expires_at - now).max(0) / 1000
}
