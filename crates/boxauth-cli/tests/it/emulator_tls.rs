//! `boxauth emulator --tls`: https with a CA made for the run, written beside the exported config;
//! `--ca-file` (or `BOX_CA_FILE`) makes every command trust it, and so does `curl --cacert`.

use std::process::Stdio;

use boxauth_emulator::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_ENTERPRISE_ID};
use tokio::process::Child;

use crate::common;

/// Starts `boxauth emulator --tls --export-config DIR` and returns it with its https URL once
/// the banner is complete.
async fn emulator(dir: &std::path::Path) -> (Child, String) {
    common::start_emulator(
        common::boxauth(None)
            .args(["emulator", "--tls", "--addr", "127.0.0.1:0"])
            .arg("--export-config")
            .arg(dir)
            .stderr(Stdio::piped()),
    )
    .await
}

fn ccg_get(url: &str) -> tokio::process::Command {
    let mut command = common::boxauth(None);
    command
        .args(["token", "get", "--ccg", "--client-id", DEFAULT_CLIENT_ID])
        .args(["--enterprise-id", DEFAULT_ENTERPRISE_ID])
        .args([
            "--base-url",
            url,
            "--oauth2-url",
            &format!("{url}/api/oauth2"),
        ])
        .env("BOX_CLIENT_SECRET", DEFAULT_CLIENT_SECRET);
    command
}

#[tokio::test]
async fn https_with_the_runs_ca_for_boxauth_and_curl() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = emulator(dir.path()).await;
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let ca = dir.path().join("emulator-ca.pem");
    assert!(
        std::fs::read_to_string(&ca)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );

    // Not trusted yet: the certificate is refused, and the error says why.
    let refused = common::run(&mut ccg_get(&url)).await;
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("could not reach") && refused.stderr.contains("UnknownIssuer"),
        "{}",
        refused.stderr
    );

    // --ca-file, then BOX_CA_FILE.
    let flag = common::run(ccg_get(&url).arg("--ca-file").arg(&ca)).await;
    assert_eq!(flag.code, 0, "{}", flag.stderr);
    let token = flag.stdout.trim().to_owned();
    let variable = common::run(ccg_get(&url).env("BOX_CA_FILE", &ca)).await;
    assert_eq!(variable.code, 0, "{}", variable.stderr);

    // curl, with the same CA, on the token boxauth got.
    let curl = tokio::process::Command::new("curl")
        .args(["--silent", "--show-error", "--fail", "--cacert"])
        .arg(&ca)
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg(format!("{url}/2.0/users/me"))
        .output()
        .await
        .expect("curl is installed (scripts/test installs it)");
    assert!(
        curl.status.success(),
        "{}",
        String::from_utf8_lossy(&curl.stderr)
    );
    let me: serde_json::Value = serde_json::from_slice(&curl.stdout).unwrap();
    assert_eq!(me["type"], "user");

    // A CA file that is not a certificate is refused before anything is sent.
    let key = dir.path().join("box_config.json");
    let wrong = common::run(ccg_get(&url).arg("--ca-file").arg(&key)).await;
    assert_eq!(wrong.code, 1);
    assert!(
        wrong.stderr.contains("--ca-file") && wrong.stderr.contains("holds no certificate"),
        "{}",
        wrong.stderr
    );
    assert!(!wrong.stderr.contains("PRIVATE KEY"), "{}", wrong.stderr);
    child.kill().await.unwrap();
}
