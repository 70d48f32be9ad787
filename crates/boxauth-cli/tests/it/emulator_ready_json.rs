//! `boxauth emulator --ready-json`: one JSON line when ready, for programs that start the
//! emulator; with `--public-url`, `--tls-name`, `--key-file` and `--allow-remote-control`.

use boxauth_test_support::control;
use serde_json::Value;

use super::common;

#[tokio::test]
async fn the_ready_line_has_the_urls_credentials_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, ready) =
        common::start_ready_json(&["--export-config", dir.path().to_str().unwrap()]).await;
    let base = ready["base_url"].as_str().unwrap();
    assert_eq!(ready["oauth2_url"], format!("{base}/api/oauth2"));
    assert_eq!(ready["control_url"], format!("{base}/__emulator"));
    assert_eq!(ready["client_id"], boxauth_emulator::DEFAULT_CLIENT_ID);
    assert_eq!(
        ready["client_secret"],
        boxauth_emulator::DEFAULT_CLIENT_SECRET
    );
    assert_eq!(
        ready["enterprise_id"],
        boxauth_emulator::DEFAULT_ENTERPRISE_ID
    );
    assert_eq!(ready["admin_user_id"], boxauth_emulator::DEFAULT_ADMIN_ID);
    assert_eq!(ready["ca_file"], Value::Null);
    let config = std::fs::read_to_string(ready["box_config"].as_str().unwrap()).unwrap();
    assert!(config.contains("boxAppSettings"));
    let health = boxauth_test_support::http()
        .get(format!("{base}/__emulator/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    child.kill().await.unwrap();
}

#[tokio::test]
async fn the_public_url_is_what_it_reports_and_exports() {
    let (mut child, ready) =
        common::start_ready_json(&["--public-url", "http://box-emulator.test:8080"]).await;
    assert_eq!(ready["base_url"], "http://box-emulator.test:8080");
    assert_eq!(
        ready["oauth2_url"],
        "http://box-emulator.test:8080/api/oauth2"
    );
    let listening = ready["listening_on"].as_str().unwrap();
    let (_, world) = control::get_at(&format!("http://{listening}"), "world").await;
    assert_eq!(world["base_url"], "http://box-emulator.test:8080");
    child.kill().await.unwrap();
    let run =
        common::run(common::boxauth(None).args(["emulator", "--public-url", "ftp://x/"])).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("public URL"), "{}", run.stderr);
}

#[tokio::test]
async fn the_certificate_carries_the_tls_names() {
    let (mut child, ready) =
        common::start_ready_json(&["--tls", "--tls-name", "box-emulator.test"]).await;
    let port = ready["listening_on"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let ca = ready["ca_file"].as_str().unwrap();
    let curl = |host: &'static str| {
        let (ca, port) = (ca.to_owned(), port.clone());
        async move {
            let resolve = format!("{host}:{port}:127.0.0.1");
            let url = format!("https://{host}:{port}/__emulator/health");
            let curl = tokio::process::Command::new("curl");
            boxauth_test_support::curl_status(curl, &["--cacert", &ca, "--resolve", &resolve, &url])
                .await
        }
    };
    assert_eq!(curl("box-emulator.test").await, "200");
    assert_eq!(curl("localhost").await, "200", "the default names stay");
    assert_eq!(
        curl("other.test").await,
        "000",
        "a name not on the certificate fails"
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn a_key_file_is_written_once_then_read_so_the_key_stays() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    let key_flag = ["--key-file", key.to_str().unwrap()];
    let (mut first, _) = common::start_ready_json(&key_flag).await;
    first.kill().await.unwrap();
    let written = std::fs::read_to_string(&key).unwrap();
    assert!(written.starts_with("-----BEGIN PRIVATE KEY-----"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let (mut second, ready) = common::start_ready_json(&key_flag).await;
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        written,
        "read, not replaced"
    );
    // The app's registered key is the file's: a JWT signed with it is accepted.
    let der = boxauth_emulator::AppKey::from_private_pem("k".into(), &written)
        .unwrap()
        .private_pkcs8
        .unwrap();
    let base = ready["base_url"].as_str().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": boxauth_emulator::DEFAULT_CLIENT_ID, "sub": boxauth_emulator::DEFAULT_ENTERPRISE_ID,
        "box_sub_type": "enterprise", "aud": "https://api.box.com/oauth2/token",
        "jti": boxauth_test_support::emulator::random_id(32), "exp": now + 30,
    });
    let header =
        serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": boxauth_emulator::DEFAULT_KEY_ID});
    let assertion = boxauth_test_support::emulator::sign_with(&der, &header, &claims);
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
        .append_pair("assertion", &assertion)
        .append_pair("client_id", boxauth_emulator::DEFAULT_CLIENT_ID)
        .append_pair("client_secret", boxauth_emulator::DEFAULT_CLIENT_SECRET)
        .finish();
    let answer = boxauth_test_support::http()
        .post(format!("{base}/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status().as_u16(),
        200,
        "{}",
        answer.text().await.unwrap()
    );
    second.kill().await.unwrap();
    std::fs::write(&key, "not a key").unwrap();
    let run = common::run(common::boxauth(None).args(["emulator"]).args(key_flag)).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--key-file"), "{}", run.stderr);
}
