//! Clock skew: with Box's clock 5 minutes ahead of or behind this machine's, JwtAuth still gets a
//! token: the refused assertion is rebuilt from Box's `Date` header and sent once more.

use boxauth::{AuthOptions, Authentication, JwtAuth, JwtConfig};
use boxauth_emulator::Grant;
use boxauth_test_support::emulator as emu;

async fn jwt_with_box_clock_off_by(seconds: i64) {
    let emulator = emu::start().await;
    emulator.clock().set_offset_seconds(seconds);
    let dir = tempfile::tempdir().unwrap();
    let exported = emulator.export_config(dir.path()).unwrap();
    let options = AuthOptions::default().session(emu::session(&emulator));
    let auth = JwtAuth::with_options(
        JwtConfig::from_config_file(&exported.box_config).unwrap(),
        options,
    )
    .unwrap();

    auth.retrieve_token().await.unwrap();
    assert_eq!(
        emulator.stats().requests(Grant::JwtBearer),
        2,
        "refused once for its time, then accepted"
    );
    assert_eq!(emulator.stats().issued(Grant::JwtBearer), 1);

    // The offset is remembered: the next assertion is right the first time.
    auth.refresh_token().await.unwrap();
    assert_eq!(emulator.stats().requests(Grant::JwtBearer), 3);
    assert_eq!(emulator.stats().issued(Grant::JwtBearer), 2);
}

#[tokio::test]
async fn box_clock_five_minutes_ahead() {
    jwt_with_box_clock_off_by(300).await;
}

#[tokio::test]
async fn box_clock_five_minutes_behind() {
    jwt_with_box_clock_off_by(-300).await;
}

#[tokio::test]
async fn with_clocks_in_step_one_request_is_enough() {
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let exported = emulator.export_config(dir.path()).unwrap();
    let auth = JwtAuth::with_options(
        JwtConfig::from_config_file(&exported.box_config).unwrap(),
        AuthOptions::default().session(emu::session(&emulator)),
    )
    .unwrap();
    auth.retrieve_token().await.unwrap();
    assert_eq!(emulator.stats().requests(Grant::JwtBearer), 1);
}
