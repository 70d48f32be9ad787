//! What a program that started the emulator needs to use it: the `--ready-json` line, and the
//! variables `exec` sets (one list of facts, two shapes).

use std::path::Path;

use boxauth_emulator::{EmulatorHandle, ExportedConfig, Role, User};
use serde_json::json;

/// The default app's enterprise admin.
pub(super) fn admin(emulator: &EmulatorHandle) -> Option<User> {
    let app = emulator.default_app();
    emulator
        .world()
        .users
        .iter()
        .find(|u| u.role == Role::Admin && u.enterprise_id == app.enterprise_id)
        .cloned()
}

/// The facts, as `(variable, JSON key, value)`; a variable of `None` is in the JSON only.
pub(super) fn facts(
    emulator: &EmulatorHandle,
    exported: Option<&ExportedConfig>,
    ca_file: Option<&Path>,
) -> Vec<(Option<&'static str>, &'static str, Option<String>)> {
    let app = emulator.default_app();
    let admin = admin(emulator);
    let path = |p: &Path| p.display().to_string();
    vec![
        (
            Some("BOX_BASE_URL"),
            "base_url",
            Some(emulator.base_url().to_owned()),
        ),
        (
            Some("BOX_OAUTH2_URL"),
            "oauth2_url",
            Some(emulator.oauth2_url()),
        ),
        (
            Some("BOX_EMULATOR_URL"),
            "control_url",
            Some(format!("{}/__emulator", emulator.base_url())),
        ),
        (
            Some("BOX_CLIENT_ID"),
            "client_id",
            Some(app.client_id.clone()),
        ),
        (
            Some("BOX_CLIENT_SECRET"),
            "client_secret",
            Some(app.client_secret.clone()),
        ),
        (
            Some("BOX_ENTERPRISE_ID"),
            "enterprise_id",
            Some(app.enterprise_id.clone()),
        ),
        (
            Some("BOX_ADMIN_USER_ID"),
            "admin_user_id",
            admin.as_ref().map(|a| a.id.clone()),
        ),
        (
            Some("BOX_ADMIN_LOGIN"),
            "admin_login",
            admin.map(|a| a.login),
        ),
        (
            Some("BOX_JWT_CONFIG"),
            "box_config",
            exported.map(|e| path(&e.box_config)),
        ),
        (
            None,
            "emulator_json",
            exported.map(|e| path(&e.emulator_json)),
        ),
        (Some("BOX_CA_FILE"), "ca_file", ca_file.map(path)),
        (None, "listening_on", Some(emulator.addr().to_string())),
        (None, "pid", Some(std::process::id().to_string())),
    ]
}

/// The `--ready-json` line.
pub(super) fn json(
    emulator: &EmulatorHandle,
    exported: Option<&ExportedConfig>,
    ca_file: Option<&Path>,
) -> String {
    let mut object = serde_json::Map::new();
    for (_, key, value) in facts(emulator, exported, ca_file) {
        let value = match (key, value) {
            ("pid", Some(pid)) => json!(pid.parse::<u32>().unwrap_or_default()),
            (_, value) => json!(value),
        };
        object.insert(key.to_owned(), value);
    }
    serde_json::Value::Object(object).to_string()
}
