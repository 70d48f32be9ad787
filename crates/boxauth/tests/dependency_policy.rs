//! The `rsa` crate (RUSTSEC-2023-0071, the Marvin timing attack) and OpenSSL must never enter the
//! dependency tree: RSA signing is aws-lc-rs's, TLS is rustls'.

use std::process::Command;

#[test]
fn no_rsa_crate_and_no_openssl_in_the_workspace_tree() {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--manifest-path",
        ])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let resolved: Vec<&str> = metadata["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|node| node["id"].as_str())
        .collect();
    let names: Vec<&str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| resolved.contains(&p["id"].as_str().unwrap()))
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        names.contains(&"aws-lc-rs"),
        "the check must see the real tree: {names:?}"
    );
    for banned in ["rsa", "openssl", "openssl-sys", "native-tls"] {
        assert!(
            !names.contains(&banned),
            "{banned} entered the dependency tree"
        );
    }
}
