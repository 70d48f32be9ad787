//! CORS on `/oauth2/token` and `/oauth2/revoke`: a browser app on an origin the app lists in its
//! CORS domains gets the headers (preflight and answer); any other origin gets none.

use boxauth_emulator::{ConfigErrorKind, EmulatorConfig, StartError};
use boxauth_test_support::emulator as emu;

const ALLOWED: &str = "http://localhost:3000";
const OTHER: &str = "https://evil.example";

async fn preflight(
    emulator: &boxauth_emulator::EmulatorHandle,
    path: &str,
    origin: &str,
) -> reqwest::Response {
    boxauth_test_support::http()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}{path}", emulator.base_url()),
        )
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_is_answered_and_others_are_refused() {
    let emulator = emu::start().await;
    for path in ["/oauth2/token", "/oauth2/revoke"] {
        let ok = preflight(&emulator, path, ALLOWED).await;
        assert_eq!(ok.status(), 204, "{path}");
        assert_eq!(header(&ok, "access-control-allow-origin"), Some(ALLOWED));
        assert!(
            header(&ok, "access-control-allow-methods")
                .unwrap()
                .contains("POST")
        );
        assert!(
            header(&ok, "access-control-allow-headers")
                .unwrap()
                .contains("content-type")
        );
        assert_eq!(header(&ok, "vary"), Some("Origin"));

        let refused = preflight(&emulator, path, OTHER).await;
        assert_eq!(refused.status(), 403, "{path}");
        assert_eq!(header(&refused, "access-control-allow-origin"), None);
    }
}

#[tokio::test]
async fn the_answer_carries_the_origin_only_when_it_is_allowed() {
    let emulator = emu::start().await;
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(emu::service_form())
        .finish();
    for (origin, expected) in [(ALLOWED, Some(ALLOWED)), (OTHER, None)] {
        let answer = boxauth_test_support::http()
            .post(format!("{}/oauth2/token", emulator.base_url()))
            .header("Origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            answer.status(),
            200,
            "the token is issued either way: CORS is the browser's check"
        );
        assert_eq!(
            header(&answer, "access-control-allow-origin"),
            expected,
            "{origin}"
        );
        assert_eq!(header(&answer, "vary"), Some("Origin"));
    }
    // Without Origin (not a browser): no CORS header at all.
    let plain = boxauth_test_support::http()
        .post(format!("{}/oauth2/token", emulator.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&plain, "access-control-allow-origin"), None);
    assert_eq!(header(&plain, "vary"), None);
}

#[tokio::test]
async fn an_app_without_cors_domains_allows_no_origin_and_bad_origins_are_refused_at_start() {
    let mut config = EmulatorConfig::default();
    std::sync::Arc::make_mut(&mut config.world).apps[0]
        .cors_origins
        .clear();
    let emulator = emu::start_with(config).await;
    assert_eq!(
        preflight(&emulator, "/oauth2/token", ALLOWED)
            .await
            .status(),
        403
    );

    for bad in [
        "localhost:3000",
        "http://localhost:3000/app",
        "ftp://x.example",
    ] {
        let mut config = EmulatorConfig::default();
        std::sync::Arc::make_mut(&mut config.world).apps[0].cors_origins = vec![bad.into()];
        let error = boxauth_emulator::Emulator::start(config).await.unwrap_err();
        assert!(
            matches!(&error, StartError::Config(e) if e.kind() == ConfigErrorKind::Invalid),
            "{bad}: {error}"
        );
    }
}
