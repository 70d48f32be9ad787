//! Hostile input against the emulator's rules: each test performs one attack and checks it is
//! refused as Box refuses it.
//!
//! | attack | refused by |
//! |---|---|
//! | a lifetime that overflows the expiry (`--access-token-ttl 18446744073709551615`) | the config check at start |
//! | laundering: a file-bound token exchanged without `resource`, then bound to another item | exchanges only narrow |
//! | a downscoped admin or service-account token acting `As-User` | downscoped tokens never act as another user |
//! | a non-ASCII `As-User` | 400 `invalid_parameter` |
//! | consent CSRF: an attacker's value in cookie and form, another request's token, a token used twice | server-side tokens bound to the request, single use |
//! | a JWT whose `crit` names an extension | RFC 7515 §4.1.11: refused |

use std::time::Duration;

use boxauth::AuthorizeUserArgs;
use boxauth_emulator::{
    ConfigErrorKind, DEFAULT_ADMIN_ID, DEFAULT_ADMIN_LOGIN, DEFAULT_CLIENT_ID as ID,
    DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_MANAGED_USER_ID, Emulator, EmulatorConfig, StartError,
};
use boxauth_test_support::emulator as emu;
use serde_json::{Value, json};

const FILE: &str = "https://api.box.com/2.0/files/400000001";
const FOLDER: &str = "https://api.box.com/2.0/folders/300000001";

fn restricted_ids(body: &Value) -> Vec<String> {
    body["restricted_to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["object"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_lifetime_that_overflows_the_expiry_is_refused_at_start() {
    for (what, change) in [
        (
            "access-token",
            (|l: &mut boxauth_emulator::Lifetimes| l.access_token = Duration::from_secs(u64::MAX))
                as fn(&mut boxauth_emulator::Lifetimes),
        ),
        ("refresh-token", |l| {
            l.refresh_token = Duration::from_secs(u64::MAX / 2)
        }),
        ("code", |l| l.code = Duration::ZERO),
        ("JWT exp maximum", |l| {
            l.jwt_max_exp = Duration::from_secs(1 << 40)
        }),
    ] {
        let mut config = EmulatorConfig::default();
        change(&mut config.lifetimes);
        let error = Emulator::start(config).await.expect_err(what);
        assert!(
            matches!(&error, StartError::Config(e) if e.kind() == ConfigErrorKind::Invalid),
            "{what}: {error}"
        );
        // Which lifetime: the message names it, with the range it must be in.
        let message = error.to_string();
        assert!(
            message.contains(what) && message.contains("must be between"),
            "{what}: {message}"
        );
    }
}

#[tokio::test]
async fn a_file_bound_token_cannot_be_laundered_into_an_unbound_one() {
    let emulator = emu::start().await;
    let service = emu::service_token(&emulator).await;
    let (status, bound) = emu::exchange_token(
        &emulator,
        &service,
        &[("scope", "item_preview item_download"), ("resource", FILE)],
    )
    .await;
    assert_eq!(status, 200, "{bound}");
    let bound = bound["access_token"].as_str().unwrap().to_owned();

    // Exchanged again without a resource: still bound to the file.
    let (status, again) =
        emu::exchange_token(&emulator, &bound, &[("scope", "item_preview")]).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(restricted_ids(&again), ["400000001"]);
    let again = again["access_token"].as_str().unwrap().to_owned();

    // And so it cannot be bound to another item, nor read the user's profile.
    let (status, body) = emu::exchange_token(
        &emulator,
        &again,
        &[("scope", "item_preview"), ("resource", FOLDER)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_resource"))
    );
    assert_eq!(emu::users_me(&emulator, &again, None).await.0, 403);

    // Narrowing to the same file still works.
    let (status, same) = emu::exchange_token(
        &emulator,
        &again,
        &[("scope", "item_preview"), ("resource", FILE)],
    )
    .await;
    assert_eq!(status, 200, "{same}");
    assert_eq!(restricted_ids(&same), ["400000001"]);
}

#[tokio::test]
async fn a_downscoped_token_never_acts_as_another_user() {
    let emulator = emu::start().await;
    let admin = emu::user_token(&emulator, DEFAULT_ADMIN_ID).await;
    let service = emu::service_token(&emulator).await;
    // Undownscoped, both may (the admin by role, the service account by the app's setting).
    assert_eq!(
        emu::users_me(&emulator, &admin, Some(DEFAULT_MANAGED_USER_ID))
            .await
            .0,
        200
    );
    assert_eq!(
        emu::users_me(&emulator, &service, Some(DEFAULT_ADMIN_ID))
            .await
            .0,
        200
    );
    for (who, token, target) in [
        ("admin", &admin, DEFAULT_MANAGED_USER_ID),
        ("service account", &service, DEFAULT_ADMIN_ID),
    ] {
        let (status, down) =
            emu::exchange_token(&emulator, token, &[("scope", "item_preview")]).await;
        assert_eq!(status, 200, "{down}");
        let down = down["access_token"].as_str().unwrap();
        let (status, _, body) = emu::users_me(&emulator, down, Some(target)).await;
        assert_eq!(status, 403, "{who}: {body}");
        assert_eq!(body["code"], "access_denied_insufficient_permissions");
    }
}

#[tokio::test]
async fn a_non_ascii_as_user_is_refused() {
    let emulator = emu::start().await;
    let admin = emu::user_token(&emulator, DEFAULT_ADMIN_ID).await;
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}/2.0/users/me", emulator.base_url()))
        .bearer_auth(&admin)
        .header(
            "As-User",
            reqwest::header::HeaderValue::from_bytes(b"20000000\xe9").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["code"], "invalid_parameter");
}

/// Opens the consent page at `url`: the CSRF token of its form.
async fn open_page(url: &str) -> String {
    let html = boxauth_test_support::http_no_redirects()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html
        .find(r#"name="csrf_token" value=""#)
        .expect("a CSRF field")
        + 25;
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Posts a decision to `url` with `token` in both the cookie and the form, as a forger who knows
/// (or chose) it would.
async fn post_decision(url: &str, token: &str, decision: &str) -> reqwest::Response {
    boxauth_test_support::http_no_redirects()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("box_csrf={token}"))
        .body(format!(
            "login={DEFAULT_ADMIN_LOGIN}&decision={decision}&csrf_token={token}"
        ))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn consent_csrf_tokens_are_the_servers_bound_to_one_request_and_used_once() {
    let mut world = (*EmulatorConfig::default().world).clone();
    let mut second = world.apps[0].clone();
    second.client_id = "secondemulatorappclientid0000002".into();
    second.name = "second app".into();
    world.apps.push(second);
    let emulator = emu::start_with(EmulatorConfig {
        world: std::sync::Arc::new(world),
        ..EmulatorConfig::default()
    })
    .await;
    let page = |client: &str, state: &str| {
        emu::manager(&emulator).authorize_url(&AuthorizeUserArgs::new(client).state(state))
    };

    // An attacker's own value, double-submitted in cookie and form (any page on another
    // localhost port can set the cookie).
    let forged = post_decision(
        &page(ID, "s1"),
        "attacker-chosen-value-0000000000",
        "approve",
    )
    .await;
    assert_eq!(forged.status(), 403);
    assert!(forged.headers().get("location").is_none());

    // A real token from client A's page, posted to approve client B (or another state of A).
    let token_a = open_page(&page(ID, "s1")).await;
    for other in [
        page("secondemulatorappclientid0000002", "s1"),
        page(ID, "s2"),
    ] {
        let crossed = post_decision(&other, &token_a, "approve").await;
        assert_eq!(crossed.status(), 403, "{other}");
        assert!(crossed.headers().get("location").is_none());
    }

    // On its own page it works, once.
    let first = post_decision(&page(ID, "s1"), &token_a, "approve").await;
    assert_eq!(first.status(), 302);
    let replay = post_decision(&page(ID, "s1"), &token_a, "approve").await;
    assert_eq!(replay.status(), 403, "the same token approves only once");
    let deny_after = post_decision(&page(ID, "s1"), &token_a, "deny").await;
    assert_eq!(deny_after.status(), 403);

    // And only for ten minutes.
    let token = open_page(&page(ID, "s3")).await;
    emulator.clock().advance(Duration::from_secs(601));
    assert_eq!(
        post_decision(&page(ID, "s3"), &token, "approve")
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn a_jwt_naming_critical_extensions_is_refused() {
    let emulator = emu::start().await;
    let claims = emu::enterprise_claims(&emulator);
    let mut header = emu::header("RS256");
    header["crit"] = json!(["exp-ext"]);
    header["exp-ext"] = json!(true);
    let (status, body) = emu::post_token(
        &emulator,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("client_id", ID),
            ("client_secret", SECRET),
            ("assertion", &emu::sign(&emulator, &header, &claims)),
        ],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    // The same assertion without crit is accepted: the refusal is crit's.
    let (status, _) = emu::post_token(
        &emulator,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("client_id", ID),
            ("client_secret", SECRET),
            (
                "assertion",
                &emu::sign(
                    &emulator,
                    &emu::header("RS256"),
                    &emu::enterprise_claims(&emulator),
                ),
            ),
        ],
    )
    .await;
    assert_eq!(status, 200);
}
