//! `boxauth api …` run as a user runs it, against a recording server on loopback.

use crate::common;
use boxauth_test_support::{RecordingServer, Reply};
use common::Run;

async fn boxauth(server: &RecordingServer, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = common::boxauth(None);
    command.args(args).args([
        "--base-url",
        &server.url(),
        "--oauth2-url",
        &format!("{}/api/oauth2", server.url()),
    ]);
    for (name, value) in env {
        command.env(name, value);
    }
    common::run(&mut command).await
}

#[tokio::test]
async fn request_access_token_prints_the_access_token_as_json() {
    let server = RecordingServer::start().await;
    server.script([Reply::json(
        200,
        r#"{"access_token":"AT1","expires_in":4123,"restricted_to":[],"token_type":"bearer"}"#,
    )]);
    let run = boxauth(
        &server,
        &[
            "api",
            "request-access-token",
            "--grant-type",
            "client_credentials",
            "--client-id",
            "cid",
            "--box-subject-type",
            "enterprise",
            "--box-subject-id",
            "899905961",
            "--header",
            "X-Trace: 42",
        ],
        &[("BOX_CLIENT_SECRET", "from-the-environment")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(printed["access_token"], "AT1");
    assert_eq!(printed["expires_in"], 4123);
    let request = server.only_request();
    assert_eq!(
        request.body_text(),
        "grant_type=client_credentials&client_id=cid&client_secret=from-the-environment\
         &box_subject_type=enterprise&box_subject_id=899905961"
    );
    assert_eq!(request.header("x-trace"), Some("42"));
}

#[tokio::test]
async fn grant_type_takes_the_wire_values() {
    let server = RecordingServer::start().await;
    let run = boxauth(
        &server,
        &[
            "api",
            "request-access-token",
            "--grant-type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "--subject-token",
            "S",
            "--subject-token-type",
            "urn:ietf:params:oauth:token-type:access_token",
            "--scope",
            "item_preview",
            "--box-shared-link",
            "https://app.box.com/s/x",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(server.only_request().body_text().starts_with(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=S"
    ));
    let refused = boxauth(
        &server,
        &["api", "request-access-token", "--grant-type", "password"],
        &[],
    )
    .await;
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("possible values"),
        "{}",
        refused.stderr
    );
}

#[tokio::test]
async fn a_refusal_exits_non_zero_with_status_error_and_description() {
    let server = RecordingServer::start().await;
    server.script([Reply::json(
        400,
        r#"{"error":"invalid_grant","error_description":"Invalid refresh token"}"#,
    )]);
    let run = boxauth(
        &server,
        &["api", "refresh-access-token", "--client-id", "cid"],
        &[
            ("BOX_CLIENT_SECRET", "s3cr3t-value"),
            ("BOX_REFRESH_TOKEN", "spent-refresh-token"),
        ],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("HTTP 400"), "{}", run.stderr);
    assert!(
        run.stderr.contains("invalid_grant: Invalid refresh token"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("s3cr3t-value") && !run.stderr.contains("spent-refresh-token"));
    assert_eq!(
        server.only_request().body_text(),
        "grant_type=refresh_token&client_id=cid&client_secret=s3cr3t-value&refresh_token=spent-refresh-token"
    );
}

#[tokio::test]
async fn authorize_user_prints_the_url_and_send_performs_the_get() {
    let server = RecordingServer::start().await;
    let run = boxauth(
        &server,
        &[
            "api",
            "authorize-user",
            "--client-id",
            "cid",
            "--state",
            "xyz",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.trim(),
        format!(
            "{}/api/oauth2/authorize?response_type=code&client_id=cid&state=xyz",
            server.url()
        )
    );
    assert!(server.requests().is_empty());
    server.script([Reply::body(200, "text/html", "<html>consent</html>")]);
    let run = boxauth(
        &server,
        &["api", "authorize-user", "--client-id", "cid", "--send"],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let request = server.only_request();
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("GET", "/api/oauth2/authorize")
    );
}

#[tokio::test]
async fn revoke_access_token_posts_the_three_fields() {
    let server = RecordingServer::start().await;
    server.script([Reply::empty(200)]);
    let run = boxauth(
        &server,
        &[
            "api",
            "revoke-access-token",
            "--client-id",
            "cid",
            "--token",
            "tok",
        ],
        &[("BOX_CLIENT_SECRET", "sec")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let request = server.only_request();
    assert_eq!(request.path, "/oauth2/revoke");
    assert_eq!(
        request.body_text(),
        "client_id=cid&client_secret=sec&token=tok"
    );
}

#[tokio::test]
async fn a_malformed_header_flag_is_refused_before_sending() {
    let server = RecordingServer::start().await;
    let run = boxauth(
        &server,
        &[
            "api",
            "revoke-access-token",
            "--token",
            "t",
            "--header",
            "no-colon",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("must look like 'Name: value'"),
        "{}",
        run.stderr
    );
    assert!(server.requests().is_empty());
}
