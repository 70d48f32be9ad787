//! Who a command acts as, told from its `AuthConfig`: for `token get --json` and for telling
//! whether two sources name the same identity.

use boxauth::AuthMethod;
use serde_json::{Value, json};

use crate::auth_source::Source;

/// Whether `a` and `b` act as the same identity: the same app and subject (and, for developer
/// tokens, the same token), so that one shadowing the other changes nothing.
pub fn same(a: &AuthMethod, b: &AuthMethod) -> bool {
    match (a, b) {
        (
            AuthMethod::DeveloperToken { token: a, .. },
            AuthMethod::DeveloperToken { token: b, .. },
        ) => a.secret() == b.secret(),
        (
            AuthMethod::AppToken {
                primary_token: a, ..
            },
            AuthMethod::AppToken {
                primary_token: b, ..
            },
        ) => a.secret() == b.secret(),
        (AuthMethod::Oauth { .. }, AuthMethod::Oauth { .. }) => false,
        _ => matches!((a.identity(), b.identity()), (Ok(a), Ok(b)) if a == b),
    }
}

/// The app and subject `method` acts as, as JSON: `{"method", "client_id", "subject": {"type",
/// "id"}}`, with what is not known from the config left out (the user an OAuth 2.0 login or a
/// developer token belongs to is known only to Box: see `--check`).
pub fn describe(method: &AuthMethod, source: &Source) -> Value {
    let (client_id, subject) = match method {
        AuthMethod::DeveloperToken { client_id, .. } => (
            client_id.clone(),
            json!({"type": "user", "note": "the user who generated the token (known to Box only)"}),
        ),
        AuthMethod::Jwt { user_id, .. } => {
            let (client, enterprise) = jwt_app(method);
            let subject = match user_id {
                Some(user) => json!({"type": "user", "id": user}),
                None => json!({
                    "type": "enterprise",
                    "id": enterprise,
                    "note": "the enterprise's service account",
                }),
            };
            (client, subject)
        }
        AuthMethod::Ccg {
            client_id,
            enterprise_id,
            user_id,
            ..
        } => (
            Some(client_id.clone()),
            match (user_id, enterprise_id) {
                (Some(user), _) => json!({"type": "user", "id": user}),
                (None, enterprise) => json!({
                    "type": "enterprise",
                    "id": enterprise,
                    "note": "the enterprise's service account",
                }),
            },
        ),
        AuthMethod::Oauth { client_id, .. } => (
            Some(client_id.clone()),
            json!({"type": "user", "note": "the user who logged in (known to Box only)"}),
        ),
        AuthMethod::AppToken { .. } => (
            None,
            json!({"type": "user", "note": "the app's service account (known to Box only)"}),
        ),
        _ => (None, Value::Null),
    };
    let mut identity = json!({
        "method": method.name(),
        "source": source.label,
        "level": match source.level {
            crate::auth_source::Level::Flags => "flags",
            crate::auth_source::Level::Variables => "variables",
            crate::auth_source::Level::Saved => "saved environment",
        },
        "client_id": client_id,
        "subject": subject,
    });
    if let Some(name) = &source.environment {
        identity["environment"] = json!(name);
    }
    identity
}

/// The JWT config's client ID and enterprise ID (read without its key), or nothing when it
/// cannot be read (the token was got with it, so only the description is lost).
fn jwt_app(method: &AuthMethod) -> (Option<String>, Value) {
    /// The two fields; the key and passphrase beside them are never copied out.
    #[derive(serde::Deserialize)]
    struct Settings {
        #[serde(rename = "boxAppSettings")]
        app: App,
        #[serde(rename = "enterpriseID", default)]
        enterprise: Value,
    }
    #[derive(serde::Deserialize)]
    struct App {
        #[serde(rename = "clientID")]
        client: String,
    }
    let AuthMethod::Jwt {
        config_file,
        config_json,
        ..
    } = method
    else {
        return (None, Value::Null);
    };
    let parsed = match (config_file, config_json) {
        (Some(path), _) => boxauth::internal::private_file::read_text(
            path,
            boxauth::internal::private_file::MAX_CONFIG_BYTES,
        )
        .ok()
        .and_then(|text| serde_json::from_str::<Settings>(&text).ok()),
        (None, Some(json)) => serde_json::from_str::<Settings>(json.secret()).ok(),
        (None, None) => None,
    };
    match parsed {
        Some(settings) => (Some(settings.app.client), settings.enterprise),
        None => (None, Value::Null),
    }
}
