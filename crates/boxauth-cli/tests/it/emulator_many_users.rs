//! `boxauth emulator --users N`: a world with N generated users, each able to approve an app on
//! the consent page; an absurd N is refused with the cap.

use boxauth_emulator::generated_users;
use boxauth_emulator::headless::{self, Decision};
use boxauth_test_support::control;

use super::common;

#[tokio::test]
async fn users_n_generates_users_who_can_approve_the_app() {
    let (mut child, ready) = common::start_ready_json(&["--users", "25"]).await;
    let base = ready["base_url"].as_str().unwrap();
    let (_, world) = control::get_at(base, "world").await;
    let logins: Vec<&str> = world["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["login"].as_str())
        .filter(|l| l.starts_with("user-"))
        .collect();
    assert_eq!(logins.len(), 25);
    assert!(logins.contains(&generated_users::login(24).as_str()));
    let authorize = format!(
        "{}/authorize?response_type=code&client_id={}&state=s",
        ready["oauth2_url"].as_str().unwrap(),
        ready["client_id"].as_str().unwrap()
    );
    let location = headless::answer(&authorize, &generated_users::login(24), Decision::Approve)
        .await
        .unwrap();
    assert!(location.contains("code="), "{location}");
    child.kill().await.unwrap();
}

#[tokio::test]
async fn an_absurd_number_of_users_is_refused_with_the_cap() {
    let run = common::run(common::boxauth(None).args([
        "emulator",
        "--addr",
        "127.0.0.1:0",
        "--users",
        "5000000",
    ]))
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("--users"), "{}", run.stderr);
    assert!(run.stderr.contains("at most 1000000"), "{}", run.stderr);
}
