//! `boxauth emulator --log-format json` and `--verbose`: one line per exchange on stderr, a
//! refused token request saying why, the secret it carried nowhere.

use std::process::Stdio;

use boxauth_emulator::{DEFAULT_CLIENT_ID, DEFAULT_ENTERPRISE_ID};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr};

use crate::common;

/// `boxauth emulator FLAGS` on a free port: the process, its URL and its log (stderr).
async fn start(flags: &[&str]) -> (Child, String, Lines<BufReader<ChildStderr>>) {
    let (mut child, url) = common::start_emulator(
        common::boxauth(None)
            .args(["emulator", "--addr", "127.0.0.1:0"])
            .args(flags)
            .stderr(Stdio::piped()),
    )
    .await;
    let stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    (child, url, stderr)
}

/// Posts `body` as a form to the emulator's `/oauth2/token` at `url`: the status.
async fn post_token(url: &str, body: String) -> u16 {
    boxauth_test_support::http()
        .post(format!("{url}/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn refused_request(url: &str) {
    let body = format!(
        "grant_type=client_credentials&client_id={DEFAULT_CLIENT_ID}&client_secret=not-the-secret-at-all\
         &box_subject_type=enterprise&box_subject_id={DEFAULT_ENTERPRISE_ID}"
    );
    assert_eq!(post_token(url, body).await, 400);
}

/// The first stderr line that `wanted` accepts.
async fn line(stderr: &mut Lines<BufReader<ChildStderr>>, wanted: impl Fn(&str) -> bool) -> String {
    loop {
        let line = stderr
            .next_line()
            .await
            .unwrap()
            .expect("the emulator logs the exchange");
        assert!(
            !line.contains("not-the-secret-at-all"),
            "the secret is in the log: {line}"
        );
        if wanted(&line) {
            return line;
        }
    }
}

#[tokio::test]
async fn json_lines_say_what_arrived_and_what_was_answered() {
    let (mut child, url, mut stderr) = start(&["--log-format", "json"]).await;
    refused_request(&url).await;
    let logged = line(&mut stderr, |l| {
        l.starts_with('{') && l.contains("/oauth2/token")
    })
    .await;
    let exchange: serde_json::Value = serde_json::from_str(&logged).unwrap();
    assert_eq!(exchange["method"], "POST");
    assert_eq!(exchange["status"], 400);
    assert_eq!(exchange["grant_type"], "client_credentials");
    assert_eq!(exchange["client_id"], DEFAULT_CLIENT_ID);
    assert_eq!(exchange["error"], "invalid_client");
    assert!(exchange["duration_ms"].as_f64().unwrap() >= 0.0);
    child.kill().await.unwrap();
}

#[tokio::test]
async fn verbose_prints_a_readable_line_per_exchange() {
    let (mut child, url, mut stderr) = start(&["--verbose"]).await;
    refused_request(&url).await;
    let logged = line(&mut stderr, |l| l.contains("POST /oauth2/token 400")).await;
    assert!(
        logged.contains("grant_type=client_credentials")
            && logged.contains(&format!("client_id={DEFAULT_CLIENT_ID}"))
            && logged.contains("error=invalid_client")
            && logged.contains("box-request-id="),
        "{logged}"
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn a_grants_line_names_the_user_it_was_issued_for() {
    use boxauth_emulator::generated_users;
    let (mut child, url, mut stderr) = start(&["--verbose", "--users", "3"]).await;
    let authorize = format!(
        "{url}/api/oauth2/authorize?response_type=code&client_id={DEFAULT_CLIENT_ID}&state=s"
    );
    let callback = boxauth_emulator::headless::answer(
        &authorize,
        &generated_users::login(2),
        boxauth_emulator::headless::Decision::Approve,
    )
    .await
    .unwrap();
    let code = callback
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let body = format!(
        "grant_type=authorization_code&code={code}&client_id={DEFAULT_CLIENT_ID}\
         &client_secret={}",
        boxauth_emulator::DEFAULT_CLIENT_SECRET
    );
    assert_eq!(post_token(&url, body).await, 200);
    let logged = line(&mut stderr, |l| l.contains("grant_type=authorization_code")).await;
    assert!(
        logged.contains(&format!("user_id={}", generated_users::id(2))),
        "{logged}"
    );
    assert!(!logged.contains(code), "the code is in the log: {logged}");
    child.kill().await.unwrap();
}
