//! Where saved environments' secrets live: the OS keychain (the Secret Service on Linux, Keychain
//! on macOS, Credential Manager on Windows) when one answers, else the environments file (mode
//! 0600). `--secrets keychain|file` or `BOXAUTH_SECRETS` chooses; by default the keychain is
//! asked, and a save that falls back to the file says so.
//!
//! An environment in the keychain keeps one keychain item: a JSON object of its secret fields
//! ([`SECRET_FIELDS`]), under the service `boxauth` and the account `DIR/environments.json#NAME`
//! (so two config directories never share an item), with the password of a token store URL. The
//! environments file keeps the rest of the `AuthConfig` (the store URL with its password masked)
//! and `"secrets": "keychain"`; loading merges the two back into one `AuthConfig`.

use std::fmt;

use boxauth::{ConfigError, ConfigErrorKind, Error};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `AuthConfig` fields (as the environments file writes them) that hold a secret: what goes
/// in the keychain. A unit test checks every auth method against it.
const SECRET_FIELDS: [&str; 5] = [
    "client_secret",
    "token",
    "primary_token",
    "secondary_token",
    "config_json",
];

/// The field of an environment's token store. A store URL with a password goes in the keychain
/// too; the file keeps the URL with the password masked, so `env list` shows it without asking
/// the keychain.
const STORE_FIELD: &str = "token_store";

/// Takes the secret fields out of `saved` (an environment as the file writes it), and the
/// password of its token store URL (the file keeps the URL masked): the JSON object of them,
/// `None` when it has none.
pub fn take_secrets(saved: &mut Value) -> Option<String> {
    let object = saved.as_object_mut()?;
    let mut taken: serde_json::Map<String, Value> = SECRET_FIELDS
        .iter()
        .filter_map(|field| object.remove(*field).map(|v| ((*field).to_owned(), v)))
        .collect();
    if let Some(Value::String(url)) = object.get_mut(STORE_FIELD) {
        let masked = boxauth::internal::mask::url_password(url);
        if masked != *url {
            let url = std::mem::replace(url, masked);
            taken.insert(STORE_FIELD.to_owned(), Value::String(url));
        }
    }
    (!taken.is_empty()).then(|| Value::Object(taken).to_string())
}

/// Puts a keychain item's `fields` (as [`take_secrets`] took them) back into `saved`: the secret
/// fields, and the token store URL only where the file holds that URL masked. Nothing else: an
/// item cannot change the rest of the environment. `false` when the item's store URL is not the
/// one the file shows (the file was edited since): the file's URL lacks its password.
#[must_use]
pub fn put_back(
    saved: &mut serde_json::Map<String, Value>,
    fields: serde_json::Map<String, Value>,
) -> bool {
    let mut complete = true;
    for (field, value) in fields {
        let belongs = if field == STORE_FIELD {
            let same = matches!(
                (&value, saved.get(STORE_FIELD)),
                (Value::String(url), Some(Value::String(shown)))
                    if boxauth::internal::mask::url_password(url) == *shown
            );
            complete &= same;
            same
        } else {
            SECRET_FIELDS.contains(&field.as_str())
        };
        if belongs {
            saved.insert(field, value);
        }
    }
    complete
}

/// The keychain's service name for boxauth's items.
const SERVICE: &str = "boxauth";

/// Where an environment's secrets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Home {
    /// In the environments file, mode 0600.
    #[default]
    File,
    /// In the OS keychain.
    Keychain,
}

impl Home {
    /// `file` or `keychain`.
    pub fn name(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Keychain => "keychain",
        }
    }

    /// Whether it is the file (serde's `skip_serializing_if`).
    pub fn is_file(&self) -> bool {
        *self == Self::File
    }
}

/// Where a newly saved environment's secrets go: `flag` (`--secrets`), else `BOXAUTH_SECRETS`,
/// else the keychain when one answers. Returns a note to print once when the keychain was wanted
/// by default but did not answer; an explicit `keychain` that does not answer is an error.
pub fn choose(flag: Option<Home>, name: &str) -> Result<(Home, Option<String>), Error> {
    let given = match flag {
        Some(home) => Some(home),
        None => from_variable()?,
    };
    match given {
        Some(Home::File) => Ok((Home::File, None)),
        Some(Home::Keychain) => {
            probe().map_err(unavailable)?;
            Ok((Home::Keychain, None))
        }
        None => match probe() {
            Ok(()) => Ok((Home::Keychain, None)),
            Err(why) => Ok((
                Home::File,
                Some(format!(
                    "no OS keychain answered ({why}): environment {name:?}'s secrets are kept in \
                     the environments file (mode 0600). Once a keychain runs, `boxauth env \
                     move-secrets --to keychain` moves them; --secrets file (or \
                     BOXAUTH_SECRETS=file) chooses the file without this note"
                )),
            )),
        },
    }
}

/// `BOXAUTH_SECRETS` (`keychain` or `file`; unset or empty: choose).
fn from_variable() -> Result<Option<Home>, Error> {
    match std::env::var("BOXAUTH_SECRETS") {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => match value.trim() {
            "file" => Ok(Some(Home::File)),
            "keychain" => Ok(Some(Home::Keychain)),
            _ => Err(ConfigError::new(
                ConfigErrorKind::Invalid,
                "BOXAUTH_SECRETS must be `keychain` or `file` (or unset, to use the keychain when \
                 one answers)",
            )
            .into()),
        },
        Err(_) => Ok(None),
    }
}

/// A keychain failure, in words that hold no secret (a keychain error can carry the bytes it
/// could not decode: they are never kept).
#[derive(Debug)]
pub struct KeychainError(String);

impl fmt::Display for KeychainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeychainError {}

fn unavailable(why: KeychainError) -> Error {
    ConfigError::new(
        ConfigErrorKind::Unreadable,
        "the OS keychain does not answer: start and unlock it (on Linux a Secret Service such as \
         gnome-keyring, with DBUS_SESSION_BUS_ADDRESS set), or keep secrets in the file with \
         --secrets file or BOXAUTH_SECRETS=file",
    )
    .with_source(why)
    .into()
}

/// The keychain account of environment `name` in the environments file `file`.
pub fn account(file: &std::path::Path, name: &str) -> String {
    format!("{}#{name}", file.display())
}

/// Whether the keychain answers (a read of an item that need not exist).
pub fn probe() -> Result<(), KeychainError> {
    platform::get("probe").map(|_| ())
}

/// The secrets kept under `account`, if any.
pub fn get(account: &str) -> Result<Option<String>, Error> {
    platform::get(account).map_err(|why| {
        ConfigError::new(
            ConfigErrorKind::Unreadable,
            "cannot read an environment's secrets from the OS keychain: unlock it (or start it: \
             on Linux a Secret Service, with DBUS_SESSION_BUS_ADDRESS set), then try again",
        )
        .with_source(why)
        .into()
    })
}

/// Keeps `secret` under `account`.
pub fn set(account: &str, secret: &str) -> Result<(), Error> {
    platform::set(account, secret).map_err(unavailable)
}

/// Forgets what is kept under `account` (nothing kept is fine).
pub fn delete(account: &str) -> Result<(), Error> {
    platform::delete(account).map_err(unavailable)
}

/// The keychain itself, in words that hold no secret.
#[cfg(any(target_os = "linux", target_os = "macos", windows))]
pub(crate) mod platform {
    use super::{KeychainError, SERVICE};

    fn said(error: keyring::Error) -> KeychainError {
        KeychainError(match error {
            // The undecodable bytes may be a secret: not repeated.
            keyring::Error::BadEncoding(_) => "the keychain item is not UTF-8".to_owned(),
            other => other.to_string(),
        })
    }

    fn entry(account: &str) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(SERVICE, account).map_err(said)
    }

    pub fn get(account: &str) -> Result<Option<String>, KeychainError> {
        match entry(account)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(said(error)),
        }
    }

    pub fn set(account: &str, secret: &str) -> Result<(), KeychainError> {
        entry(account)?.set_password(secret).map_err(said)
    }

    pub fn delete(account: &str) -> Result<(), KeychainError> {
        match entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(said(error)),
        }
    }
}

/// No keychain on this platform.
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub(crate) mod platform {
    use super::KeychainError;

    fn none() -> KeychainError {
        KeychainError("boxauth knows no OS keychain on this platform".to_owned())
    }

    pub fn get(_: &str) -> Result<Option<String>, KeychainError> {
        Err(none())
    }

    pub fn set(_: &str, _: &str) -> Result<(), KeychainError> {
        Err(none())
    }

    pub fn delete(_: &str) -> Result<(), KeychainError> {
        Err(none())
    }
}

#[cfg(test)]
mod tests {
    use boxauth::{AuthConfig, AuthMethod, ClientSecret, ConfigJson, Token};

    use super::{put_back, take_secrets};

    /// Every auth method, each secret field a value containing "SECRET".
    fn every_method() -> Vec<AuthMethod> {
        vec![
            AuthMethod::DeveloperToken {
                token: Token::new("SECRET-dev"),
                client_id: Some("id".into()),
                client_secret: Some(ClientSecret::new("SECRET-cs")),
            },
            AuthMethod::AppToken {
                primary_token: Token::new("SECRET-primary"),
                secondary_token: Some(Token::new("SECRET-secondary")),
            },
            AuthMethod::Jwt {
                config_file: None,
                config_json: Some(ConfigJson::new("{\"privateKey\":\"SECRET-key\"}")),
                user_id: None,
            },
            AuthMethod::Ccg {
                client_id: "id".into(),
                client_secret: ClientSecret::new("SECRET-ccg"),
                enterprise_id: Some("1".into()),
                user_id: None,
            },
            AuthMethod::Oauth {
                client_id: "id".into(),
                client_secret: ClientSecret::new("SECRET-oauth"),
            },
        ]
    }

    /// `secrets::SECRET_FIELDS` covers every secret of every method: none is left in the file.
    #[test]
    fn the_secret_fields_are_every_secret() {
        for method in every_method() {
            let name = method.name();
            let mut saved = serde_json::to_value(AuthConfig::new(method)).unwrap();
            let taken = take_secrets(&mut saved).unwrap();
            assert!(!saved.to_string().contains("SECRET"), "{name}: {saved}");
            assert!(taken.contains("SECRET"), "{name}");
            let mut back: serde_json::Value = serde_json::from_str(&taken).unwrap();
            back.as_object_mut()
                .unwrap()
                .extend(saved.as_object().unwrap().clone());
            serde_json::from_value::<AuthConfig>(back).unwrap();
        }
    }

    /// A token store URL's password goes with the secrets; the file keeps the URL masked, and
    /// only that URL comes back from an item.
    #[test]
    fn a_token_store_password_goes_with_the_secrets() {
        let url = "redis://:SECRET-redis@127.0.0.1:6379/0";
        let mut saved = serde_json::json!({"client_id": "id", "token_store": url});
        let taken = take_secrets(&mut saved).unwrap();
        assert_eq!(saved["token_store"], "redis://:***@127.0.0.1:6379/0");
        let taken: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&taken).unwrap();
        let mut back = saved.as_object().unwrap().clone();
        assert!(put_back(&mut back, taken.clone()));
        assert_eq!(back["token_store"], url);

        // Another store's URL in the item, or a field that is not a secret, is not taken.
        let mut other = saved.as_object().unwrap().clone();
        other.insert("token_store".into(), "redis://:***@elsewhere:6379/0".into());
        let mut forged = taken;
        forged.insert("client_id".into(), "forged".into());
        assert!(
            !put_back(&mut other, forged),
            "the file's URL has no password"
        );
        assert_eq!(other["token_store"], "redis://:***@elsewhere:6379/0");
        assert_eq!(other["client_id"], "id");

        // Without a password, the URL stays in the file and nothing is taken.
        let mut plain = serde_json::json!({"token_store": "redis://127.0.0.1:6379/0"});
        assert_eq!(take_secrets(&mut plain), None);
        assert_eq!(plain["token_store"], "redis://127.0.0.1:6379/0");
    }
}
