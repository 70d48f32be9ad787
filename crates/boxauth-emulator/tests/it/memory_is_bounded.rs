//! Expired codes, tokens and `jti` entries are swept, so memory stays bounded by the lifetimes.

use std::time::Duration;

use boxauth::AuthorizeUserArgs;
use boxauth_emulator::headless::Decision;
use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID, StoreSizes,
};
use boxauth_test_support::emulator as emu;

#[tokio::test]
async fn everything_expired_is_swept() {
    let emulator = emu::start().await;
    for _ in 0..20 {
        emu::post_token(
            &emulator,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", ID),
                ("client_secret", SECRET),
                ("box_subject_type", "enterprise"),
                ("box_subject_id", DEFAULT_ENTERPRISE_ID),
            ],
        )
        .await;
        emu::post_token(
            &emulator,
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", &emu::assertion(&emulator)),
                ("client_id", ID),
                ("client_secret", SECRET),
            ],
        )
        .await;
    }
    let code = emu::authorization_code(&emulator).await;
    let (_, pair) = emu::post_token(
        &emulator,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", ID),
            ("client_secret", SECRET),
        ],
    )
    .await;
    emu::post_token(
        &emulator,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", ID),
            ("client_secret", SECRET),
            ("refresh_token", pair["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    let _unused = emu::consent(&emulator, AuthorizeUserArgs::new(ID), Decision::Approve).await;

    let full = emulator.store_sizes();
    assert_eq!(full.access_tokens, 42);
    assert_eq!((full.jtis, full.refresh_tokens, full.codes), (20, 2, 2));

    emulator.clock().advance(Duration::from_secs(61));
    emulator.sweep_now();
    let sizes = emulator.store_sizes();
    assert_eq!(
        (sizes.codes, sizes.jtis),
        (2, 0),
        "jtis live until exp; codes 30 s, then ten minutes as expired"
    );
    emulator.clock().advance(Duration::from_secs(600));
    emulator.sweep_now();
    let sizes = emulator.store_sizes();
    assert_eq!(
        sizes.codes, 0,
        "expired codes are forgotten after ten minutes"
    );
    assert_eq!(sizes.access_tokens, 42);

    emulator.clock().advance(Duration::from_secs(3000));
    emulator.sweep_now();
    assert_eq!(emulator.store_sizes().access_tokens, 0);

    emulator
        .clock()
        .advance(Duration::from_secs(60 * 24 * 3600));
    emulator.sweep_now();
    assert_eq!(emulator.store_sizes(), StoreSizes::default());
}

#[tokio::test]
async fn the_background_sweeper_runs_on_its_own() {
    let config = boxauth_emulator::EmulatorConfig {
        sweep_interval: Duration::from_millis(50),
        ..Default::default()
    };
    let emulator = emu::start_with(config).await;
    emu::post_token(
        &emulator,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", ID),
            ("client_secret", SECRET),
            ("box_subject_type", "enterprise"),
            ("box_subject_id", DEFAULT_ENTERPRISE_ID),
        ],
    )
    .await;
    assert_eq!(emulator.store_sizes().access_tokens, 1);
    emulator.clock().advance(Duration::from_secs(3601));
    let mut waited = Duration::ZERO;
    while emulator.store_sizes().access_tokens != 0 {
        assert!(waited < Duration::from_secs(10), "the sweeper never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
}
