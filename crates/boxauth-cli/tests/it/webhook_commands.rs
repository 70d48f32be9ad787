//! `boxauth emulator send-webhook` delivers a signed event to a handler; `boxauth webhook
//! verify` checks the delivery as the handler received it: exit 0 and the key, or 1 and why.

use std::process::Stdio;

use boxauth_test_support::{RecordingServer, Reply};
use tokio::io::AsyncWriteExt;

use crate::common::{Run, World};

const PRIMARY: &str = "PrimaryWebhookKey000000000000001";
const SECONDARY: &str = "SecondaryWebhookKey0000000000001";

/// `boxauth webhook verify ARGS` with `delivery` on standard input.
async fn verify(world: &World, args: &[&str], delivery: &[u8]) -> Run {
    let mut child = world
        .boxauth()
        .args(["webhook", "verify"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(delivery).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test]
async fn a_delivery_sent_by_the_emulator_verifies_and_a_changed_one_does_not() {
    let world = World::start().await;
    let receiver = RecordingServer::start().await;
    receiver.set_fallback(Reply::empty(204));
    let run = world
        .run(
            &[
                "emulator",
                "send-webhook",
                "--url",
                world.emulator.base_url(),
                "--to",
                &format!("{}/box/webhook", receiver.url()),
                "--primary-key",
                PRIMARY,
                "--secondary-key",
                SECONDARY,
            ],
            &[],
        )
        .await
        .ok();
    assert!(run.stdout.contains("answered 204"), "{}", run.stdout);
    assert!(!run.stdout.contains(PRIMARY));

    // The request as the handler got it: request line, headers, blank line, body.
    let got = receiver.only_request();
    let mut text = format!("{} {} HTTP/1.1\r\n", got.method, got.path).into_bytes();
    for (name, value) in &got.headers {
        text.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    text.extend_from_slice(b"\r\n");
    text.extend_from_slice(&got.body);

    let run = verify(&world, &["--primary-key", PRIMARY], &text)
        .await
        .ok();
    assert_eq!(run.stdout.trim(), "valid: signed with the primary key");
    let run = verify(&world, &[], &text).await;
    assert_eq!(run.code, 1);
    let run = world
        .boxauth()
        .env("BOX_WEBHOOK_SECONDARY_KEY", SECONDARY)
        .args(["webhook", "verify"])
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(run.status.code(), Some(1), "an empty delivery is refused");
    let mut only_secondary = verify(&world, &["--secondary-key", SECONDARY], &text).await;
    only_secondary = only_secondary.ok();
    assert!(only_secondary.stdout.contains("secondary"));

    // Changed in transit, or checked with the other keys: exit 1 and why.
    let mut tampered = text.clone();
    let last = tampered.len() - 2;
    tampered[last] ^= 1;
    let run = verify(&world, &["--primary-key", PRIMARY], &tampered).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("bad signature"), "{}", run.stderr);
    let run = verify(&world, &["--primary-key", SECONDARY], &text).await;
    assert_eq!(run.code, 1);
    assert!(
        !run.stderr.contains(SECONDARY),
        "no key is shown: {}",
        run.stderr
    );
    // Without its signature headers.
    let stripped: Vec<u8> = String::from_utf8_lossy(&text)
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("box-signature"))
        .collect::<Vec<_>>()
        .join("\r\n")
        .into_bytes();
    let run = verify(&world, &["--primary-key", PRIMARY], &stripped).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("missing headers"), "{}", run.stderr);

    // Sent 11 minutes ago (the emulator's clock behind): too old.
    world.emulator.clock().set_offset_seconds(-660);
    world
        .run(
            &[
                "emulator",
                "send-webhook",
                "--url",
                world.emulator.base_url(),
                "--to",
                &receiver.url(),
                "--primary-key",
                PRIMARY,
            ],
            &[],
        )
        .await
        .ok();
    let old = receiver.requests().pop().unwrap();
    let mut text = b"".to_vec();
    for (name, value) in &old.headers {
        text.extend_from_slice(format!("{name}: {value}\n").as_bytes());
    }
    text.extend_from_slice(b"\n");
    text.extend_from_slice(&old.body);
    let run = verify(&world, &["--primary-key", PRIMARY], &text).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("too old"), "{}", run.stderr);
}

#[tokio::test]
async fn a_delivery_nobody_receives_is_an_error_that_says_so() {
    let world = World::start().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}/hook", listener.local_addr().unwrap());
    drop(listener);
    let run = world
        .run(
            &[
                "emulator",
                "send-webhook",
                "--url",
                world.emulator.base_url(),
                "--to",
                &closed,
                "--primary-key",
                PRIMARY,
            ],
            &[],
        )
        .await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("could not deliver"), "{}", run.stderr);
}
