//! Box webhook signatures: deliveries signed as Box's documentation describes (computed here
//! with HMAC-SHA256 directly, not with boxauth's signer) verify, with the key they were signed
//! with; a tampered body, swapped keys, an old timestamp and missing headers are refused, each
//! with its verdict; `WebhookLayer` refuses bad deliveries with 403 before an axum handler runs,
//! through a real HTTP server fed by the emulator's signed deliveries.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::routing::post;
use base64ct::Encoding;
use boxauth::{WebhookKeySlot, WebhookLayer, WebhookVerdict, WebhookVerifier};
use boxauth_emulator::WebhookDelivery;
use boxauth_test_support::emulator;

const PRIMARY: &str = "SamplePrimaryKey1234567890abcdef";
const SECONDARY: &str = "SampleSecondaryKey1234567890abcd";

/// Box's documented signature, computed without boxauth: base64(HMAC-SHA256(key, body ||
/// timestamp)).
fn box_signature(key: &str, body: &[u8], timestamp: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key.as_bytes());
    let mut message = body.to_vec();
    message.extend_from_slice(timestamp.as_bytes());
    base64ct::Base64::encode_string(aws_lc_rs::hmac::sign(&key, &message).as_ref())
}

/// A delivery as Box sends one, at `sent` (a Pacific-time timestamp, as Box writes them).
fn delivery(body: &[u8], sent: u64) -> Vec<(String, String)> {
    // 2026-11-01T00:00:00-07:00 is 1793516400; the tests send within that day.
    let of_day = sent - 1_793_516_400;
    let timestamp = format!(
        "2026-11-01T{:02}:{:02}:{:02}-07:00",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    );
    vec![
        (
            "BOX-DELIVERY-ID".into(),
            "f96bb54b881e1dc7c8b7ac25e2e3d4e7".into(),
        ),
        ("BOX-DELIVERY-TIMESTAMP".into(), timestamp.clone()),
        ("BOX-SIGNATURE-ALGORITHM".into(), "HmacSHA256".into()),
        (
            "BOX-SIGNATURE-PRIMARY".into(),
            box_signature(PRIMARY, body, &timestamp),
        ),
        (
            "BOX-SIGNATURE-SECONDARY".into(),
            box_signature(SECONDARY, body, &timestamp),
        ),
        ("BOX-SIGNATURE-VERSION".into(), "1".into()),
    ]
}

fn check(
    verifier: &WebhookVerifier,
    headers: &[(String, String)],
    body: &[u8],
    now: u64,
) -> WebhookVerdict {
    verifier.verify(
        headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
        body,
        UNIX_EPOCH + Duration::from_secs(now),
    )
}

#[test]
fn deliveries_signed_as_box_documents_verify_and_every_fault_has_its_verdict() {
    let body = br#"{"type":"webhook_event","id":"1","trigger":"FILE.UPLOADED","source":{"id":"12","type":"file","name":"caf\u00e9 \xc3\xa9.txt"}}"#;
    let sent = 1_793_520_000;
    let headers = delivery(body, sent);
    let both = WebhookVerifier::new(PRIMARY).secondary(SECONDARY);
    assert_eq!(
        check(&both, &headers, body, sent + 30),
        WebhookVerdict::Valid(WebhookKeySlot::Primary)
    );
    // Header names in any case, as HTTP servers hand them over.
    let lower: Vec<_> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    assert!(check(&both, &lower, body, sent + 30).is_valid());
    // The primary key rotated away: the secondary still verifies.
    let rotated = WebhookVerifier::new("a-new-primary-not-yet-in-use").secondary(SECONDARY);
    assert_eq!(
        check(&rotated, &headers, body, sent),
        WebhookVerdict::Valid(WebhookKeySlot::Secondary)
    );
    assert_eq!(
        check(
            &WebhookVerifier::secondary_only(SECONDARY),
            &headers,
            body,
            sent
        ),
        WebhookVerdict::Valid(WebhookKeySlot::Secondary)
    );

    // A tampered body, one byte.
    let mut tampered = body.to_vec();
    tampered[10] ^= 1;
    assert_eq!(
        check(&both, &headers, &tampered, sent),
        WebhookVerdict::BadSignature
    );
    // Swapped keys: each header checked with the other key.
    let swapped = WebhookVerifier::new(SECONDARY).secondary(PRIMARY);
    assert_eq!(
        check(&swapped, &headers, body, sent),
        WebhookVerdict::BadSignature
    );
    // Older than 10 minutes; a custom maximum age.
    assert_eq!(
        check(&both, &headers, body, sent + 601),
        WebhookVerdict::TooOld {
            age: Duration::from_secs(601)
        }
    );
    assert!(check(&both, &headers, body, sent + 600).is_valid());
    assert!(matches!(
        check(
            &both.clone().max_age(Duration::from_secs(60)),
            &headers,
            body,
            sent + 61
        ),
        WebhookVerdict::TooOld { .. }
    ));
    // From the future beyond the clocks' leeway.
    assert!(matches!(
        check(&both, &headers, body, sent - 61),
        WebhookVerdict::FromTheFuture { .. }
    ));
    assert!(check(&both, &headers, body, sent - 60).is_valid());
    // The timestamp is signed: changing it breaks the signature.
    let mut moved = headers.clone();
    moved[1].1 = moved[1].1.replace(":00-07:00", ":01-07:00");
    assert_eq!(
        check(&both, &moved, body, sent),
        WebhookVerdict::BadSignature
    );

    // Missing headers, each named.
    let without = |names: &[&str]| -> Vec<(String, String)> {
        headers
            .iter()
            .filter(|(n, _)| !names.contains(&n.as_str()))
            .cloned()
            .collect()
    };
    assert_eq!(
        check(
            &both,
            &without(&["BOX-SIGNATURE-PRIMARY", "BOX-SIGNATURE-SECONDARY"]),
            body,
            sent
        ),
        WebhookVerdict::MissingHeaders(vec!["BOX-SIGNATURE-PRIMARY or BOX-SIGNATURE-SECONDARY"])
    );
    assert_eq!(
        check(&both, &without(&["BOX-DELIVERY-TIMESTAMP"]), body, sent),
        WebhookVerdict::MissingHeaders(vec!["BOX-DELIVERY-TIMESTAMP"])
    );
    assert_eq!(
        check(&both, &[], body, sent)
            .reason()
            .matches("BOX-")
            .count(),
        5
    );
    // Another version or algorithm, a timestamp that is no date.
    let mut v2 = headers.clone();
    v2[5].1 = "2".into();
    assert_eq!(
        check(&both, &v2, body, sent),
        WebhookVerdict::UnsupportedSignature
    );
    let mut garbled = headers.clone();
    garbled[1].1 = "yesterday".into();
    assert_eq!(
        check(&both, &garbled, body, sent),
        WebhookVerdict::BadTimestamp
    );
    // A signature that is not base64, or far too long: refused, no panic.
    let mut junk = headers.clone();
    junk[3].1 = "%%%".repeat(1000);
    junk[4].1 = "A".repeat(100_000);
    assert_eq!(
        check(&both, &junk, body, sent),
        WebhookVerdict::BadSignature
    );
    // No key shows in Debug.
    let shown = format!("{both:?}");
    assert!(
        !shown.contains(PRIMARY) && !shown.contains(SECONDARY),
        "{shown}"
    );
}

/// An axum app with a handler behind `WebhookLayer`, on a free loopback port: its URL and how
/// many times the handler ran.
async fn handler_behind_the_layer(layer: WebhookLayer) -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let app = axum::Router::new()
        .route(
            "/box/webhook",
            post(move |request: axum::extract::Request| {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let key = match request.extensions().get::<WebhookVerdict>() {
                        Some(WebhookVerdict::Valid(WebhookKeySlot::Primary)) => "primary",
                        Some(WebhookVerdict::Valid(WebhookKeySlot::Secondary)) => "secondary",
                        _ => "none",
                    };
                    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
                        .await
                        .unwrap();
                    format!("{key} {}", body.len())
                }
            }),
        )
        .layer(layer.max_body(64 * 1024));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/box/webhook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, calls)
}

#[tokio::test]
async fn the_layer_lets_box_deliveries_through_and_refuses_the_rest_before_the_handler() {
    let emu = emulator::start().await;
    let verifier = WebhookVerifier::new(PRIMARY).secondary(SECONDARY);
    let (url, calls) =
        handler_behind_the_layer(WebhookLayer::new(verifier).time_source(emu.clock().clone()))
            .await;

    // Signed by the emulator as Box signs: through, the body intact, the key known.
    let sent = emu
        .send_webhook(WebhookDelivery::new(&url, PRIMARY).secondary_key(SECONDARY))
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "{}", sent.answer);
    assert_eq!(sent.answer, format!("primary {}", sent.body.len()));
    let mut only_secondary = WebhookDelivery::new(&url, "an-old-primary-key");
    only_secondary.secondary_key = Some(SECONDARY.into());
    let sent = emu.send_webhook(only_secondary).await.unwrap();
    assert_eq!(
        (sent.status, sent.answer.split(' ').next()),
        (200, Some("secondary"))
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // Signed with other keys: 403, the handler never runs.
    let sent = emu
        .send_webhook(WebhookDelivery::new(&url, SECONDARY))
        .await
        .unwrap();
    assert_eq!(sent.status, 403);
    assert!(sent.answer.contains("bad signature"), "{}", sent.answer);
    // Old: the emulator's clock 11 minutes behind the receiver's.
    emu.clock().set_offset_seconds(-660);
    let sent = emu
        .send_webhook(WebhookDelivery::new(&url, PRIMARY))
        .await
        .unwrap();
    emu.clock().set_offset_seconds(0);
    assert_eq!(
        sent.status, 200,
        "the receiver decides on the same clock: not old to it"
    );
    let (url_system, calls_system) =
        handler_behind_the_layer(WebhookLayer::new(WebhookVerifier::new(PRIMARY))).await;
    emu.clock().set_offset_seconds(-660);
    let sent = emu
        .send_webhook(WebhookDelivery::new(&url_system, PRIMARY))
        .await
        .unwrap();
    emu.clock().set_offset_seconds(0);
    assert_eq!(sent.status, 403);
    assert!(sent.answer.contains("too old"), "{}", sent.answer);
    assert_eq!(calls_system.load(Ordering::SeqCst), 0);

    // No signature headers at all; a body over the limit.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer = client.post(&url).body("{}").send().await.unwrap();
    assert_eq!(answer.status(), 403);
    assert!(answer.text().await.unwrap().contains("missing headers"));
    let answer = client
        .post(&url)
        .body(vec![b'x'; 65 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 413);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "only Box's deliveries reached the handler"
    );
    emu.shutdown().await;
}

#[test]
fn webhook_keys_sign_as_box_documents() {
    let body = b"{\"type\":\"webhook_event\"}";
    let timestamp = "2026-11-01T10:00:00-07:00";
    assert_eq!(
        boxauth::WebhookKey::new(PRIMARY).sign(body, timestamp),
        box_signature(PRIMARY, body, timestamp)
    );
    let _ = SystemTime::now();
}
