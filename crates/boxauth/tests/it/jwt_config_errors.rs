//! A Box config file with a missing field, a wrong passphrase or a damaged key gives an error that
//! names the problem.

use boxauth::{ConfigErrorKind, Error, JwtConfig, KeyErrorKind, Subject};
use serde_json::{Value, json};

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keys");

fn config() -> Value {
    let pem = std::fs::read_to_string(format!("{KEYS}/pkcs8-sha1-des3.pem")).unwrap();
    let passphrase = std::fs::read_to_string(format!("{KEYS}/passphrase.txt")).unwrap();
    json!({
        "boxAppSettings": {
            "clientID": "ly1nj6n11vionaie65emwzk575hnnmrk",
            "clientSecret": "hOzsTeFlT6ko0dme22uGbQal04SBPYc1",
            "appAuth": {"publicKeyID": "abcd1234", "privateKey": pem, "passphrase": passphrase.trim()}
        },
        "enterpriseID": "899905961"
    })
}

fn without(path: &[&str]) -> String {
    let mut value = config();
    let mut node = &mut value;
    for name in &path[..path.len() - 1] {
        node = node.get_mut(*name).unwrap();
    }
    node.as_object_mut().unwrap().remove(path[path.len() - 1]);
    value.to_string()
}

#[test]
fn a_complete_box_config_loads() {
    let loaded = JwtConfig::from_config_json(&config().to_string()).unwrap();
    assert_eq!(loaded.key_id, "abcd1234");
    assert_eq!(loaded.subject, Subject::Enterprise("899905961".into()));
    assert_eq!(loaded.private_key.bits(), 2048);
    let mut user = config().clone();
    user.as_object_mut().unwrap().remove("enterpriseID");
    user["userID"] = json!(22222);
    assert_eq!(
        JwtConfig::from_config_json(&user.to_string())
            .unwrap()
            .subject,
        Subject::User("22222".into())
    );
}

#[test]
fn each_missing_field_is_named() {
    for path in [
        &["boxAppSettings", "clientID"][..],
        &["boxAppSettings", "clientSecret"],
        &["boxAppSettings", "appAuth", "publicKeyID"],
        &["boxAppSettings", "appAuth", "privateKey"],
        &["enterpriseID"],
    ] {
        let error = JwtConfig::from_config_json(&without(path)).unwrap_err();
        let name = path.last().unwrap();
        assert_eq!(
            error.config_error_kind(),
            Some(ConfigErrorKind::Missing),
            "{name}: {error}"
        );
        assert!(error.to_string().contains(name), "{name}: {error}");
    }
    let error = JwtConfig::from_config_json(&without(&["boxAppSettings", "appAuth", "passphrase"]))
        .unwrap_err();
    assert!(
        matches!(&error, Error::Key(key) if key.kind() == KeyErrorKind::MissingPassphrase),
        "{error}"
    );
}

#[test]
fn a_wrong_passphrase_and_a_damaged_key_name_the_problem() {
    let mut wrong = config();
    wrong["boxAppSettings"]["appAuth"]["passphrase"] = json!("not-the-passphrase");
    let error = JwtConfig::from_config_json(&wrong.to_string()).unwrap_err();
    assert!(
        matches!(&error, Error::Key(key) if key.kind() == KeyErrorKind::WrongPassphrase),
        "{error}"
    );

    let mut damaged = config();
    let pem = damaged["boxAppSettings"]["appAuth"]["privateKey"]
        .as_str()
        .unwrap()
        .to_owned();
    damaged["boxAppSettings"]["appAuth"]["privateKey"] =
        json!(pem.lines().take(5).collect::<Vec<_>>().join("\n"));
    let error = JwtConfig::from_config_json(&damaged.to_string()).unwrap_err();
    assert!(
        matches!(&error, Error::Key(key) if key.kind() == KeyErrorKind::MalformedPem),
        "{error}"
    );
    assert!(error.to_string().contains("END"), "{error}");
}

#[test]
fn a_file_that_is_not_there_or_not_json_says_so() {
    let error = JwtConfig::from_config_file("/nonexistent/box_config.json").unwrap_err();
    assert_eq!(error.config_error_kind(), Some(ConfigErrorKind::Unreadable));
    assert!(
        error.to_string().contains("/nonexistent/box_config.json"),
        "{error}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, "{\"boxAppSettings\": ").unwrap();
    let error = JwtConfig::from_config_file(&path).unwrap_err();
    assert_eq!(
        error.config_error_kind(),
        Some(ConfigErrorKind::Invalid),
        "{error}"
    );
    assert!(
        error.to_string().contains(path.to_str().unwrap()),
        "the error names the file: {error}"
    );
}
