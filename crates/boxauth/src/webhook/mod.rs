//! Box webhook signatures (v2), checked as Box documents them (developer.box.com, "Signature
//! Verification"): `BOX-SIGNATURE-PRIMARY` / `BOX-SIGNATURE-SECONDARY` are the base64
//! HMAC-SHA256, keyed with the app's primary or secondary signature key, of the body's bytes
//! followed by the `BOX-DELIVERY-TIMESTAMP` header's; `BOX-SIGNATURE-VERSION` is `1` and
//! `BOX-SIGNATURE-ALGORITHM` `HmacSHA256`; a delivery more than 10 minutes old is refused.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use boxauth::{WebhookVerdict, WebhookVerifier, WebhookKeySlot};
//!
//! let verifier = WebhookVerifier::new("primary-key").secondary("secondary-key");
//! let body = br#"{"type":"webhook_event","trigger":"FILE.UPLOADED"}"#;
//! let timestamp = "2026-11-01T10:00:00-07:00";
//! let signature = boxauth::WebhookKey::new("secondary-key").sign(body, timestamp);
//! let headers = [
//!     ("BOX-DELIVERY-TIMESTAMP", timestamp),
//!     ("BOX-SIGNATURE-VERSION", "1"),
//!     ("BOX-SIGNATURE-ALGORITHM", "HmacSHA256"),
//!     ("BOX-SIGNATURE-SECONDARY", signature.as_str()),
//! ];
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_793_552_400 + 60);
//! let verdict = verifier.verify(headers.iter().map(|(n, v)| (*n, v.as_bytes())), body, now);
//! assert_eq!(verdict, WebhookVerdict::Valid(WebhookKeySlot::Secondary));
//! ```
//!
//! Not done: Box's generated SDKs also accept a signature over the body with its non-ASCII
//! characters escaped (`\uXXXX`); Box documents the bytes as sent, and boxauth checks those.

#[cfg(feature = "webhook-layer")]
mod layer;
pub(crate) mod rfc3339;

use std::time::{Duration, SystemTime};

use base64ct::{Base64, Encoding};

#[cfg(feature = "webhook-layer")]
pub use layer::{WebhookLayer, WebhookService};

use crate::secret::WebhookKey;

/// How old a delivery may be (Box: 10 minutes).
pub const WEBHOOK_MAX_AGE: Duration = Duration::from_secs(600);

/// How far in the future a delivery's timestamp may be, for clocks that differ by a little
/// (Box documents no limit; its Python SDK allows none).
pub const WEBHOOK_CLOCK_LEEWAY: Duration = Duration::from_secs(60);

/// Which of the two keys a delivery's signature matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookKeySlot {
    /// The primary key (`BOX-SIGNATURE-PRIMARY`).
    Primary,
    /// The secondary key (`BOX-SIGNATURE-SECONDARY`).
    Secondary,
}

/// What a delivery's check found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookVerdict {
    /// Signed by Box with this key, within the maximum age.
    Valid(WebhookKeySlot),
    /// Neither signature matches the body and timestamp with the keys given: the delivery was
    /// changed, forged, or signed with other keys (rotated in the Developer Console?).
    BadSignature,
    /// The delivery is older than the maximum age (a replay, or a clock far off).
    TooOld {
        /// How old it is.
        age: Duration,
    },
    /// The timestamp is further in the future than clocks differ by.
    FromTheFuture {
        /// How far ahead it is.
        ahead: Duration,
    },
    /// A header the check needs is missing: these.
    MissingHeaders(Vec<&'static str>),
    /// `BOX-SIGNATURE-VERSION` is not `1` or `BOX-SIGNATURE-ALGORITHM` not `HmacSHA256`.
    UnsupportedSignature,
    /// `BOX-DELIVERY-TIMESTAMP` is not an RFC 3339 date and time.
    BadTimestamp,
}

impl WebhookVerdict {
    /// Whether the delivery can be trusted.
    pub fn is_valid(&self) -> bool {
        matches!(self, Self::Valid(_))
    }

    /// The verdict in a few words, with what to check.
    pub fn reason(&self) -> String {
        match self {
            Self::Valid(WebhookKeySlot::Primary) => "valid: signed with the primary key".into(),
            Self::Valid(WebhookKeySlot::Secondary) => "valid: signed with the secondary key".into(),
            Self::BadSignature => "bad signature: neither BOX-SIGNATURE-PRIMARY nor \
                 BOX-SIGNATURE-SECONDARY matches the body and timestamp with the keys given \
                 (changed in transit, forged, or signed with other keys)"
                .into(),
            Self::TooOld { age } => format!(
                "too old: delivered {} s ago, more than the {} s allowed (a replay, or a clock \
                 far off)",
                age.as_secs(),
                WEBHOOK_MAX_AGE.as_secs()
            ),
            Self::FromTheFuture { ahead } => format!(
                "timestamp {} s in the future: check this machine's clock",
                ahead.as_secs()
            ),
            Self::MissingHeaders(names) => format!("missing headers: {}", names.join(", ")),
            Self::UnsupportedSignature => "unsupported signature: BOX-SIGNATURE-VERSION must be \
                 1 and BOX-SIGNATURE-ALGORITHM HmacSHA256"
                .into(),
            Self::BadTimestamp => {
                "bad timestamp: BOX-DELIVERY-TIMESTAMP is not an RFC 3339 date and time".into()
            }
        }
    }
}

impl WebhookKey {
    /// The signature Box puts in `BOX-SIGNATURE-PRIMARY` (or `-SECONDARY`) for `body` delivered
    /// at `timestamp` (the `BOX-DELIVERY-TIMESTAMP` header's text): base64 of the HMAC-SHA256 of
    /// the body's bytes then the timestamp's. For tests of a webhook handler.
    pub fn sign(&self, body: &[u8], timestamp: &str) -> String {
        Base64::encode_string(self.mac(body, timestamp).as_ref())
    }

    fn mac(&self, body: &[u8], timestamp: &str) -> aws_lc_rs::hmac::Tag {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, self.secret().as_bytes());
        let mut context = aws_lc_rs::hmac::Context::with_key(&key);
        context.update(body);
        context.update(timestamp.as_bytes());
        context.sign()
    }

    /// Whether `signature` (base64) is this key's for `body` and `timestamp`, compared in
    /// constant time.
    fn signed(&self, body: &[u8], timestamp: &str, signature: &[u8]) -> bool {
        let mut decoded = [0u8; 64];
        let Ok(decoded) = Base64::decode(signature.trim_ascii(), &mut decoded) else {
            return false;
        };
        aws_lc_rs::constant_time::verify_slices_are_equal(
            self.mac(body, timestamp).as_ref(),
            decoded,
        )
        .is_ok()
    }
}

/// An app's webhook signature keys and the maximum age: checks deliveries.
#[derive(Debug, Clone)]
pub struct WebhookVerifier {
    primary: Option<WebhookKey>,
    secondary: Option<WebhookKey>,
    max_age: Duration,
}

impl WebhookVerifier {
    /// With the primary key (the secondary, if the app has one, with [`secondary`](Self::secondary)).
    pub fn new(primary: impl Into<WebhookKey>) -> Self {
        Self {
            primary: Some(primary.into()),
            secondary: None,
            max_age: WEBHOOK_MAX_AGE,
        }
    }

    /// With the secondary key only (while the primary is being rotated).
    pub fn secondary_only(secondary: impl Into<WebhookKey>) -> Self {
        Self {
            primary: None,
            secondary: Some(secondary.into()),
            max_age: WEBHOOK_MAX_AGE,
        }
    }

    /// Also accepts deliveries signed with the secondary key.
    pub fn secondary(mut self, secondary: impl Into<WebhookKey>) -> Self {
        self.secondary = Some(secondary.into());
        self
    }

    /// Refuses deliveries older than `max_age` (default 10 minutes, as Box says).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Checks a delivery: its headers (names in any case; values as bytes), its body's bytes as
    /// received, and now. Headers first (present, version, algorithm, timestamp and age), then
    /// the primary signature, then the secondary.
    pub fn verify<'h>(
        &self,
        headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
        body: &[u8],
        now: SystemTime,
    ) -> WebhookVerdict {
        const NAMES: [&str; 5] = [
            "box-delivery-timestamp",
            "box-signature-version",
            "box-signature-algorithm",
            "box-signature-primary",
            "box-signature-secondary",
        ];
        let mut found: [Option<&[u8]>; 5] = [None; 5];
        for (name, value) in headers {
            if let Some(at) = NAMES.iter().position(|n| name.eq_ignore_ascii_case(n)) {
                found[at].get_or_insert(value);
            }
        }
        let [timestamp, version, algorithm, primary, secondary] = found;
        let mut missing = Vec::new();
        for (value, name) in [
            (timestamp, "BOX-DELIVERY-TIMESTAMP"),
            (version, "BOX-SIGNATURE-VERSION"),
            (algorithm, "BOX-SIGNATURE-ALGORITHM"),
        ] {
            if value.is_none() {
                missing.push(name);
            }
        }
        if primary.is_none() && secondary.is_none() {
            missing.push("BOX-SIGNATURE-PRIMARY or BOX-SIGNATURE-SECONDARY");
        }
        let (Some(timestamp), Some(version), Some(algorithm)) = (timestamp, version, algorithm)
        else {
            return WebhookVerdict::MissingHeaders(missing);
        };
        if !missing.is_empty() {
            return WebhookVerdict::MissingHeaders(missing);
        }
        if version.trim_ascii() != b"1" || algorithm.trim_ascii() != b"HmacSHA256" {
            return WebhookVerdict::UnsupportedSignature;
        }
        let Some(timestamp) = std::str::from_utf8(timestamp).ok() else {
            return WebhookVerdict::BadTimestamp;
        };
        let Some(sent) = rfc3339::parse(timestamp.trim()) else {
            return WebhookVerdict::BadTimestamp;
        };
        match now.duration_since(sent) {
            Ok(age) if age > self.max_age => return WebhookVerdict::TooOld { age },
            Ok(_) => {}
            Err(ahead) if ahead.duration() > WEBHOOK_CLOCK_LEEWAY => {
                return WebhookVerdict::FromTheFuture {
                    ahead: ahead.duration(),
                };
            }
            Err(_) => {}
        }
        for (key, signature, slot) in [
            (&self.primary, primary, WebhookKeySlot::Primary),
            (&self.secondary, secondary, WebhookKeySlot::Secondary),
        ] {
            if let (Some(key), Some(signature)) = (key, signature)
                && key.signed(body, timestamp, signature)
            {
                return WebhookVerdict::Valid(slot);
            }
        }
        WebhookVerdict::BadSignature
    }
}
