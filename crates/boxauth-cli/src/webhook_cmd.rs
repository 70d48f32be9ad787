//! `boxauth webhook verify`: checks a Box webhook delivery's signature, for debugging a handler.
//! The delivery is the HTTP request as text on standard input: the request line (optional), the
//! headers, a blank line, the body's bytes.

use std::time::Duration;

use boxauth::{ConfigError, ConfigErrorKind, WebhookKey, WebhookVerifier};
use clap::{Args, Subcommand};

/// The most read from standard input: Box's deliveries are a few KiB.
const MAX_DELIVERY_BYTES: u64 = 1024 * 1024;

/// Check Box webhook deliveries.
#[derive(Debug, Args)]
pub struct WebhookCommand {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Check a delivery's signature (read from standard input as an HTTP request: request line
    /// optional, headers, a blank line, the body): exit 0 and which key matched when it is
    /// Box's, 1 and why not otherwise.
    #[command(after_help = "Examples:
  boxauth webhook verify --primary-key \"$PRIMARY\" --secondary-key \"$SECONDARY\" < delivery.http
  BOX_WEBHOOK_PRIMARY_KEY=… boxauth webhook verify < delivery.http")]
    Verify(Verify),
}

#[derive(Debug, Args)]
struct Verify {
    /// The app's primary signature key (Developer Console → your app → Webhooks → Manage
    /// signature keys) [default: BOX_WEBHOOK_PRIMARY_KEY].
    #[arg(long, value_name = "KEY", env = "BOX_WEBHOOK_PRIMARY_KEY", hide_env_values = true,
          value_parser = crate::secret::<WebhookKey>)]
    primary_key: Option<WebhookKey>,
    /// The secondary signature key [default: BOX_WEBHOOK_SECONDARY_KEY].
    #[arg(long, value_name = "KEY", env = "BOX_WEBHOOK_SECONDARY_KEY", hide_env_values = true,
          value_parser = crate::secret::<WebhookKey>)]
    secondary_key: Option<WebhookKey>,
    /// Refuse deliveries older than this many seconds (Box: 600).
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    max_age: u64,
}

/// A delivery's headers and body, from its text.
struct Delivery {
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

fn invalid(message: impl Into<String>) -> boxauth::Error {
    ConfigError::new(ConfigErrorKind::Invalid, message).into()
}

/// Splits `text` at its first blank line; the head's lines are an optional request line, then
/// `Name: value` headers.
fn parse(text: &[u8]) -> boxauth::Result<Delivery> {
    let (head, body) = match (
        find(text, b"\r\n\r\n").map(|at| (at, 4)),
        find(text, b"\n\n").map(|at| (at, 2)),
    ) {
        (Some(crlf), Some(lf)) => Some(if crlf.0 <= lf.0 { crlf } else { lf }),
        (crlf, lf) => crlf.or(lf),
    }
    .map(|(at, len)| (&text[..at], &text[at + len..]))
    .ok_or_else(|| {
        invalid(
            "the delivery has no blank line between its headers and its body: give the HTTP \
             request as text (request line optional, headers, a blank line, the body)",
        )
    })?;
    let head = std::str::from_utf8(head)
        .map_err(|_| invalid("the delivery's headers are not UTF-8 text"))?;
    let mut headers = Vec::new();
    for (index, line) in head.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let request_line = line.contains(" HTTP/")
            && line
                .split_once(' ')
                .is_some_and(|(method, _)| !method.contains(':'));
        if index == 0 && request_line {
            continue;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| {
            invalid(format!(
                "line {} of the delivery's head is not a header (Name: value)",
                index + 1
            ))
        })?;
        headers.push((name.trim().to_owned(), value.trim().as_bytes().to_vec()));
    }
    Ok(Delivery {
        headers,
        body: body.to_vec(),
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl WebhookCommand {
    pub fn run(self) -> boxauth::Result<()> {
        let Action::Verify(args) = self.action;
        let verifier = match (args.primary_key, args.secondary_key) {
            (Some(primary), secondary) => {
                let verifier = WebhookVerifier::new(primary);
                match secondary {
                    Some(secondary) => verifier.secondary(secondary),
                    None => verifier,
                }
            }
            (None, Some(secondary)) => WebhookVerifier::secondary_only(secondary),
            (None, None) => {
                return Err(ConfigError::new(
                    ConfigErrorKind::Missing,
                    "give the app's signature keys: --primary-key KEY and/or --secondary-key KEY \
                     (or BOX_WEBHOOK_PRIMARY_KEY, BOX_WEBHOOK_SECONDARY_KEY)",
                )
                .into());
            }
        }
        .max_age(Duration::from_secs(args.max_age));
        let text = boxauth::internal::private_file::read_limited(
            std::io::stdin().lock(),
            MAX_DELIVERY_BYTES,
        )
        .map_err(|e| {
            ConfigError::new(
                ConfigErrorKind::Unreadable,
                format!(
                    "cannot read the delivery from standard input (at most {MAX_DELIVERY_BYTES} \
                     bytes)"
                ),
            )
            .with_source(e)
        })?;
        let delivery = parse(&text)?;
        let verdict = verifier.verify(
            delivery
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_slice())),
            &delivery.body,
            std::time::SystemTime::now(),
        );
        if verdict.is_valid() {
            crate::outln!("{}", verdict.reason())
        } else {
            Err(invalid(format!(
                "the delivery is not Box's: {}",
                verdict.reason()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_delivery_reads_with_or_without_its_request_line_and_keeps_its_body_bytes() {
        for text in [
            &b"POST /hook HTTP/1.1\r\nBOX-SIGNATURE-VERSION: 1\r\n\r\n{\"a\":\n1}\r\n"[..],
            &b"BOX-SIGNATURE-VERSION: 1\n\n{\"a\":\n1}\r\n"[..],
        ] {
            let delivery = parse(text).unwrap();
            assert_eq!(delivery.headers.len(), 1);
            assert_eq!(delivery.headers[0].1, b"1");
            assert_eq!(delivery.body, b"{\"a\":\n1}\r\n");
        }
        assert!(parse(b"BOX-SIGNATURE-VERSION: 1\n").is_err());
        assert!(parse(b"not a header\n\nbody").is_err());
    }
}
