//! A JWT app's configuration: from Box's app config JSON (`boxAppSettings…`), or field by field.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::key::{JwtAlgorithm, PrivateKey};
use crate::auth::Subject;
use crate::error::{ConfigErrorKind, Error, Result};
use crate::secret::{ClientSecret, Passphrase};

/// The longest an assertion may live: Box refuses an `exp` more than 60 s after the issue time.
pub const MAX_ASSERTION_LIFETIME: Duration = Duration::from_secs(60);
/// The default assertion lifetime, as in Box's SDKs.
pub const DEFAULT_ASSERTION_LIFETIME: Duration = Duration::from_secs(30);

/// Everything JWT auth needs. The private key is parsed once, here.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JwtConfig {
    /// The app's client ID (the assertion's `iss`).
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: ClientSecret,
    /// The public key's ID at Box (the assertion's `kid`).
    pub key_id: String,
    /// The private key that signs assertions.
    pub private_key: Arc<PrivateKey>,
    /// The service account of an enterprise, or a user.
    pub subject: Subject,
    /// RS256 (default), RS384 or RS512.
    pub algorithm: JwtAlgorithm,
    /// How far ahead `exp` is set (default 30 s, at most 60 s).
    pub assertion_lifetime: Duration,
}

const DOWNLOAD_AGAIN: &str = "download the app's config again (Developer Console → your app → Configuration → \
     App Settings → Download as JSON)";

fn field<'a>(root: &'a Value, path: &[&str], origin: &str) -> Result<&'a str> {
    let mut node = root;
    for name in path {
        node = node.get(name).ok_or_else(|| missing(path, origin))?;
    }
    match node {
        Value::String(text) if !text.trim().is_empty() => Ok(text),
        Value::String(_) | Value::Null => Err(missing(path, origin)),
        _ => Err(Error::config(format!(
            "{origin}: {} must be a string; {DOWNLOAD_AGAIN}",
            path.join(".")
        ))),
    }
}

fn missing(path: &[&str], origin: &str) -> Error {
    Error::config_kind(
        ConfigErrorKind::Missing,
        format!("{origin}: {} is missing; {DOWNLOAD_AGAIN}", path.join(".")),
    )
}

/// `enterpriseID` / `userID`: a string, or a number some tools write instead.
fn id(root: &Value, name: &str) -> Option<String> {
    match root.get(name)? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

impl JwtConfig {
    /// From the fields; the key is already parsed.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<ClientSecret>,
        key_id: impl Into<String>,
        private_key: PrivateKey,
        subject: Subject,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            key_id: key_id.into(),
            private_key: Arc::new(private_key),
            subject,
            algorithm: JwtAlgorithm::Rs256,
            assertion_lifetime: DEFAULT_ASSERTION_LIFETIME,
        }
    }

    /// Reads Box's app config file (`config.json` from the Developer Console).
    pub fn from_config_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = crate::internal::private_file::read_config_text(path, "the Box config file")?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses the content of the Box config file `path`.
    pub(crate) fn from_config_text(text: &str, path: &Path) -> Result<Self> {
        Self::parse(text, &path.display().to_string())
    }

    /// Parses Box's app config JSON: `boxAppSettings.clientID`, `clientSecret`,
    /// `appAuth.publicKeyID`, `privateKey`, `passphrase`, and `enterpriseID` (or `userID`).
    pub fn from_config_json(json: &str) -> Result<Self> {
        Self::parse(json, "the Box config JSON")
    }

    fn parse(json: &str, origin: &str) -> Result<Self> {
        let root: Value = serde_json::from_str(json).map_err(|e| {
            Error::config(format!(
                "{origin} is not valid JSON (line {}, column {}); {DOWNLOAD_AGAIN}",
                e.line(),
                e.column()
            ))
        })?;
        let settings = ["boxAppSettings"];
        let client_id = field(&root, &[settings[0], "clientID"], origin)?;
        let client_secret = field(&root, &[settings[0], "clientSecret"], origin)?;
        let key_id = field(&root, &[settings[0], "appAuth", "publicKeyID"], origin)?;
        let pem = field(&root, &[settings[0], "appAuth", "privateKey"], origin)?;
        let passphrase = root
            .pointer("/boxAppSettings/appAuth/passphrase")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(Passphrase::new);
        let subject = match (id(&root, "enterpriseID"), id(&root, "userID")) {
            (Some(enterprise), _) => Subject::Enterprise(enterprise),
            (None, Some(user)) => Subject::User(user),
            (None, None) => {
                return Err(Error::config_kind(
                    ConfigErrorKind::Missing,
                    format!(
                        "{origin}: enterpriseID (or userID) is missing; add \"enterpriseID\": \"<your enterprise ID>\" \
                     (Admin Console → Account & Billing), or {DOWNLOAD_AGAIN}"
                    ),
                ));
            }
        };
        let private_key = PrivateKey::from_pem(pem, passphrase.as_ref())?;
        Ok(Self::new(
            client_id,
            client_secret,
            key_id,
            private_key,
            subject,
        ))
    }

    /// Signs with `algorithm` instead of RS256.
    pub fn with_algorithm(mut self, algorithm: JwtAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Sets `exp` this far ahead (at most 60 s: Box refuses more).
    pub fn with_assertion_lifetime(mut self, lifetime: Duration) -> Result<Self> {
        if lifetime.is_zero() || lifetime > MAX_ASSERTION_LIFETIME {
            return Err(Error::config(
                "the assertion lifetime must be between 1 and 60 seconds (Box refuses more)",
            ));
        }
        self.assertion_lifetime = lifetime;
        Ok(self)
    }

    /// The same app acting as `subject`.
    pub fn with_subject(mut self, subject: Subject) -> Self {
        self.subject = subject;
        self
    }
}
