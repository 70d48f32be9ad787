//! `boxauth vault …`: the library's token vault from the command line: keys, the schema, users
//! connected, imported, listed and disconnected, a token per user, the keep-alive, key rotation.

use std::path::PathBuf;
use std::time::Duration;

use boxauth::{
    AuthorizeOptions, ConfigErrorKind, IdentityStatus, KeyEnv, KeyFile, KeyProvider, KeySet,
    OAuthConfig, SweepOptions, Vault, VaultKey, VaultStore,
};
use clap::{Args, Subcommand};

/// The variable the vault's key lines are read from without --key-file.
const KEY_VARIABLE: &str = "BOXAUTH_VAULT_KEY";

use crate::connection::ConnectionArgs;
use crate::environments::Store;
use crate::login::{Browser, Completion, bind, receive};
use crate::output::{Output, caused_by, print_json};

/// Keep the Box tokens of many users (your app's), sealed in PostgreSQL.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  boxauth vault keygen > vault.key                      # keep it secret; chmod 600
  export BOXAUTH_VAULT_STORE=postgres://app:pw@db/app BOXAUTH_VAULT_KEY=\"$(cat vault.key)\"
  boxauth vault init
  boxauth vault connect alice --client-id ID --client-secret S
  boxauth vault token alice
  boxauth vault list --needs-reauth --json
  boxauth vault sweep                                   # renew refresh tokens older than 30 days
  boxauth vault rotate-key --new-key-file new.key --key-file vault.key")]
pub struct VaultCommand {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Print a new vault key, in the format --key-file and BOXAUTH_VAULT_KEY take.
    Keygen {
        /// The key's ID (default: key-<Unix time>).
        #[arg(long)]
        id: Option<String>,
    },
    /// Create the vault's tables, or upgrade them.
    Init(StoreArgs),
    /// Connect USER_KEY's Box account in a browser (or, with --no-browser, by pasting).
    Connect(Box<Connect>),
    /// Import a refresh token you hold for USER_KEY (checked by spending it once).
    Import(Box<Import>),
    /// Print a valid access token of USER_KEY, refreshed through the vault when needed.
    Token(Box<Token>),
    /// List the connected users (those that need to connect again with --needs-reauth).
    List(Box<List>),
    /// Disconnect USER_KEY: its tokens revoked at Box and forgotten.
    Disconnect(Box<UserArgs>),
    /// One keep-alive pass: every refresh token older than the keep-alive age renewed once.
    Sweep(Box<Sweep>),
    /// Reseal every token with the key in --new-key-file (the old keys from --key-file or
    /// BOXAUTH_VAULT_KEY open them), after which the old keys can be retired.
    RotateKey(Box<RotateKey>),
}

#[derive(Debug, Args)]
struct StoreArgs {
    /// The vault's PostgreSQL: postgres://USER:PASSWORD@HOST:PORT/DB (?sslmode=require for TLS).
    #[arg(
        long,
        env = "BOXAUTH_VAULT_STORE",
        hide_env_values = true,
        value_name = "URL"
    )]
    store: Option<crate::UrlArg>,
}

#[derive(Debug, Args)]
struct VaultArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The vault's keys (from `boxauth vault keygen`, the primary first).
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// The OAuth 2.0 app's client ID (default: the environment's).
    #[arg(long, env = "BOX_CLIENT_ID")]
    client_id: Option<String>,
    /// The app's client secret (default: the environment's).
    #[arg(long, env = "BOX_CLIENT_SECRET", hide_env_values = true, value_parser = crate::secret::<boxauth::ClientSecret>)]
    client_secret: Option<boxauth::ClientSecret>,
    /// Take the app (and its URLs) from this saved OAuth 2.0 environment.
    #[arg(long, env = "BOXAUTH_ENV", value_name = "NAME")]
    env: Option<String>,
    #[command(flatten)]
    connection: ConnectionArgs,
}

#[derive(Debug, Args)]
struct UserArgs {
    /// Your app's key for the user.
    user_key: String,
    #[command(flatten)]
    vault: VaultArgs,
}

#[derive(Debug, Args)]
struct Connect {
    #[command(flatten)]
    user: UserArgs,
    /// The loopback port to receive Box's redirect on (0: any free port).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Print the URL instead of opening a browser, and take the address it ends on pasted.
    #[arg(long)]
    no_browser: bool,
    /// Space-separated scopes to ask for (default: all the app's).
    #[arg(long)]
    scope: Option<String>,
    /// Give up after this many seconds without a callback.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    timeout: u64,
}

#[derive(Debug, Args)]
struct Import {
    #[command(flatten)]
    user: UserArgs,
    #[command(flatten)]
    confirm: crate::confirm::ConfirmArgs,
    /// The refresh token, or - to read it from standard input.
    #[arg(long, value_name = "TOKEN", value_parser = crate::secret::<boxauth::Token>)]
    refresh_token: boxauth::Token,
}

#[derive(Debug, Args)]
struct Token {
    #[command(flatten)]
    user: UserArgs,
    #[command(flatten)]
    confirm: crate::confirm::ConfirmArgs,
    /// Print the whole token as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct List {
    #[command(flatten)]
    vault: VaultArgs,
    /// Only the users who must connect again.
    #[arg(long)]
    needs_reauth: bool,
    /// Print JSON lines.
    #[arg(long)]
    json: bool,
    /// At most this many.
    #[arg(long, default_value_t = 1000)]
    limit: u32,
}

#[derive(Debug, Args)]
struct Sweep {
    #[command(flatten)]
    vault: VaultArgs,
    /// Refreshes at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Refreshes started per second toward Box, at most.
    #[arg(long, default_value_t = 20.0)]
    per_second: f64,
}

#[derive(Debug, Args)]
struct RotateKey {
    #[command(flatten)]
    vault: VaultArgs,
    /// The new key (from `boxauth vault keygen`): it seals from now on.
    #[arg(long, value_name = "FILE")]
    new_key_file: PathBuf,
}

impl StoreArgs {
    fn store(&self) -> boxauth::Result<VaultStore> {
        let url = self.store.as_ref().map(|u| u.0.as_str()).ok_or_else(|| {
            boxauth::Error::from(boxauth::ConfigError::new(
                ConfigErrorKind::Missing,
                "give the vault's PostgreSQL with --store postgres://… (or BOXAUTH_VAULT_STORE)",
            ))
        })?;
        VaultStore::postgres(url)
    }
}

impl VaultArgs {
    /// The key set, through the library's key providers: --key-file, else BOXAUTH_VAULT_KEY.
    async fn keys(&self) -> boxauth::Result<KeySet> {
        match &self.key_file {
            Some(path) => KeyFile(path.clone()).keys().await,
            None if std::env::var_os(KEY_VARIABLE).is_some() => {
                KeyEnv(KEY_VARIABLE.to_owned()).keys().await
            }
            None => Err(boxauth::ConfigError::new(
                ConfigErrorKind::Missing,
                "give the vault's key with --key-file FILE (or BOXAUTH_VAULT_KEY); make one with `boxauth vault keygen`",
            )
            .into()),
        }
    }

    /// The vault: its store, keys and app, sending as the command line says.
    async fn vault(&self, extra: Option<KeySet>) -> boxauth::Result<Vault> {
        let store = self.store.store()?;
        let keys = match extra {
            Some(keys) => keys,
            None => self.keys().await?,
        };
        let (app, mut config) = self.app()?;
        self.connection.apply(&mut config);
        let session = self.connection.session_for(&config)?;
        Vault::builder(app)
            .store(store)
            .keys(keys)
            .options(boxauth::AuthOptions::default().session(session))
            .build()
    }

    /// The OAuth 2.0 app: flags or variables, else a saved OAuth environment (and its URLs).
    fn app(&self) -> boxauth::Result<(OAuthConfig, boxauth::AuthConfig)> {
        let saved = match (&self.client_id, &self.env) {
            (Some(_), None) => None,
            _ => {
                let store = Store::locate()?;
                let all = store.load()?;
                let name = self.env.clone().or(all.current);
                name.and_then(|name| all.environments.get(&name).cloned())
            }
        };
        let (saved_id, saved_secret) = match saved.as_ref().map(|e| &e.config.method) {
            Some(boxauth::AuthMethod::Oauth {
                client_id,
                client_secret,
            }) => (Some(client_id.clone()), Some(client_secret.clone())),
            _ => (None, None),
        };
        let missing = || {
            boxauth::Error::from(boxauth::ConfigError::new(
                ConfigErrorKind::Missing,
                "the vault needs its OAuth 2.0 app: give --client-id and --client-secret (or \
                 BOX_CLIENT_ID and BOX_CLIENT_SECRET), or --env NAME of an environment saved by \
                 `boxauth login`",
            ))
        };
        let client_id = self.client_id.clone().or(saved_id).ok_or_else(missing)?;
        let client_secret = self
            .client_secret
            .clone()
            .or(saved_secret)
            .ok_or_else(missing)?;
        let method = boxauth::AuthMethod::Oauth {
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
        };
        let mut config = boxauth::AuthConfig::new(method);
        if let Some(saved) = saved {
            config.base_url = saved.config.base_url;
            config.oauth2_url = saved.config.oauth2_url;
            config.ca_file = saved.config.ca_file;
        }
        Ok((OAuthConfig::new(client_id, client_secret), config))
    }
}

/// A vault connection: the callback's state checked for the user, the code exchanged.
struct VaultCompletion<'a> {
    vault: &'a Vault,
    user_key: &'a str,
    request: &'a boxauth::AuthorizationRequest,
}

impl Completion for VaultCompletion<'_> {
    fn state_matches(&self, state: &str) -> bool {
        self.request.verify_state(state)
    }

    fn complete<'a>(
        &'a self,
        callback: &'a str,
    ) -> boxauth::BoxFuture<'a, boxauth::Result<String>> {
        Box::pin(async move {
            // A bare code pasted goes with this connection's own state.
            let callback = if callback.contains('=') {
                callback.to_owned()
            } else {
                format!(
                    "code={}&state={}",
                    url_encoded(callback),
                    url_encoded(self.request.state())
                )
            };
            let auth = self
                .vault
                .complete_authorization(self.user_key, &callback)
                .await?;
            let me = boxauth::BoxClient::from_shared(auth).users_me().await?;
            Ok(me.login.unwrap_or(me.id))
        })
    }
}

fn url_encoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

impl VaultCommand {
    pub async fn run(self, out: &Output) -> boxauth::Result<()> {
        match self.action {
            Action::Keygen { id } => {
                let id = id.unwrap_or_else(|| {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs());
                    format!("key-{now}")
                });
                let (_, line) = VaultKey::generate(id)?;
                crate::outln!("{}", line.as_str())?;
                out.note("keep this line secret (a file of mode 0600, or a secret manager): tokens sealed with it open only with it");
                Ok(())
            }
            Action::Init(store) => {
                store.store()?.init().await?;
                out.note("the vault's tables are ready");
                Ok(())
            }
            Action::Connect(connect) => {
                let vault = connect.user.vault.vault(None).await?;
                let listener = bind(connect.port, out).await?;
                let port = listener
                    .local_addr()
                    .map_err(|e| {
                        caused_by(
                            ConfigErrorKind::Unreadable,
                            "cannot read the loopback port",
                            e,
                        )
                    })?
                    .port();
                // PKCE, as `boxauth login`: the vault derives the verifier from the state.
                let mut options = AuthorizeOptions::default()
                    .redirect_uri(format!("http://localhost:{port}/callback"))
                    .pkce();
                if let Some(scope) = &connect.scope {
                    options = options.scope(scope.clone());
                }
                let user_key = connect.user.user_key.as_str();
                let request = vault.authorize_url(user_key, options)?;
                let completion = VaultCompletion {
                    vault: &vault,
                    user_key,
                    request: &request,
                };
                let login = receive(
                    &completion,
                    &request.url,
                    &listener,
                    Browser {
                        open: !connect.no_browser,
                        timeout: Duration::from_secs(connect.timeout),
                    },
                    out,
                )
                .await?;
                crate::outln!("Connected {user_key} as {login}")?;
                Ok(())
            }
            Action::Import(import) => {
                let vault = import.user.vault.vault(None).await?;
                let token = if import.refresh_token.secret() == "-" {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line).map_err(|e| {
                        caused_by(
                            ConfigErrorKind::Unreadable,
                            "cannot read the refresh token from standard input",
                            e,
                        )
                    })?;
                    boxauth::Token::from(line.trim().to_owned())
                } else {
                    import.refresh_token
                };
                let auth = vault.import(&import.user.user_key, token).await?;
                crate::confirm::before_exit(&*auth, &import.confirm, out).await?;
                out.note(&format!("imported {}", import.user.user_key));
                Ok(())
            }
            Action::Token(token) => {
                let vault = token.user.vault.vault(None).await?;
                let auth = vault.auth(&token.user.user_key)?;
                let got = auth.retrieve_token().await?;
                let printed = if token.json {
                    print_json(&got.to_access_token())
                } else {
                    crate::outln!("{}", got.access_token.secret())
                };
                // Confirmed even when stdout is closed: the token must not leave with us.
                let confirmed = crate::confirm::before_exit(&*auth, &token.confirm, out).await;
                printed.and(confirmed)
            }
            Action::List(list) => {
                let vault = list.vault.vault(None).await?;
                let mut after: Option<String> = None;
                let mut left = list.limit;
                while left > 0 {
                    let page = vault
                        .list(list.needs_reauth, after.as_deref(), left.min(500))
                        .await?;
                    let Some(last) = page.last() else { break };
                    after = Some(last.user_key.clone());
                    left = left.saturating_sub(u32::try_from(page.len()).unwrap_or(u32::MAX));
                    for identity in page {
                        let (state, reason) = describe(&identity.status);
                        if list.json {
                            crate::outln!(
                                "{}",
                                serde_json::json!({
                                    "user_key": identity.user_key,
                                    "state": state,
                                    "reason": reason,
                                })
                            )?;
                        } else {
                            crate::outln!(
                                "{:<32} {state}{}",
                                identity.user_key,
                                reason.map(|r| format!(" ({r})")).unwrap_or_default()
                            )?;
                        }
                    }
                }
                Ok(())
            }
            Action::Disconnect(user) => {
                let vault = user.vault.vault(None).await?;
                vault.disconnect(&user.user_key).await?;
                out.note(&format!(
                    "disconnected {}: its tokens are revoked at Box",
                    user.user_key
                ));
                Ok(())
            }
            Action::Sweep(sweep) => {
                let vault = sweep.vault.vault(None).await?;
                let report = vault
                    .sweep(
                        &SweepOptions::default()
                            .concurrency(sweep.concurrency)
                            .per_second(sweep.per_second),
                    )
                    .await?;
                print_json(&serde_json::json!({
                    "claimed": report.claimed,
                    "refreshed": report.refreshed,
                    "failed": report.failed,
                    "needs_reauth": report.needs_reauth,
                    "lag_secs": report.lag.as_secs(),
                }))
            }
            Action::RotateKey(rotate) => {
                let new = std::fs::read_to_string(&rotate.new_key_file).map_err(|e| {
                    caused_by(
                        ConfigErrorKind::Unreadable,
                        format!("cannot read {}", rotate.new_key_file.display()),
                        e,
                    )
                })?;
                let old = match &rotate.vault.key_file {
                    Some(path) => std::fs::read_to_string(path).map_err(|e| {
                        caused_by(
                            ConfigErrorKind::Unreadable,
                            format!("cannot read {}", path.display()),
                            e,
                        )
                    })?,
                    None => std::env::var(KEY_VARIABLE).unwrap_or_default(),
                };
                let keys = KeySet::parse(&format!("{new}\n{old}"))?;
                let primary = keys.primary().id().to_owned();
                let vault = rotate.vault.vault(Some(keys)).await?;
                let resealed = vault.reseal(u32::MAX).await?;
                out.note(&format!(
                    "{resealed} identities resealed with key {primary}; every token is sealed with it now, and the older keys can be retired (keep {} alone)",
                    rotate.new_key_file.display()
                ));
                Ok(())
            }
        }
    }
}

/// A status as `list` shows it.
fn describe(status: &IdentityStatus) -> (&'static str, Option<&'static str>) {
    match status {
        IdentityStatus::Active { .. } => ("active", None),
        IdentityStatus::NeedsReauthorization { reason, .. } => {
            ("needs_reauth", Some(reason.as_str()))
        }
        IdentityStatus::Disconnecting { .. } => ("disconnecting", None),
        _ => ("not_connected", None),
    }
}
