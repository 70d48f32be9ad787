//! The control API: each operation through the Rust handle and through HTTP (`/__emulator/…`),
//! with the same effect on what a client of Box's paths sees.

use std::time::Duration;

use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID,
    EmulatorConfig, EmulatorHandle, Fault, Grant,
};
use boxauth_test_support::{control, emulator as emu};
use serde_json::json;

/// The service account's Client Credentials request: the status and body, whatever they are.
async fn ccg(emulator: &EmulatorHandle) -> (u16, serde_json::Value) {
    emu::post_token(emulator, &emu::service_form()).await
}

async fn logged() -> EmulatorHandle {
    emu::start_with(EmulatorConfig {
        keep_requests: 100,
        ..EmulatorConfig::default()
    })
    .await
}

#[tokio::test]
async fn health_answers_ok_with_the_urls() {
    let emulator = emu::start().await;
    let (status, body) = control::get(&emulator, "health").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["base_url"], emulator.base_url());
    assert_eq!(body["oauth2_url"], emulator.oauth2_url());
}

#[tokio::test]
async fn stats_count_requests_and_tokens_by_grant_in_rust_and_over_http() {
    let emulator = emu::start().await;
    emu::service_token(&emulator).await;
    let rust = emulator.stats();
    assert_eq!(rust.requests(Grant::ClientCredentials), 1);
    assert_eq!(rust.issued(Grant::ClientCredentials), 1);
    let (status, http) = control::get(&emulator, "stats").await;
    assert_eq!(status, 200);
    assert_eq!(http["requests"]["client_credentials"], 1);
    assert_eq!(http["issued"]["client_credentials"], 1);
    assert_eq!(http["total_requests"], 1);
    assert_eq!(http["store"]["access_tokens"], 1);
    assert_eq!(
        http["store"]["access_tokens"],
        emulator.store_sizes().access_tokens
    );
}

#[tokio::test]
async fn the_request_log_holds_the_clients_traffic_not_the_controls() {
    let emulator = logged().await;
    control::get(&emulator, "stats").await;
    emu::service_token(&emulator).await;
    control::post(&emulator, "clock/advance", json!({"seconds": 1})).await;
    let (status, log) = control::get(&emulator, "requests").await;
    assert_eq!(status, 200);
    let paths: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].clone())
        .collect();
    assert_eq!(paths, [json!("/oauth2/token")]);
    assert_eq!(emulator.requests().len(), 1);
}

#[tokio::test]
async fn advancing_the_clock_expires_a_token_in_rust_and_over_http() {
    for over_http in [false, true] {
        let emulator = emu::start().await;
        let token = emu::service_token(&emulator).await;
        assert_eq!(emu::users_me(&emulator, &token, None).await.0, 200);
        if over_http {
            let (status, clock) =
                control::post(&emulator, "clock/advance", json!({"seconds": 3601})).await;
            assert_eq!(status, 200, "{clock}");
            assert_eq!(clock["offset_ms"], 3_601_000);
        } else {
            emulator.clock().advance(Duration::from_secs(3601));
        }
        assert_eq!(
            emu::users_me(&emulator, &token, None).await.0,
            401,
            "expired after the clock moved (over HTTP: {over_http})"
        );
    }
}

#[tokio::test]
async fn the_clocks_offset_is_set_and_read_in_rust_and_over_http() {
    let emulator = emu::start().await;
    let (status, clock) = control::post(&emulator, "clock/offset", json!({"seconds": -120})).await;
    assert_eq!(status, 200, "{clock}");
    assert_eq!(emulator.clock().offset_millis(), -120_000);
    emulator.clock().set_offset_seconds(7200);
    let (_, clock) = control::get(&emulator, "clock").await;
    assert_eq!(clock["offset_ms"], 7_200_000);
    let system = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((clock["now"].as_i64().unwrap() - system - 7200).abs() <= 2);
}

#[tokio::test]
async fn scripted_faults_hit_box_paths_in_order_and_never_the_controls() {
    for over_http in [false, true] {
        let emulator = emu::start().await;
        if over_http {
            let (status, body) = control::post(
                &emulator,
                "faults/script",
                json!({"faults": ["503", "429:2"]}),
            )
            .await;
            assert_eq!((status, body["scripted"].clone()), (200, json!(2)));
        } else {
            emulator.faults().script([
                Fault::Status(503),
                Fault::TooManyRequests {
                    retry_after_secs: 2,
                },
            ]);
        }
        // Control requests pass untouched and consume nothing.
        let (status, stats) = control::get(&emulator, "stats").await;
        assert_eq!((status, stats["faults_scripted"].clone()), (200, json!(2)));
        assert_eq!(ccg(&emulator).await.0, 503);
        assert_eq!(ccg(&emulator).await.0, 429);
        assert_eq!(ccg(&emulator).await.0, 200);
        assert_eq!(emulator.faults().injected(), 2);
    }
}

#[tokio::test]
async fn a_fault_rate_applies_until_cleared_in_rust_and_over_http() {
    for over_http in [false, true] {
        let emulator = emu::start().await;
        if over_http {
            let (status, body) = control::post(
                &emulator,
                "faults/rate",
                json!({"rate": 1.0, "faults": ["502"]}),
            )
            .await;
            assert_eq!(status, 200, "{body}");
        } else {
            emulator.faults().set_rate(1.0, vec![Fault::Status(502)]);
        }
        assert_eq!(ccg(&emulator).await.0, 502);
        assert_eq!(ccg(&emulator).await.0, 502);
        if over_http {
            assert_eq!(
                control::post(&emulator, "faults/clear", json!({})).await.0,
                200
            );
        } else {
            emulator.faults().clear();
        }
        assert_eq!(ccg(&emulator).await.0, 200);
    }
}

#[tokio::test]
async fn reset_clears_tokens_clock_faults_counters_and_log_and_keeps_the_world() {
    for over_http in [false, true] {
        let emulator = logged().await;
        let token = emu::service_token(&emulator).await;
        let code = emu::authorization_code(&emulator).await;
        emulator.clock().advance(Duration::from_secs(10));
        emulator.faults().script([Fault::Status(500)]);
        emulator.faults().set_rate(0.5, vec![Fault::Status(503)]);
        if over_http {
            let (status, body) = control::post(&emulator, "reset", json!({})).await;
            assert_eq!(status, 200, "{body}");
        } else {
            emulator.reset();
        }
        assert_eq!(emulator.clock().offset_millis(), 0);
        assert_eq!(emulator.faults().scripted(), 0);
        assert_eq!(emulator.stats().total_requests(), 0);
        assert!(emulator.requests().is_empty());
        assert_eq!(emulator.store_sizes(), Default::default());
        // The token and the code died; the world (the app, its secret) still serves.
        assert_eq!(emu::users_me(&emulator, &token, None).await.0, 401);
        let (status, body) = emu::exchange_code(&emulator, &code).await;
        assert_eq!(
            (status, body["error"].clone()),
            (400, json!("invalid_grant"))
        );
        for _ in 0..20 {
            assert_eq!(
                ccg(&emulator).await.0,
                200,
                "no fault rate survives a reset"
            );
        }
    }
}

#[tokio::test]
async fn the_world_and_box_config_are_served_for_attaching_clients() {
    let emulator = emu::start().await;
    let (status, world) = control::get(&emulator, "world").await;
    assert_eq!(status, 200);
    assert_eq!(world["app"]["client_id"], ID);
    assert_eq!(world["app"]["client_secret"], SECRET);
    assert_eq!(world["base_url"], emulator.base_url());
    let rust: serde_json::Value = serde_json::from_str(&emulator.emulator_json()).unwrap();
    assert_eq!(world, rust);
    let (status, config) = control::get(&emulator, "box-config").await;
    assert_eq!(status, 200);
    assert_eq!(config["boxAppSettings"]["clientID"], ID);
    assert_eq!(config["enterpriseID"], DEFAULT_ENTERPRISE_ID);
    assert!(
        config["boxAppSettings"]["appAuth"]["privateKey"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    );
}

#[tokio::test]
async fn bad_control_requests_get_a_400_that_says_what_was_wrong() {
    let emulator = emu::start().await;
    let cases = [
        ("clock/advance", b"{".to_vec(), "not usable"),
        ("clock/advance", br#"{"seconds": -5}"#.to_vec(), "between 0"),
        ("clock/advance", br#"{"secs": 5}"#.to_vec(), "unknown field"),
        (
            "clock/offset",
            br#"{"seconds": 1.5}"#.to_vec(),
            "whole number",
        ),
        (
            "faults/script",
            br#"{"faults": ["404"]}"#.to_vec(),
            "is not a fault",
        ),
        (
            "faults/rate",
            br#"{"faults": ["503"], "rate": 2}"#.to_vec(),
            "between 0 and 1",
        ),
        ("users", br#"[1, 2]"#.to_vec(), "JSON object"),
        (
            "users",
            br#"{"login": "x@example.com", "shoe": 1}"#.to_vec(),
            "unknown field",
        ),
    ];
    for (path, body, says) in cases {
        let (status, answer) = control::post_raw(&emulator, path, body).await;
        assert_eq!(status, 400, "{path}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(says), "{path}: {message}");
    }
}

#[tokio::test]
async fn scripted_faults_are_bounded() {
    let emulator = emu::start().await;
    let many: Vec<&str> = vec!["503"; 1001];
    let (status, _) = control::post(&emulator, "faults/script", json!({"faults": many})).await;
    assert_eq!(status, 400, "one script over the bound is refused");
    let full: Vec<&str> = vec!["pass"; 1000];
    assert_eq!(
        control::post(&emulator, "faults/script", json!({"faults": full}))
            .await
            .0,
        200
    );
    let (status, body) =
        control::post(&emulator, "faults/script", json!({"faults": ["503"]})).await;
    assert_eq!(status, 400, "the queue is bounded too: {body}");
    assert_eq!(emulator.faults().scripted(), 1000);
    // A body over the server's limit is refused unread.
    let huge = format!(r#"{{"faults": ["{}"]}}"#, "x".repeat(100 * 1024));
    assert_eq!(
        control::post_raw(&emulator, "faults/script", huge.into_bytes())
            .await
            .0,
        413
    );
}
