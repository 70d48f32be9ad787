//! The TOML world, and `--export-config`: Box's JWT app config file with its key encrypted the way
//! Box's console does, and `emulator.json`.

use std::os::unix::fs::PermissionsExt;

use base64::Engine;
use boxauth::{Passphrase, PrivateKey};
use boxauth_emulator::{EmulatorConfig, Grant};
use boxauth_test_support::emulator as emu;
use serde_json::{Value, json};

const EXAMPLE: &str = include_str!("../../examples/emulator.toml");

#[tokio::test]
async fn the_example_world_loads_and_serves() {
    let mut config = EmulatorConfig::from_toml_str(EXAMPLE).unwrap();
    config.addr = "127.0.0.1:0".parse().unwrap();
    assert_eq!(config.world.apps.len(), 2);
    assert_eq!(config.lifetimes.access_token.as_secs(), 3600);
    let desktop = &config.world.apps[0];
    assert_eq!(
        desktop.grants,
        [
            Grant::AuthorizationCode,
            Grant::RefreshToken,
            Grant::TokenExchange
        ]
    );
    let emulator = emu::start_with(config).await;
    // Client Credentials of an app of the file's enterprise.
    let ccg = |id, secret| {
        let form = emu::ccg_form(id, secret, "enterprise", "500000001");
        let emulator = &emulator;
        async move { emu::post_token(emulator, &form).await }
    };
    // The sync app's service account was created for it.
    let (status, body) = ccg(
        "acmesyncclientid0000000000000002",
        "AcmeSyncClientSecret000000000002",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The desktop app may not use client credentials.
    let (status, body) = ccg(
        "acmedesktopclientid0000000000001",
        "AcmeDesktopClientSecret000000001",
    )
    .await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (
            400,
            Some("The grant type is unauthorized for this client_id")
        )
    );
}

#[test]
fn mistakes_in_the_file_name_the_problem() {
    use boxauth_emulator::ConfigErrorKind::{Duplicate, Invalid, Syntax};
    let cases = [
        (
            EXAMPLE.replace("client_secret = \"AcmeSync", "client_secrt = \"AcmeSync"),
            Syntax,
            "unknown field `client_secrt`",
        ),
        (
            EXAMPLE.replace("role = \"admin\"", "role = \"owner\""),
            Invalid,
            "role \"owner\"",
        ),
        (
            EXAMPLE.replace(
                "enterprise = \"500000001\"\ngrants = [\"jwt",
                "enterprise = \"5\"\ngrants = [\"jwt",
            ),
            Invalid,
            "enterprise \"5\"",
        ),
        (
            EXAMPLE.replace(
                "\"https://desktop.acme.example/oauth/callback\"",
                "\"http://desktop.acme.example/cb\"",
            ),
            Invalid,
            "must be https",
        ),
        (
            EXAMPLE.replace("\"refresh_token\", \"token_exchange\"]", "\"password\"]"),
            Invalid,
            "grant \"password\"",
        ),
        ("[settings]\n".to_owned(), Invalid, "no [[apps]]"),
        (
            "this is not toml".to_owned(),
            Syntax,
            "invalid emulator config",
        ),
        (
            EXAMPLE.replace("id = \"600000002\"", "id = \"600000001\""),
            Duplicate,
            "share the id",
        ),
    ];
    for (text, kind, expected) in cases {
        let error = EmulatorConfig::from_toml_str(&text).unwrap_err();
        let mut shown = error.to_string();
        let mut cause = std::error::Error::source(&error);
        while let Some(inner) = cause {
            shown.push_str(&format!(": {inner}"));
            cause = inner.source();
        }
        assert_eq!(error.kind(), kind, "{shown}");
        assert!(
            shown.contains(expected),
            "expected {expected:?} in: {shown}"
        );
    }
}

#[tokio::test]
async fn export_writes_boxs_jwt_config_format_with_a_console_style_key() {
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let exported = emulator.export_config(&dir.path().join("out")).unwrap();
    for path in [&exported.box_config, &exported.emulator_json] {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(&exported.box_config).unwrap()).unwrap();
    let settings = &config["boxAppSettings"];
    assert_eq!(settings["clientID"], boxauth_emulator::DEFAULT_CLIENT_ID);
    assert_eq!(
        settings["clientSecret"],
        boxauth_emulator::DEFAULT_CLIENT_SECRET
    );
    assert_eq!(
        settings["appAuth"]["publicKeyID"],
        boxauth_emulator::DEFAULT_KEY_ID
    );
    assert_eq!(
        config["enterpriseID"],
        boxauth_emulator::DEFAULT_ENTERPRISE_ID
    );
    let passphrase = settings["appAuth"]["passphrase"].as_str().unwrap();
    assert!(
        passphrase.len() == 32
            && passphrase
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let pem = settings["appAuth"]["privateKey"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    // The same ASN.1 as keys made by Box's console: PBES2, PBKDF2 (HMAC-SHA1 default PRF, 8-byte
    // salt, 2048 iterations), DES-EDE3-CBC with an 8-byte IV, over RSA-2048. (The outer length
    // varies by a few bytes with the key: RSA integers may or may not need a leading zero.)
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(&body)
        .unwrap();
    let box_console_prefix = base64::engine::general_purpose::STANDARD
        .decode("MIIFDjBABgkqhkiG9w0BBQ0wMzAbBgkqhkiG9w0BBQwwDgQI")
        .unwrap();
    assert_eq!(
        &der[..2],
        &[0x30, 0x82],
        "a SEQUENCE with a two-byte length"
    );
    assert_eq!(
        usize::from(der[2]) << 8 | usize::from(der[3]),
        der.len() - 4
    );
    assert_eq!(
        &der[4..box_console_prefix.len()],
        &box_console_prefix[4..],
        "PBES2 + PBKDF2-SHA1, salt of 8"
    );
    let after_salt = &der[box_console_prefix.len() + 8..];
    assert_eq!(
        &after_salt[..4],
        &[0x02, 0x02, 0x08, 0x00],
        "2048 iterations"
    );
    let des_ede3_cbc = [
        0x30, 0x14, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x03, 0x07, 0x04, 0x08,
    ];
    assert_eq!(
        &after_salt[4..18],
        &des_ede3_cbc,
        "DES-EDE3-CBC with an 8-byte IV"
    );
    assert!(
        (1280..=1300).contains(&der.len()),
        "an RSA-2048 key: {}",
        der.len()
    );
    let key_keys: Vec<&str> = config
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(key_keys, ["boxAppSettings", "enterpriseID"]);

    // The library decrypts it and its assertion is accepted.
    let key = PrivateKey::from_pem(pem, Some(&Passphrase::new(passphrase))).unwrap();
    let input = format!(
        "{}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(emu::header("RS256").to_string()),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(emu::enterprise_claims(&emulator).to_string())
    );
    let signature = key
        .sign(boxauth::JwtAlgorithm::Rs256, input.as_bytes())
        .unwrap();
    let assertion = format!(
        "{input}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)
    );
    let (status, body) = emu::post_token(
        &emulator,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", &assertion),
            ("client_id", boxauth_emulator::DEFAULT_CLIENT_ID),
            ("client_secret", boxauth_emulator::DEFAULT_CLIENT_SECRET),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn emulator_json_lists_the_enterprise_users_and_app() {
    let emulator = emu::start().await;
    let world: Value = serde_json::from_str(&emulator.emulator_json()).unwrap();
    assert_eq!(world["base_url"], emulator.base_url());
    assert_eq!(
        world["enterprise_id"],
        boxauth_emulator::DEFAULT_ENTERPRISE_ID
    );
    assert_eq!(
        world["app"]["client_id"],
        boxauth_emulator::DEFAULT_CLIENT_ID
    );
    assert_eq!(
        world["app"]["client_secret"],
        boxauth_emulator::DEFAULT_CLIENT_SECRET
    );
    assert_eq!(
        world["app"]["redirect_uris"],
        json!([boxauth_emulator::DEFAULT_REDIRECT_URI])
    );
    let roles: Vec<&str> = world["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["admin", "user", "app_user", "service_account"]);
    assert_eq!(
        world["users"][0]["login"],
        boxauth_emulator::DEFAULT_ADMIN_LOGIN
    );
}

#[tokio::test]
async fn emulator_json_lists_the_items_a_token_may_be_downscoped_to() {
    let emulator = emu::start().await;
    let world: Value = serde_json::from_str(&emulator.emulator_json()).unwrap();
    let items = world["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[1],
        json!({
            "type": "file", "id": "400000001", "name": "Contract.pdf",
            "owner_id": boxauth_emulator::DEFAULT_ADMIN_ID,
            "collaborators": [boxauth_emulator::DEFAULT_SERVICE_ACCOUNT_ID, boxauth_emulator::DEFAULT_APP_USER_ID],
            "shared_link": "https://app.box.com/s/emulatedcontractpdf000001",
            "url": "https://api.box.com/2.0/files/400000001",
        })
    );
    // What is listed is what a downscope accepts: the admin owns the first two, by URL and by link.
    let admin = emu::user_token(&emulator, boxauth_emulator::DEFAULT_ADMIN_ID).await;
    let exchange = |field: &'static str, value: String| {
        let (admin, emulator) = (&admin, &emulator);
        async move {
            let extra = [("scope", "item_preview"), (field, &value)];
            emu::exchange_token(emulator, admin, &extra).await.0
        }
    };
    for item in &items[..2] {
        assert_eq!(
            exchange("resource", item["url"].as_str().unwrap().to_owned()).await,
            200,
            "{item}"
        );
    }
    let links = world["shared_links"].as_array().unwrap();
    assert_eq!(links.len(), 2);
    for link in links {
        assert_eq!(
            exchange("box_shared_link", link["url"].as_str().unwrap().to_owned()).await,
            200,
            "{link}"
        );
    }
}

#[tokio::test]
async fn token_answers_and_errors_are_not_cacheable_and_match_the_table() {
    let emulator = emu::start().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for body in [
        "grant_type=client_credentials&client_id=boxauthemulatorclientid000000001&client_secret=BoxAuthEmulatorClientSecret00001&box_subject_type=enterprise&box_subject_id=100000001",
        "grant_type=nope",
    ] {
        let response = client
            .post(format!("{}/oauth2/token", emulator.base_url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["content-type"], "application/json");
        assert!(response.headers().contains_key("box-request-id"));
        let date = httpdate::parse_http_date(response.headers()["date"].to_str().unwrap()).unwrap();
        assert!(
            date.duration_since(emulator.clock().now() - std::time::Duration::from_secs(5))
                .is_ok()
        );
    }
    let row = boxauth_emulator::BoxError::InvalidGrantType.row();
    let (status, body) = emu::post_token(&emulator, &[("grant_type", "nope")]).await;
    assert_eq!(
        (
            status,
            body["error"].as_str(),
            body["error_description"].as_str()
        ),
        (row.status, Some(row.error), Some(row.description))
    );
}

#[tokio::test]
async fn the_date_header_follows_the_emulator_clock() {
    let emulator = emu::start().await;
    emulator.clock().set_offset_seconds(300);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let token = |body: &'static str| {
        client
            .post(format!("{}/oauth2/token", emulator.base_url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    };
    // The token endpoint dates its answers itself (with the reading its grant used), everything
    // else is dated on the way out: both must follow the emulator's clock, once.
    for request in [
        client.get(format!("{}/2.0/users/me", emulator.base_url())),
        token(
            "grant_type=client_credentials&client_id=boxauthemulatorclientid000000001&client_secret=BoxAuthEmulatorClientSecret00001&box_subject_type=enterprise&box_subject_id=100000001",
        ),
        token("grant_type=nope"),
    ] {
        let sent = std::time::SystemTime::now();
        let response = request.send().await.unwrap();
        let dates: Vec<_> = response.headers().get_all("date").iter().collect();
        assert_eq!(dates.len(), 1, "{dates:?}");
        let date = httpdate::parse_http_date(dates[0].to_str().unwrap()).unwrap();
        // 300 s ahead of the moment it was sent at least, less the date's one-second resolution
        // (however long the answer took: a slow machine cannot fail this).
        let ahead = date.duration_since(sent).unwrap_or_default();
        assert!(ahead >= std::time::Duration::from_secs(299), "{ahead:?}");
    }
}
