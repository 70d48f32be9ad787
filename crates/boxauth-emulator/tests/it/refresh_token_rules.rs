//! Refresh tokens: 60 days, single use, rotated on every refresh; a spent one is refused and its
//! whole family revoked; concurrent refreshes of one family are serialised.

use std::time::Duration;

use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, EmulatorHandle, Grant,
};
use boxauth_test_support::emulator as emu;
use serde_json::Value;

async fn pair(emulator: &EmulatorHandle) -> Value {
    let code = emu::authorization_code(emulator).await;
    let (status, body) = emu::exchange_code(emulator, &code).await;
    assert_eq!(status, 200);
    body
}

async fn refresh(emulator: &EmulatorHandle, token: &str) -> (u16, Value) {
    emu::post_token(
        emulator,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", ID),
            ("client_secret", SECRET),
            ("refresh_token", token),
        ],
    )
    .await
}

#[tokio::test]
async fn refresh_rotates_both_tokens() {
    let emulator = emu::start().await;
    let first = pair(&emulator).await;
    let (status, second) = refresh(&emulator, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    let (status, _) = refresh(&emulator, second["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "the new refresh token works");
}

#[tokio::test]
async fn reused_refresh_token_is_refused_and_revokes_the_family() {
    let emulator = emu::start().await;
    let first = pair(&emulator).await;
    let (_, second) = refresh(&emulator, first["refresh_token"].as_str().unwrap()).await;
    let (status, body) = refresh(&emulator, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(body["error_description"], "Refresh token has expired");
    assert_eq!(emulator.stats().refresh_token_reuses, 1);
    // The whole family is dead: the latest access token and the latest refresh token.
    assert_eq!(
        emu::users_me(&emulator, second["access_token"].as_str().unwrap(), None)
            .await
            .0,
        401
    );
    let (status, body) = refresh(&emulator, second["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("Invalid refresh token"))
    );
}

#[tokio::test]
async fn refresh_token_expires_after_60_days() {
    let emulator = emu::start().await;
    let first = pair(&emulator).await;
    emulator
        .clock()
        .advance(Duration::from_secs(60 * 24 * 3600 + 1));
    let (status, body) = refresh(&emulator, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("Refresh token has expired"))
    );

    let fresh = pair(&emulator).await;
    emulator
        .clock()
        .advance(Duration::from_secs(59 * 24 * 3600));
    assert_eq!(
        refresh(&emulator, fresh["refresh_token"].as_str().unwrap())
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn refresh_token_of_another_client_or_unknown_is_invalid() {
    let emulator = emu::start().await;
    let (status, body) = refresh(
        &emulator,
        "c3FIOG9vSGV4VHo4QzAyg5T1JvNnJoZ3ExaVNyQWw6WjRsanRKZG5lQk9qUE1BVQ",
    )
    .await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("Invalid refresh token"))
    );
}

#[tokio::test]
async fn concurrent_refreshes_of_one_family_are_serialised() {
    let emulator = emu::start().await;
    let first = pair(&emulator).await;
    let token = first["refresh_token"].as_str().unwrap().to_owned();
    let attempts: Vec<_> = (0..16)
        .map(|_| {
            let token = token.clone();
            let emulator = &emulator;
            async move { refresh(emulator, &token).await }
        })
        .collect();
    let results = futures_join_all(attempts).await;
    let winners: Vec<_> = results
        .iter()
        .filter(|(status, _)| *status == 200)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one refresh wins: {results:?}");
    assert_eq!(emulator.stats().requests(Grant::RefreshToken), 16);
}

async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(future);
    }
    let mut outputs = Vec::new();
    // Poll them concurrently on one task.
    let mut pinned: Vec<_> = set.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, future) in pinned.iter_mut().enumerate() {
            if done[i].is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => done[i] = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    for value in done {
        outputs.push(value.unwrap());
    }
    outputs
}
