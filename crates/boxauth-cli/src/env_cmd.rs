//! `boxauth env add|list|use|remove`.

use clap::{Args, Subcommand};

use crate::auth_source::AuthSource;
use boxauth::{ConfigError, ConfigErrorKind};

use crate::environments::{Environment, Store, check_name};
use crate::output::{Output, print_json};
use crate::secrets::{self, Home};

mod move_secrets;

/// Save auth methods as named environments; `token` commands use the current one by default.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  boxauth env add prod --jwt-config ~/box/config.json
  boxauth env add emu --ccg --client-id ID --client-secret S --enterprise-id 100000001 \\
      --base-url http://127.0.0.1:8080 --oauth2-url http://127.0.0.1:8080/api/oauth2
  boxauth env list
  boxauth env use emu
  boxauth env move-secrets --to keychain
  boxauth env remove emu")]
pub struct EnvCommand {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Save an environment (the first one becomes the current one).
    #[command(after_help = "Example:\n  boxauth env add prod --jwt-config ~/box/config.json --use")]
    Add(Box<Add>),
    /// List the environments; the current one is marked with *.
    #[command(after_help = "Example:\n  boxauth env list --json")]
    List {
        /// Print JSON (secrets are never printed).
        #[arg(long)]
        json: bool,
    },
    /// Make NAME the current environment.
    #[command(after_help = "Example:\n  boxauth env use prod")]
    Use {
        /// The environment.
        name: String,
    },
    /// Import Box CLI's environments (JWT and Client Credentials work at once; OAuth 2.0 needs
    /// `boxauth login --env NAME`, since a refresh token cannot be shared).
    #[command(
        name = "import-box-cli",
        after_help = "Examples:\n  boxauth env import-box-cli\n  boxauth env import-box-cli --file ~/.box/box_environments.json --force"
    )]
    ImportBoxCli {
        /// Box CLI's environments file [default: ~/.box/box_environments.json].
        #[arg(long, value_name = "PATH")]
        file: Option<std::path::PathBuf>,
        /// Replace boxauth environments of the same names.
        #[arg(long)]
        force: bool,
    },
    /// Move every environment's secrets into the OS keychain (or back into the file).
    #[command(
        name = "move-secrets",
        after_help = "Example:\n  boxauth env move-secrets --to keychain"
    )]
    MoveSecrets {
        /// Where the secrets go.
        #[arg(long, value_enum)]
        to: Home,
    },
    /// Forget an environment, its token file and its keychain item.
    #[command(after_help = "Example:\n  boxauth env remove emu")]
    Remove {
        /// The environment.
        name: String,
    },
}

#[derive(Debug, Args)]
struct Add {
    /// The environment's name (letters, digits, '-', '_', '.').
    name: String,
    #[command(flatten)]
    source: AuthSource,
    /// Save a base URL with the environment (e.g. an emulator's).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Save an OAuth 2.0 URL with the environment.
    #[arg(long = "oauth2-url", value_name = "URL")]
    oauth2_url: Option<String>,
    /// Make it the current environment.
    #[arg(long = "use")]
    make_current: bool,
    /// Replace an environment of the same name.
    #[arg(long)]
    force: bool,
    /// Act as this Box user with the `As-User` header (as Box CLI's `--as-user` and default
    /// As-User do): the token stays the app's, and commands that call Box send the header.
    #[arg(long = "as-user", value_name = "USER_ID")]
    as_user: Option<String>,
    /// Where its secrets go (or BOXAUTH_SECRETS) [default: the OS keychain when one answers,
    /// else the file].
    #[arg(long, value_enum, value_name = "keychain|file")]
    secrets: Option<Home>,
}

impl EnvCommand {
    pub async fn run(self, out: &Output) -> boxauth::Result<()> {
        let store = Store::locate()?;
        match self.action {
            Action::Add(add) => {
                check_name(&add.name)?;
                if add.source.token_file.is_some() {
                    return Err(boxauth::Error::config(
                        "an environment keeps its token file in the config directory: leave out --token-file",
                    ));
                }
                let mut config = add.source.config()?;
                if let Some(path) = &config.redis_ca_file {
                    if !matches!(config.token_store, boxauth::TokenStore::Redis(_)) {
                        return Err(boxauth::Error::config(
                            "--redis-ca-file goes with --token-store rediss://…",
                        ));
                    }
                    config.redis_ca_file = Some(std::fs::canonicalize(path).map_err(|e| {
                        ConfigError::new(
                            ConfigErrorKind::Unreadable,
                            format!("cannot resolve {}", path.display()),
                        )
                        .with_source(e)
                    })?);
                }
                config.base_url = add.base_url;
                config.oauth2_url = add.oauth2_url;
                let mut environment = Environment::new(&store, &add.name, config);
                environment.as_user = add.as_user.map(check_user_id).transpose()?;
                // Checked now, so a wrong URL or CA file is reported when it is saved.
                environment.config.session_builder()?;
                environment.config.storage()?;
                let mut all = store.load()?;
                if all.has(&add.name) && !add.force {
                    return Err(boxauth::Error::config(format!(
                        "environment {:?} exists already: pass --force to replace it, or pick another name",
                        add.name
                    )));
                }
                let (home, fallback) = secrets::choose(add.secrets, &add.name)?;
                environment.set_secrets(&store, &add.name, home);
                let method = environment.config.method.name();
                let was_locked = all.locked.remove(&add.name).is_some();
                let replaced = all.environments.insert(add.name.clone(), environment);
                let made_current = add.make_current || all.current.is_none();
                if made_current {
                    all.current = Some(add.name.clone());
                }
                store.save(&all)?;
                if (was_locked || replaced.is_some_and(|old| old.secrets == Home::Keychain))
                    && home == Home::File
                {
                    secrets::delete(&store.account(&add.name))?;
                    secrets::delete(&store.token_account(&add.name))?;
                }
                if let Some(fallback) = fallback {
                    out.note(&fallback);
                }
                out.note(&format!(
                    "saved environment {} ({method}; secrets in the {})",
                    add.name,
                    home.name()
                ));
                if made_current {
                    out.note(&format!("{:?} is now the current environment", add.name));
                }
                Ok(())
            }
            Action::List { json } => {
                let all = store.load()?;
                if json {
                    let list: Vec<_> = all
                        .environments
                        .iter()
                        .map(|(name, env)| {
                            serde_json::json!({
                                "name": name,
                                "current": all.current.as_deref() == Some(name.as_str()),
                                "method": env.config.method.name(),
                                "as_user": env.as_user,
                                "token_store": env.shown_token_store(),
                                "secrets": env.secrets.name(),
                                "redis_ca_file": env.config.redis_ca_file,
                                "base_url": env.config.base_url,
                                "oauth2_url": env.config.oauth2_url,
                            })
                        })
                        .chain(all.locked.iter().map(|(name, saved)| {
                            serde_json::json!({
                                "name": name,
                                "current": all.current.as_deref() == Some(name.as_str()),
                                "method": saved.get("method"),
                                "base_url": saved.get("base_url"),
                                "oauth2_url": saved.get("oauth2_url"),
                                "secrets": Home::Keychain.name(),
                                "unreadable": true,
                            })
                        }))
                        .collect();
                    return print_json(&list);
                }
                if !all.has_any() {
                    out.note("no environments yet: add one with `boxauth env add NAME …`");
                }
                let rows: Vec<[String; 6]> = all
                    .environments
                    .iter()
                    .map(|(name, env)| {
                        let mark = if all.current.as_deref() == Some(name.as_str()) {
                            "*"
                        } else {
                            " "
                        };
                        let host = env
                            .config
                            .base_url
                            .as_deref()
                            .unwrap_or(boxauth::DEFAULT_BASE_URL);
                        let mut store = env.shown_token_store();
                        if let Some(ca) = &env.config.redis_ca_file {
                            store.push_str(&format!(" (CA {})", ca.display()));
                        }
                        let mut method = env.config.method.name().to_owned();
                        if let Some(user) = &env.as_user {
                            method.push_str(&format!(" as-user {user}"));
                        }
                        [
                            mark.to_owned(),
                            name.clone(),
                            method,
                            host.to_owned(),
                            format!("tokens: {store}"),
                            format!("secrets: {}", env.secrets.name()),
                        ]
                    })
                    .chain(all.locked.iter().map(|(name, saved)| {
                        let text = |field: &str, or: &str| {
                            saved
                                .get(field)
                                .and_then(serde_json::Value::as_str)
                                .unwrap_or(or)
                                .to_owned()
                        };
                        [
                            if all.current.as_deref() == Some(name.as_str()) {
                                "*"
                            } else {
                                " "
                            }
                            .to_owned(),
                            name.clone(),
                            text("method", "?"),
                            text("base_url", boxauth::DEFAULT_BASE_URL),
                            "tokens: ?".to_owned(),
                            "secrets: keychain (cannot be read now: unlock the keychain)"
                                .to_owned(),
                        ]
                    }))
                    .collect();
                // Each column as wide as its widest cell, so the next one lines up.
                let width = |column: usize| {
                    rows.iter()
                        .map(|row| row[column].chars().count())
                        .max()
                        .unwrap_or(0)
                };
                let widths = [width(1), width(2), width(3), width(4)];
                for [mark, rest @ ..] in &rows {
                    let mut line = format!("{mark} ");
                    for (cell, width) in rest.iter().zip(widths) {
                        line.push_str(&format!("{cell:<width$}  "));
                    }
                    line.push_str(&rest[4]);
                    crate::outln!("{line}")?;
                }
                Ok(())
            }
            Action::ImportBoxCli { file, force } => {
                let path = file
                    .or_else(crate::box_cli_import::default_file)
                    .ok_or_else(|| {
                        boxauth::Error::config("give --file: there is no HOME to find ~/.box in")
                    })?;
                let (imported, default) = crate::box_cli_import::read(&path)?;
                let mut all = store.load()?;
                let mut added = 0;
                // Chosen once for the import, so a fallback is said once.
                let (home, fallback) = secrets::choose(None, "imported")?;
                if let Some(fallback) = fallback {
                    out.note(&fallback);
                }
                for entry in imported {
                    if let Some(note) = &entry.note {
                        out.note(note);
                    }
                    let environment = match entry.environment {
                        Ok(config) => {
                            let mut environment = Environment::new(&store, &entry.name, config);
                            environment.as_user = entry.as_user;
                            environment.set_secrets(&store, &entry.name, home);
                            environment
                        }
                        Err(why) => {
                            out.note(&format!("skipped {}: {}", entry.name, why.report()));
                            continue;
                        }
                    };
                    if all.has(&entry.name) && !force {
                        out.note(&format!(
                            "skipped {}: a boxauth environment has that name (--force replaces it)",
                            entry.name
                        ));
                        continue;
                    }
                    let as_user = match &environment.as_user {
                        Some(user) => format!(
                            ", acting As-User {user} as in Box CLI: its tokens are the service \
                             account's, to send with `As-User: {user}`"
                        ),
                        None => String::new(),
                    };
                    out.note(&format!(
                        "imported {} ({}{as_user})",
                        entry.name,
                        environment.config.method.name()
                    ));
                    all.locked.remove(&entry.name);
                    all.environments.insert(entry.name, environment);
                    added += 1;
                }
                if all.current.is_none()
                    && let Some(default) = default.filter(|d| all.environments.contains_key(d))
                {
                    all.current = Some(default);
                }
                store.save(&all)?;
                out.note(&format!(
                    "{added} environment(s) imported from {}",
                    path.display()
                ));
                Ok(())
            }
            Action::Use { name } => {
                let mut all = store.load()?;
                if !all.has(&name) {
                    return Err(boxauth::Error::config(format!(
                        "there is no environment {name:?}: see `boxauth env list`"
                    )));
                }
                all.current = Some(name.clone());
                store.save(&all)?;
                out.note(&format!("{name} is now the current environment"));
                Ok(())
            }
            Action::MoveSecrets { to } => move_secrets::run(&store, to, out).await,
            Action::Remove { name } => {
                let mut all = store.load()?;
                let removed = all
                    .environments
                    .remove(&name)
                    .map(|e| e.secrets)
                    .or_else(|| all.locked.remove(&name).map(|_| Home::Keychain));
                let Some(removed) = removed else {
                    return Err(boxauth::Error::config(format!(
                        "there is no environment {name:?}: see `boxauth env list`"
                    )));
                };
                if all.current.as_deref() == Some(name.as_str()) {
                    all.current = None;
                }
                store.save(&all)?;
                for path in [
                    store.token_file(&name),
                    store.token_file(&name).with_extension("json.lock"),
                ] {
                    let _ = std::fs::remove_file(path);
                }
                if removed == Home::Keychain {
                    let deleted = secrets::delete(&store.account(&name))
                        .and_then(|()| secrets::delete(&store.token_account(&name)));
                    if let Err(why) = deleted {
                        out.note(&format!(
                            "{name}'s keychain items (service boxauth, accounts {} and {}) are \
                             left: {}",
                            store.account(&name),
                            store.token_account(&name),
                            why.report()
                        ));
                    }
                }
                out.note(&format!("removed environment {name}"));
                Ok(())
            }
        }
    }
}

/// A Box user ID for `--as-user`: Box's are digits (and `As-User` is a header value).
fn check_user_id(id: String) -> boxauth::Result<String> {
    let id = id.trim().to_owned();
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConfigError::new(
            ConfigErrorKind::Invalid,
            "--as-user takes a Box user ID: digits, as the Admin Console and /2.0/users show it",
        )
        .into());
    }
    Ok(id)
}
