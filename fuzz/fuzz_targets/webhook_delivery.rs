//! A Box webhook delivery: the `BOX-DELIVERY-TIMESTAMP` text (the input's first line) and the
//! body (the rest), through the RFC 3339 reader and `WebhookVerifier::verify`. A timestamp that
//! reads is written back and read to the same second; a delivery signed with the primary key at
//! its own timestamp is valid with it, and with the body changed it is not.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use boxauth::internal::rfc3339;
use boxauth::{WebhookKey, WebhookKeySlot, WebhookVerdict, WebhookVerifier};
use libfuzzer_sys::fuzz_target;

/// 9999-12-31T00:00:00Z: `format` writes four-digit years, as `parse` reads them.
const LAST_FOUR_DIGIT_DAY: u64 = 253_402_214_400;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (timestamp, body) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    let Ok(text) = std::str::from_utf8(timestamp) else {
        return;
    };
    let sent = rfc3339::parse(text.trim());
    if let Some(time) = sent {
        let seconds = time.duration_since(UNIX_EPOCH).unwrap().as_secs();
        if seconds < LAST_FOUR_DIGIT_DAY {
            let again = rfc3339::parse(&rfc3339::format(time)).expect("format's output reads");
            assert_eq!(again.duration_since(UNIX_EPOCH).unwrap().as_secs(), seconds);
        }
    }
    let primary = WebhookKey::from("fuzz-primary-key-0123456789");
    let verifier = WebhookVerifier::new(primary.clone()).secondary("fuzz-secondary-key-abcdef");
    let signature = primary.sign(body, text);
    let headers = |signature: &str| {
        [
            ("BOX-DELIVERY-TIMESTAMP", timestamp.to_vec()),
            ("box-signature-version", b"1".to_vec()),
            ("Box-Signature-Algorithm", b"HmacSHA256".to_vec()),
            ("BOX-SIGNATURE-PRIMARY", signature.as_bytes().to_vec()),
            ("BOX-SIGNATURE-SECONDARY", body.iter().copied().take(64).collect()),
        ]
    };
    let now = sent.map_or(UNIX_EPOCH, |t| t + Duration::from_secs(1));
    let valid = headers(&signature);
    let verdict = verifier.verify(
        valid.iter().map(|(n, v)| (*n, v.as_slice())),
        body,
        now,
    );
    let _ = verdict.reason();
    if sent.is_some() {
        assert!(
            matches!(verdict, WebhookVerdict::Valid(WebhookKeySlot::Primary)),
            "{verdict:?}"
        );
        let mut changed = body.to_vec();
        changed.push(b'!');
        let tampered = verifier.verify(
            valid.iter().map(|(n, v)| (*n, v.as_slice())),
            &changed,
            now,
        );
        assert!(!tampered.is_valid(), "{tampered:?}");
    } else {
        assert!(!verdict.is_valid(), "{verdict:?}");
    }
});
