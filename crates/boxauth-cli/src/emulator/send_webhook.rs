//! `boxauth emulator send-webhook`: a signed test delivery, sent by a running emulator through
//! its control API (`POST /__emulator/webhooks/send`).

use std::path::PathBuf;

use boxauth::{ConfigError, ConfigErrorKind};
use clap::Args;
use serde_json::{Value, json};

#[derive(Debug, Args)]
pub struct SendWebhook {
    /// The running emulator's base URL [default: BOX_EMULATOR_URL, else BOX_BASE_URL, else
    /// http://127.0.0.1:8080].
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Where the emulator POSTs the delivery (your webhook handler).
    #[arg(long, value_name = "URL")]
    to: String,
    /// Sign BOX-SIGNATURE-PRIMARY with this key [default: BOX_WEBHOOK_PRIMARY_KEY].
    #[arg(long, value_name = "KEY", env = "BOX_WEBHOOK_PRIMARY_KEY", hide_env_values = true,
          value_parser = crate::secret::<boxauth::WebhookKey>)]
    primary_key: Option<boxauth::WebhookKey>,
    /// Sign BOX-SIGNATURE-SECONDARY with this key [default: BOX_WEBHOOK_SECONDARY_KEY].
    #[arg(long, value_name = "KEY", env = "BOX_WEBHOOK_SECONDARY_KEY", hide_env_values = true,
          value_parser = crate::secret::<boxauth::WebhookKey>)]
    secondary_key: Option<boxauth::WebhookKey>,
    /// The event's trigger.
    #[arg(long, default_value = "FILE.UPLOADED")]
    trigger: String,
    /// Send this file's content as the body instead of the emulator's event.
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
}

fn failed(message: String) -> boxauth::Error {
    ConfigError::new(ConfigErrorKind::Invalid, message).into()
}

impl SendWebhook {
    pub async fn run(&self) -> boxauth::Result<()> {
        let base = self
            .url
            .clone()
            .or_else(|| {
                std::env::var("BOX_EMULATOR_URL")
                    .ok()
                    .filter(|v| !v.is_empty())
            })
            .or_else(|| std::env::var("BOX_BASE_URL").ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| "http://127.0.0.1:8080".into());
        if self.primary_key.is_none() && self.secondary_key.is_none() {
            return Err(ConfigError::new(
                ConfigErrorKind::Missing,
                "give --primary-key KEY and/or --secondary-key KEY (the keys your handler checks)",
            )
            .into());
        }
        let body = match &self.body_file {
            Some(path) => Some(
                String::from_utf8(
                    boxauth::internal::private_file::read_regular(path, 1024 * 1024).map_err(
                        |e| {
                            ConfigError::new(
                                ConfigErrorKind::Unreadable,
                                format!("cannot read {}", path.display()),
                            )
                            .with_source(e)
                        },
                    )?,
                )
                .map_err(|_| failed(format!("{} is not UTF-8 text", path.display())))?,
            ),
            None => None,
        };
        let request = json!({
            "url": self.to,
            "primary_key": self.primary_key.as_ref().map(|k| k.secret()),
            "secondary_key": self.secondary_key.as_ref().map(|k| k.secret()),
            "trigger": self.trigger,
            "body": body,
        });
        let url = format!("{}/__emulator/webhooks/send", base.trim_end_matches('/'));
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| failed(format!("cannot make an HTTP client: {e}")))?;
        let answer = client
            .post(&url)
            .json(&request)
            .send()
            .await
            .map_err(|e| failed(format!("the emulator at {base} did not answer: {e}")))?;
        let status = answer.status().as_u16();
        let value: Value = answer
            .json()
            .await
            .map_err(|e| failed(format!("the emulator's answer is not JSON: {e}")))?;
        if status != 200 {
            return Err(failed(format!(
                "the emulator could not deliver: {}",
                value["message"].as_str().unwrap_or("no reason given")
            )));
        }
        crate::outln!(
            "delivered {} to {}: {} answered {}",
            value["delivery_id"].as_str().unwrap_or_default(),
            self.to,
            self.to,
            value["status"]
        )
    }
}
