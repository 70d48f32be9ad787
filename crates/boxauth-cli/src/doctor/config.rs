//! The setup's own files, read before Box is asked: a JWT config's JSON and key fields, and
//! where an error building the auth belongs on the checklist.

use std::path::Path;

use boxauth::{AuthMethod, Error, KeyErrorKind, TokenRefusal};
use serde_json::Value;

use super::{Check, Name, Status};

const DOWNLOAD_CONFIG: &str = "download the app's config again (Developer Console → your app → \
     Configuration → App Settings → Download as JSON), or generate a new key pair there";

/// The checklist for a setup that cannot be built: `error` on the line it belongs to (a JWT
/// config's own fields read first, so a missing key ID or passphrase is the key's line).
pub(super) fn unusable(
    jwt: Option<Result<Value, Check>>,
    error: Error,
    found: String,
) -> Vec<Check> {
    let key = match jwt {
        Some(Err(check)) => return only(check),
        Some(Ok(root)) => Some(key_fields(&root)),
        None => None,
    };
    let key = match (key, error) {
        (Some(key), _) if key.status == Status::Fail => key,
        (_, Error::Key(error)) => {
            let fix = match error.kind() {
                KeyErrorKind::MissingPassphrase | KeyErrorKind::WrongPassphrase => format!(
                    "the passphrase (boxAppSettings.appAuth.passphrase) must be the one the key \
                     was encrypted with: {DOWNLOAD_CONFIG}"
                ),
                _ => format!("the private key cannot be used: {DOWNLOAD_CONFIG}"),
            };
            Check::fail(Name::Key, Error::Key(error).report(), fix)
        }
        (_, error) => {
            let fix = error
                .hint()
                .map_or_else(|| format!("correct the settings of {found}"), str::to_owned);
            return only(Check::fail(Name::Config, error.report(), fix));
        }
    };
    let mut checks = only(Check::pass(Name::Config, found));
    checks[1] = key;
    checks
}

/// The checklist when the first check failed: the rest not checked.
pub(super) fn only(first: Check) -> Vec<Check> {
    let mut checks = vec![first];
    checks.extend(
        Name::ALL[1..]
            .iter()
            .map(|name| Check::skip(*name, "not checked: the configuration cannot be used")),
    );
    checks
}

/// A JWT setup's config JSON (`None`: not JWT), or the failed `config` check.
pub(super) fn read_jwt_json(method: &AuthMethod) -> Option<Result<Value, Check>> {
    let AuthMethod::Jwt {
        config_file,
        config_json,
        ..
    } = method
    else {
        return None;
    };
    Some(read_jwt_config(
        config_file.as_deref(),
        config_json.as_ref().map(|json| json.secret()),
    ))
}

/// A JWT config's JSON, from its file or its text, or the failed `config` check.
pub(super) fn read_jwt_config(
    config_file: Option<&Path>,
    config_json: Option<&str>,
) -> Result<Value, Check> {
    match (config_file, config_json) {
        (Some(path), _) => {
            match boxauth::internal::private_file::read_config_text(path, "the Box config file") {
                Ok(text) => parse_config(&text, &path.display().to_string()),
                Err(error) => Err(Check::fail(
                    Name::Config,
                    error.report(),
                    format!("give the path of the app's config file, or {DOWNLOAD_CONFIG}"),
                )),
            }
        }
        (None, Some(json)) => parse_config(json, "the Box config JSON"),
        (None, None) => Err(Check::fail(
            Name::Config,
            "the JWT setup names no config file",
            "give the app's config file (--jwt-config FILE)",
        )),
    }
}

/// The config's JSON, or the failed `config` check naming `origin`.
fn parse_config(text: &str, origin: &str) -> Result<Value, Check> {
    match serde_json::from_str::<Value>(text) {
        Ok(root) if root.is_object() => Ok(root),
        Ok(_) => Err(Check::fail(
            Name::Config,
            format!("{origin} is JSON but not an object"),
            DOWNLOAD_CONFIG,
        )),
        // The error's position only: its text may quote the file, secrets included.
        Err(error) => Err(Check::fail(
            Name::Config,
            format!(
                "{origin} is not valid JSON (line {}, column {})",
                error.line(),
                error.column()
            ),
            DOWNLOAD_CONFIG,
        )),
    }
}

/// The key fields a JWT config needs, before anything is asked of Box.
pub(super) fn key_fields(root: &Value) -> Check {
    let field = |name: &str| {
        root.pointer(&format!("/boxAppSettings/appAuth/{name}"))
            .and_then(Value::as_str)
            .filter(|v| !v.trim().is_empty())
    };
    match (field("publicKeyID"), field("privateKey")) {
        (None, _) => Check::fail(
            Name::Key,
            "the config has no key ID (boxAppSettings.appAuth.publicKeyID)",
            format!(
                "put the ID of the app's public key there (Developer Console → your app → Configuration → Add and Manage Public Keys), or {DOWNLOAD_CONFIG}"
            ),
        ),
        (_, None) => Check::fail(
            Name::Key,
            "the config has no private key (boxAppSettings.appAuth.privateKey)",
            DOWNLOAD_CONFIG,
        ),
        (Some(id), Some(_)) => Check::pass(Name::Key, format!("private key read; key ID {id}")),
    }
}

/// The `key` check when Box refused the key (`None`: it refused something else).
pub(super) fn key_refused(error: &Error) -> Option<Check> {
    let fix = match error.as_api()?.refusal()? {
        TokenRefusal::KeyMismatch => format!(
            "the key ID (publicKeyID) and private key must be a key pair whose public key is \
             added to the app (Developer Console → your app → Configuration → Add and Manage \
             Public Keys): {DOWNLOAD_CONFIG}"
        ),
        TokenRefusal::NoPublicKeys => "add the public key of your key pair to the app (Developer \
             Console → your app → Configuration → Add and Manage Public Keys)"
            .to_owned(),
        _ => return None,
    };
    Some(Check::fail(Name::Key, error.report(), fix))
}
