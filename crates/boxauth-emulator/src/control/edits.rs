//! World edits over HTTP: the bodies are the config file's entries (`[[users]]`, `[[apps]]`,
//! `[[items]]` in `examples/emulator.toml`) as JSON, parsed by the same code, with the fields a
//! test rarely cares about filled in: a user's `id` (the next free number), `name` (its login),
//! `role` (`user`) and `enterprise` (the default app's); an app's `client_id` and
//! `client_secret` (random), `name` and `enterprise`; an item's `id` and `owner` (the default
//! app's admin, else its service account).

use serde_json::{Map, Value, json};

use super::Live;
use crate::config::file::{self, AppEntry, ItemEntry, UserEntry};
use crate::config::{ConfigError, ConfigErrorKind, Role, World};
use crate::tokens::{hex, random_bytes};

/// The body as a JSON object.
fn object(body: &[u8]) -> Result<Map<String, Value>, ConfigError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ConfigError::invalid("the body must be a JSON object")),
        Err(e) => Err(
            ConfigError::new(ConfigErrorKind::Syntax, "the body is not valid JSON").with_source(e),
        ),
    }
}

fn fill(map: &mut Map<String, Value>, name: &str, value: impl FnOnce() -> String) {
    if !map.contains_key(name) {
        map.insert(name.to_owned(), Value::String(value()));
    }
}

fn entry<T: serde::de::DeserializeOwned>(
    what: &str,
    map: Map<String, Value>,
) -> Result<T, ConfigError> {
    serde_json::from_value(Value::Object(map)).map_err(|e| {
        ConfigError::new(
            ConfigErrorKind::Syntax,
            format!("not a {what} entry (as in the config file)"),
        )
        .with_source(e)
    })
}

/// One more than the largest numeric ID among `ids`.
fn next_id<'a>(ids: impl Iterator<Item = &'a str>, floor: u64) -> String {
    (ids.filter_map(|id| id.parse::<u64>().ok())
        .max()
        .unwrap_or(floor)
        .max(floor)
        + 1)
    .to_string()
}

fn default_enterprise(live: &Live) -> String {
    live.config
        .default_app()
        .map(|app| app.enterprise_id.clone())
        .unwrap_or_default()
}

/// `POST /__emulator/users`: adds a user; answers it as `emulator.json` lists users.
pub(crate) fn add_user(live: &Live, body: &[u8]) -> Result<Value, ConfigError> {
    let mut map = object(body)?;
    let enterprise = default_enterprise(live);
    let mut shown = Value::Null;
    live.edit_world(|world| {
        fill(&mut map, "id", || {
            next_id(world.users.iter().map(|u| u.id.as_str()), 200_000_000)
        });
        let login = map.get("login").and_then(Value::as_str).map(str::to_owned);
        fill(&mut map, "name", || login.unwrap_or_default());
        fill(&mut map, "role", || "user".into());
        fill(&mut map, "enterprise", || enterprise);
        let user = file::user(entry::<UserEntry>("user", map)?)?;
        shown = json!({"id": user.id, "login": user.login, "name": user.name,
                       "role": user.role.as_str(), "enterprise_id": user.enterprise_id});
        world.users.push(user);
        Ok(())
    })?;
    Ok(shown)
}

/// `POST /__emulator/apps`: registers an app (and its service account, unless it names one);
/// answers its credentials.
pub(crate) fn add_app(live: &Live, body: &[u8]) -> Result<Value, ConfigError> {
    let mut map = object(body)?;
    let enterprise = default_enterprise(live);
    let mut shown = Value::Null;
    live.edit_world(|world| {
        fill(&mut map, "client_id", || hex(&random_bytes::<16>()));
        fill(&mut map, "client_secret", || hex(&random_bytes::<16>()));
        fill(&mut map, "name", || format!("App {}", world.apps.len() + 1));
        fill(&mut map, "enterprise", || enterprise);
        let app = file::app(entry::<AppEntry>("app", map)?, &mut world.users)?;
        shown = json!({
            "name": app.name,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "enterprise_id": app.enterprise_id,
            "service_account_id": app.service_account_id,
            "public_key_ids": app.keys.iter().map(|k| k.id.clone()).collect::<Vec<_>>(),
            "primary_app_token": app.app_tokens.primary,
            "secondary_app_token": app.app_tokens.secondary,
        });
        world.apps.push(app);
        Ok(())
    })?;
    Ok(shown)
}

/// The default owner of a new item: the default enterprise's admin, else any user.
fn default_owner(world: &World, enterprise: &str) -> String {
    world
        .users
        .iter()
        .find(|u| u.role == Role::Admin && u.enterprise_id == enterprise)
        .or(world.users.first())
        .map(|u| u.id.clone())
        .unwrap_or_default()
}

/// `POST /__emulator/items`: adds a file or folder.
pub(crate) fn add_item(live: &Live, body: &[u8]) -> Result<Value, ConfigError> {
    let mut map = object(body)?;
    let enterprise = default_enterprise(live);
    let mut shown = Value::Null;
    live.edit_world(|world| {
        fill(&mut map, "id", || {
            next_id(world.items.iter().map(|i| i.id.as_str()), 500_000_000)
        });
        fill(&mut map, "owner", || default_owner(world, &enterprise));
        let item = file::item(entry::<ItemEntry>("item", map)?)?;
        shown = json!({"type": item.kind.as_str(), "id": item.id, "name": item.name,
                       "owner_id": item.owner_id, "shared_link": item.shared_link});
        world.items.push(item);
        Ok(())
    })?;
    Ok(shown)
}
