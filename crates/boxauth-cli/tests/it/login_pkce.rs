//! `boxauth login` uses PKCE (S256), as the Box CLI's login does: the URL it prints carries a
//! challenge, and the emulator (which refuses a code of a challenged request without its
//! verifier) gives it tokens, so the verifier went with the code.

use boxauth_emulator::DEFAULT_ADMIN_LOGIN;
use boxauth_emulator::headless::{self, Decision};

use crate::common::{World, start_login};

#[tokio::test]
async fn the_login_sends_a_challenge_and_its_verifier() {
    let world = World::start().await;
    let login = start_login(&world.emulator, &world.config_dir(), &[]).await;
    let url = url::Url::parse(&login.url).unwrap();
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    assert_eq!(query.get("code_challenge").map(String::len), Some(43));
    let callback = headless::answer(&login.url, DEFAULT_ADMIN_LOGIN, Decision::Approve)
        .await
        .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    assert_eq!(client.get(&callback).send().await.unwrap().status(), 200);
    let run = login.finish().await.ok();
    assert!(!run.stdout.contains(&query["code_challenge"]));
    world.run(&["token", "get"], &[]).await.ok();
}
