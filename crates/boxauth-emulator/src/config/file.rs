//! The TOML world description. Unknown keys are errors, so a typo is caught, not ignored.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;

use super::{
    AccessLevel, App, ConfigError, ConfigErrorKind, EmulatorConfig, Enterprise, Grant, Item,
    ItemKind, Lifetimes, Role, User, World,
};
use crate::keys::AppKey;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    settings: Settings,
    #[serde(default)]
    enterprises: Vec<EnterpriseEntry>,
    #[serde(default)]
    users: Vec<UserEntry>,
    #[serde(default)]
    apps: Vec<AppEntry>,
    #[serde(default)]
    items: Vec<ItemEntry>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Settings {
    addr: Option<SocketAddr>,
    code_ttl_secs: Option<u64>,
    access_token_ttl_secs: Option<u64>,
    refresh_token_ttl_secs: Option<u64>,
    jwt_max_exp_secs: Option<u64>,
    jwt_leeway_secs: Option<u64>,
    sweep_interval_ms: Option<u64>,
    /// Users generated into the default app's enterprise (`crate::generated_users`).
    generated_users: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnterpriseEntry {
    id: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserEntry {
    id: String,
    login: String,
    name: String,
    role: String,
    enterprise: String,
    app: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppEntry {
    name: String,
    client_id: String,
    client_secret: String,
    enterprise: String,
    grants: Option<Vec<String>>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    scopes: Option<Vec<String>>,
    access_level: Option<String>,
    #[serde(default)]
    generate_user_tokens: bool,
    #[serde(default)]
    as_user: bool,
    authorized: Option<bool>,
    service_account: Option<String>,
    #[serde(default)]
    keys: Vec<KeyEntry>,
    #[serde(default)]
    cors_origins: Vec<String>,
    primary_app_token: Option<String>,
    secondary_app_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    id: String,
    public_key: Option<String>,
    private_key: Option<String>,
    #[serde(default)]
    generate: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemEntry {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    name: String,
    owner: String,
    #[serde(default)]
    collaborators: Vec<String>,
    shared_link: Option<String>,
    sha1: Option<String>,
}

pub(super) fn parse(text: &str) -> Result<EmulatorConfig, ConfigError> {
    let file: FileConfig = toml::from_str(text).map_err(|e| {
        ConfigError::new(ConfigErrorKind::Syntax, "invalid emulator config").with_source(e)
    })?;
    let mut world = World {
        enterprises: file
            .enterprises
            .into_iter()
            .map(|e| Enterprise {
                id: e.id,
                name: e.name,
            })
            .collect(),
        users: file.users.into_iter().map(user).collect::<Result<_, _>>()?,
        apps: Vec::new(),
        items: file.items.into_iter().map(item).collect::<Result<_, _>>()?,
    };
    for entry in file.apps {
        let app = app(entry, &mut world.users)?;
        world.apps.push(app);
    }
    if world.apps.is_empty() {
        return Err(ConfigError::invalid(
            "the config defines no [[apps]]: add at least one",
        ));
    }
    super::validate(&world)?;
    let defaults = Lifetimes::default();
    let secs = |value: Option<u64>, default: Duration| value.map_or(default, Duration::from_secs);
    let s = &file.settings;
    let config = EmulatorConfig {
        addr: s
            .addr
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
        world: Arc::new(world),
        lifetimes: Lifetimes {
            code: secs(s.code_ttl_secs, defaults.code),
            access_token: secs(s.access_token_ttl_secs, defaults.access_token),
            refresh_token: secs(s.refresh_token_ttl_secs, defaults.refresh_token),
            jwt_max_exp: secs(s.jwt_max_exp_secs, defaults.jwt_max_exp),
            jwt_leeway: secs(s.jwt_leeway_secs, defaults.jwt_leeway),
        },
        sweep_interval: s
            .sweep_interval_ms
            .map_or(Duration::from_millis(100), Duration::from_millis),
        ..EmulatorConfig::default_without_world()
    };
    match s.generated_users {
        Some(count) => config.with_generated_users(count),
        None => Ok(config),
    }
}

pub(crate) fn user(entry: UserEntry) -> Result<User, ConfigError> {
    let role = match entry.role.as_str() {
        "admin" => Role::Admin,
        "coadmin" => Role::Coadmin,
        "user" => Role::User,
        "app_user" => Role::AppUser,
        "service_account" => Role::ServiceAccount,
        other => {
            return Err(ConfigError::invalid(format!(
                "user {}: role {other:?} is not one of admin, coadmin, user, app_user, service_account",
                entry.id
            )));
        }
    };
    Ok(User {
        id: entry.id,
        login: entry.login,
        name: entry.name,
        role,
        enterprise_id: entry.enterprise,
        app_client_id: entry.app,
    })
}

pub(crate) fn item(entry: ItemEntry) -> Result<Item, ConfigError> {
    let kind = match entry.kind.as_str() {
        "file" => ItemKind::File,
        "folder" => ItemKind::Folder,
        other => {
            return Err(ConfigError::invalid(format!(
                "item {}: type {other:?} must be \"file\" or \"folder\"",
                entry.id
            )));
        }
    };
    Ok(Item {
        kind,
        id: entry.id,
        name: entry.name,
        owner_id: entry.owner,
        collaborators: entry.collaborators,
        shared_link: entry.shared_link,
        sha1: entry.sha1,
    })
}

pub(crate) fn app(entry: AppEntry, users: &mut Vec<User>) -> Result<App, ConfigError> {
    let client_id = entry.client_id;
    let grants = match entry.grants {
        None => Grant::ALL.to_vec(),
        Some(names) => names
            .iter()
            .map(|name| {
                Grant::parse(name).ok_or_else(|| {
                    ConfigError::invalid(format!(
                        "app {client_id}: grant {name:?} is not one of authorization_code, \
                         refresh_token, client_credentials, jwt_bearer, token_exchange"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let access_level = match entry.access_level.as_deref() {
        None | Some("app_only") => AccessLevel::AppOnly,
        Some("app_and_enterprise") => AccessLevel::AppAndEnterprise,
        Some(other) => {
            return Err(ConfigError::invalid(format!(
                "app {client_id}: access_level {other:?} must be \"app_only\" or \"app_and_enterprise\""
            )));
        }
    };
    let keys = entry
        .keys
        .into_iter()
        .map(|k| key(&client_id, k))
        .collect::<Result<_, _>>()?;
    let service_account_id = match entry.service_account {
        Some(id) => id,
        None => {
            let next = users
                .iter()
                .filter_map(|u| u.id.parse::<u64>().ok())
                .max()
                .unwrap_or(200_000_000)
                + 1;
            users.push(User {
                id: next.to_string(),
                login: format!("AutomationUser_{next}@boxdevedition.com"),
                name: entry.name.clone(),
                role: Role::ServiceAccount,
                enterprise_id: entry.enterprise.clone(),
                app_client_id: Some(client_id.clone()),
            });
            next.to_string()
        }
    };
    Ok(App {
        name: entry.name,
        client_secret: entry.client_secret,
        enterprise_id: entry.enterprise,
        grants,
        redirect_uris: entry.redirect_uris,
        scopes: entry
            .scopes
            .unwrap_or_else(|| vec!["root_readwrite".into()]),
        keys,
        access_level,
        generate_user_tokens: entry.generate_user_tokens,
        as_user: entry.as_user,
        authorized: entry.authorized.unwrap_or(true),
        service_account_id,
        client_id,
        cors_origins: entry.cors_origins,
        app_tokens: super::AppTokens {
            primary: entry.primary_app_token,
            secondary: entry.secondary_app_token,
        },
    })
}

fn key(client_id: &str, entry: KeyEntry) -> Result<AppKey, ConfigError> {
    let id = entry.id;
    match (entry.public_key, entry.private_key, entry.generate) {
        (None, None, true) => AppKey::generate(id),
        (Some(pem), None, false) => {
            let der = pem_der(&pem, &["PUBLIC KEY", "RSA PUBLIC KEY"]).map_err(|why| {
                ConfigError::invalid(format!("app {client_id}, key {id}: public_key {why}"))
            })?;
            AppKey::from_public_der(id, &der)
        }
        (None, Some(pem), false) => {
            let der = pem_der(&pem, &["PRIVATE KEY"]).map_err(|why| {
                ConfigError::invalid(format!(
                    "app {client_id}, key {id}: private_key {why} (give an unencrypted PKCS#8 \
                     key: openssl pkcs8 -topk8 -nocrypt -in key.pem)"
                ))
            })?;
            AppKey::from_private_pkcs8(id, &der)
        }
        _ => Err(ConfigError::invalid(format!(
            "app {client_id}, key {id}: give exactly one of public_key, private_key or generate = true"
        ))),
    }
}

/// The DER inside a PEM block with one of `labels`.
pub(crate) fn pem_der(pem: &str, labels: &[&str]) -> Result<Vec<u8>, String> {
    let text = pem.trim();
    let label = labels
        .iter()
        .find(|label| text.starts_with(&format!("-----BEGIN {label}-----")))
        .ok_or_else(|| format!("must be a PEM block starting -----BEGIN {}-----", labels[0]))?;
    let end = format!("-----END {label}-----");
    let body_end = text.find(&end).ok_or("has no END line")?;
    let body: String = text[label.len() + 16..body_end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| "is not valid base64 between the BEGIN and END lines".to_owned())
}
