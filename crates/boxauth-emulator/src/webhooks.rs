//! Signed test deliveries: the emulator POSTs a Box webhook event to a URL as Box does, signed
//! with the keys given (v2 signatures: base64 HMAC-SHA256 of the body then the timestamp), so an
//! app's handler can be tested end to end. The timestamp is the emulator's clock: advance it, or
//! set its offset, to send a delivery that is old or from the future.

use std::time::Duration;

use serde_json::{Value, json};

use crate::config::ConfigError;
use crate::control::Live;
use crate::server::EmulatorHandle;

/// How long a delivery may take (Box's own timeout is not documented; 30 s keeps a test bounded).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// The most of the answer's body read (it is only shown).
const MAX_ANSWER_BYTES: usize = 4096;

/// A test delivery to send.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// Where to POST it (`http://` or `https://`).
    pub url: String,
    /// The app's primary signature key: signs `BOX-SIGNATURE-PRIMARY`.
    pub primary_key: Option<String>,
    /// The secondary key: signs `BOX-SIGNATURE-SECONDARY`.
    pub secondary_key: Option<String>,
    /// The event's trigger (default `FILE.UPLOADED`).
    pub trigger: Option<String>,
    /// The body to send instead of the emulator's event (sent as it is, bytes signed).
    pub body: Option<String>,
}

impl std::fmt::Debug for WebhookDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookDelivery")
            .field("url", &self.url)
            .field(
                "primary_key",
                &self.primary_key.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "secondary_key",
                &self.secondary_key.as_ref().map(|_| "[redacted]"),
            )
            .field("trigger", &self.trigger)
            .finish_non_exhaustive()
    }
}

impl WebhookDelivery {
    /// A delivery of the default event to `url`, signed with `primary_key`.
    pub fn new(url: impl Into<String>, primary_key: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            primary_key: Some(primary_key.into()),
            ..Self::default()
        }
    }

    /// Also signed with `secondary_key`.
    pub fn secondary_key(mut self, key: impl Into<String>) -> Self {
        self.secondary_key = Some(key.into());
        self
    }
}

/// What the receiver answered.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeliveryOutcome {
    /// The receiver's HTTP status.
    pub status: u16,
    /// The start of its answer's body (at most 4 KiB, as text).
    pub answer: String,
    /// `BOX-DELIVERY-ID`.
    pub delivery_id: String,
    /// `BOX-DELIVERY-TIMESTAMP`, as sent.
    pub timestamp: String,
    /// The body, as sent.
    pub body: String,
}

/// Box's webhook event for `trigger` (the `webhook_event` shape of Box's API reference), about
/// the world's first file, by the default app's admin.
fn event(live: &Live, trigger: &str, timestamp: &str, id: &str) -> Value {
    let world = live.world();
    let file = world
        .items
        .iter()
        .find(|i| i.kind == crate::ItemKind::File)
        .or(world.items.first());
    let source = file.map_or(
        Value::Null,
        |item| json!({"type": item.kind.as_str(), "id": item.id, "name": item.name}),
    );
    let by = world
        .users
        .iter()
        .find(|u| u.role == crate::Role::Admin)
        .map_or(
            Value::Null,
            |u| json!({"type": "user", "id": u.id, "name": u.name, "login": u.login}),
        );
    json!({
        "type": "webhook_event",
        "id": id,
        "created_at": timestamp,
        "trigger": trigger,
        "webhook": {"id": "400000001", "type": "webhook"},
        "created_by": by,
        "source": source,
    })
}

fn sign(key: &str, body: &[u8], timestamp: &str) -> String {
    boxauth::WebhookKey::new(key).sign(body, timestamp)
}

impl EmulatorHandle {
    /// POSTs `delivery` to its URL, as Box delivers a webhook event: JSON, with
    /// `BOX-DELIVERY-ID`, `BOX-DELIVERY-TIMESTAMP` (the emulator's clock), `BOX-SIGNATURE-VERSION:
    /// 1`, `BOX-SIGNATURE-ALGORITHM: HmacSHA256` and a signature per key given. Returns what the
    /// receiver answered; an error when it could not be reached (within 30 s) or the delivery
    /// is not usable.
    pub async fn send_webhook(
        &self,
        delivery: WebhookDelivery,
    ) -> Result<DeliveryOutcome, ConfigError> {
        send(&self.live, delivery).await
    }
}

/// [`EmulatorHandle::send_webhook`], for both surfaces.
pub(crate) async fn send(
    live: &Live,
    delivery: WebhookDelivery,
) -> Result<DeliveryOutcome, ConfigError> {
    {
        let url = url::Url::parse(&delivery.url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                ConfigError::invalid(format!(
                    "{:?} is not an http:// or https:// URL to deliver to",
                    delivery.url
                ))
            })?;
        if delivery.primary_key.is_none() && delivery.secondary_key.is_none() {
            return Err(ConfigError::invalid(
                "a delivery needs a primary_key or a secondary_key to be signed with",
            ));
        }
        let timestamp = boxauth::internal::rfc3339::format(live.state().clock.now());
        let id = crate::tokens::hex(&crate::tokens::random_bytes::<16>());
        let trigger = delivery.trigger.as_deref().unwrap_or("FILE.UPLOADED");
        let body = match delivery.body {
            Some(body) => body,
            None => event(live, trigger, &timestamp, &id).to_string(),
        };
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(DELIVERY_TIMEOUT)
            .user_agent("Box-WH-Client/0.1")
            .build()
            .map_err(|e| ConfigError::invalid("cannot make an HTTP client").with_source(e))?;
        let mut request = client
            .post(url)
            .header("content-type", "application/json; charset=UTF-8")
            .header("BOX-DELIVERY-ID", &id)
            .header("BOX-DELIVERY-TIMESTAMP", &timestamp)
            .header("BOX-SIGNATURE-ALGORITHM", "HmacSHA256")
            .header("BOX-SIGNATURE-VERSION", "1");
        if let Some(key) = &delivery.primary_key {
            request = request.header(
                "BOX-SIGNATURE-PRIMARY",
                sign(key, body.as_bytes(), &timestamp),
            );
        }
        if let Some(key) = &delivery.secondary_key {
            request = request.header(
                "BOX-SIGNATURE-SECONDARY",
                sign(key, body.as_bytes(), &timestamp),
            );
        }
        let mut response = request.body(body.clone()).send().await.map_err(|e| {
            ConfigError::invalid(format!("the delivery to {} failed", delivery.url)).with_source(e)
        })?;
        let status = response.status().as_u16();
        let mut answer = Vec::new();
        while answer.len() < MAX_ANSWER_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => answer.extend_from_slice(&chunk),
                _ => break,
            }
        }
        answer.truncate(MAX_ANSWER_BYTES);
        Ok(DeliveryOutcome {
            status,
            answer: String::from_utf8_lossy(&answer).into_owned(),
            delivery_id: id,
            timestamp,
            body,
        })
    }
}
