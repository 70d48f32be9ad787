//! `boxauth token get|refresh|revoke|downscope`.

use boxauth::{AuthMethod, BoxClient, ConfigError, ConfigErrorKind, Error, StoredToken, User};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::auth_source::{Acting, AuthSource};
use crate::connection::ConnectionArgs;
use crate::output::{Output, print_json};

/// Get, refresh, revoke and downscope tokens with any auth method.
#[derive(Debug, Args)]
#[command(
    after_help = "Which identity: auth flags (a method, or --env NAME) come first, then \
credentials in BOX_* variables (or BOXAUTH_ENV=NAME), then the current environment. Two at one \
level are refused; a note on stderr names any lower one left unused (--quiet silences it).

Examples:
  boxauth token get --ccg --client-id ID --enterprise-id 899905961      # secret from BOX_CLIENT_SECRET
  boxauth token get --jwt-config config.json --user-id 22222 --json
  boxauth token get --oauth --client-id ID --token-file ~/.box-tokens.json
  boxauth token downscope --jwt-config config.json --scope item_preview \\
      --resource https://api.box.com/2.0/files/123
  boxauth token revoke --developer-token T --client-id ID   # secret from BOX_CLIENT_SECRET
  BOX_JWT_CONFIG_JSON=\"$(cat config.json)\" boxauth token get      # BOX_* variables, before any saved environment
  boxauth token get --jwt-config - < config.json"
)]
pub struct TokenCommand {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Print a valid access token (cached in --token-file, refreshed when it is about to expire).
    #[command(after_help = "Examples:
  boxauth token get                                   # BOX_* variables, else the current environment
  boxauth token get --jwt-config config.json --json   # the whole AccessToken, and whose it is
  boxauth token get --developer-token T --json        # checked with Box; its expiry is unknown
  curl -H \"Authorization: Bearer $(boxauth token get)\" https://api.box.com/2.0/users/me")]
    Get(Get),
    /// Get a new access token now and print it.
    #[command(after_help = "Example:\n  boxauth token refresh --env prod")]
    Refresh(Common),
    /// Revoke the token at Box and forget it.
    #[command(after_help = "Example:\n  boxauth token revoke --env prod")]
    Revoke(Common),
    /// Print a token limited to some scopes, and to one file, folder or shared link.
    #[command(after_help = "Examples:
  boxauth token downscope --scope item_preview --resource https://api.box.com/2.0/files/123
  boxauth token downscope --scope item_preview --scope item_download \\
      --shared-link https://app.box.com/s/abc --json")]
    Downscope(Downscope),
}

#[derive(Debug, Args)]
struct Common {
    #[command(flatten)]
    source: AuthSource,
    /// Use this saved environment (BOXAUTH_ENV=NAME names one too, below the auth flags)
    /// [default: BOX_* variables, else the current environment].
    #[arg(long, conflicts_with = "source", value_name = "NAME")]
    env: Option<String>,
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Print the whole AccessToken as JSON, with the identity it belongs to, instead of the
    /// access token alone.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    confirm: crate::confirm::ConfirmArgs,
}

#[derive(Debug, Args)]
struct Get {
    #[command(flatten)]
    common: Common,
    /// Check the token with Box (GET /2.0/users/me) before printing it, and name its user with
    /// --json [default: on for a developer token, whose validity only Box knows].
    #[arg(long, conflicts_with = "no_check")]
    check: bool,
    /// Print a developer token without asking Box whether it still works.
    #[arg(long)]
    no_check: bool,
}

#[derive(Debug, Args)]
struct Downscope {
    #[command(flatten)]
    common: Common,
    /// A scope of the new token, e.g. item_preview (repeatable).
    #[arg(long = "scope", required = true, value_name = "SCOPE")]
    scopes: Vec<String>,
    /// The file or folder's API URL, e.g. `https://api.box.com/2.0/files/123`.
    #[arg(long, conflicts_with = "shared_link", value_name = "URL")]
    resource: Option<String>,
    /// A shared link URL.
    #[arg(long, value_name = "URL")]
    shared_link: Option<String>,
}

impl Common {
    fn resolve(&self, out: &Output) -> boxauth::Result<Acting> {
        self.source
            .resolve(self.env.as_deref(), &self.connection, out)
    }
}

/// Keeps the request about to be sent, for the hint after an error (a 404 names the URL).
fn asking(method: &str, url: String) {
    crate::output::context(|c| c.asked = Some(format!("{method} {url}")));
}

fn is_developer_token(acting: &Acting) -> bool {
    matches!(acting.config.method, AuthMethod::DeveloperToken { .. })
}

fn is_app_token(acting: &Acting) -> bool {
    matches!(acting.config.method, AuthMethod::AppToken { .. })
}

/// `GET /2.0/users/me` with the token (and the environment's `As-User`): whose it is, and
/// whether Box takes it.
async fn users_me(acting: &Acting) -> boxauth::Result<User> {
    let client = BoxClient::from_shared(acting.auth.clone());
    let client = match &acting.source.as_user {
        Some(user) => client.with_as_user(user.clone()),
        None => client,
    };
    asking(
        "GET",
        acting.auth.network_session().urls().api_url("/users/me"),
    );
    client.users_me().await
}

/// Prints the token, or with `json` the whole token and whose it is (`user` when Box was asked).
/// A developer token's lifetime is Box's secret: no expiry is made up for it.
fn print_token(
    token: &StoredToken,
    acting: &Acting,
    user: Option<&User>,
    json: bool,
    out: &Output,
) -> boxauth::Result<()> {
    if let Some(user) = &acting.source.as_user {
        out.note(&format!(
            "{} acts As-User {user}, as Box CLI does: the token is its service account's; send \
             the header `As-User: {user}` with it",
            acting.source.label
        ));
    }
    if !json {
        return crate::outln!("{}", token.access_token.secret());
    }
    let mut value = serde_json::to_value(token).map_err(|e| {
        ConfigError::new(
            ConfigErrorKind::Invalid,
            "could not format the token as JSON",
        )
        .with_source(e)
    })?;
    if is_app_token(acting) && token.restricted_to.is_none() {
        value["expires_in"] = Value::Null;
        value["expires_at"] = Value::Null;
        value["expiry"] = json!(
            "unknown: an App Token lasts until it is revoked or rotated (or an expiry chosen in \
             the Developer Console, which Box does not tell)"
        );
        let primary = matches!(&acting.config.method, AuthMethod::AppToken { primary_token, .. }
            if primary_token.secret() == token.access_token.secret());
        value["app_token"] = json!(if primary { "primary" } else { "secondary" });
    }
    if is_developer_token(acting) && token.restricted_to.is_none() {
        value["expires_in"] = Value::Null;
        value["expires_at"] = Value::Null;
        value["expiry"] = json!(
            "unknown: Box does not tell a developer token's expiry (they live 60 minutes from \
             when they were generated)"
        );
    }
    let mut identity = crate::identity::describe(&acting.config.method, &acting.source);
    if let Some(as_user) = &acting.source.as_user {
        identity["as_user"] = json!(as_user);
    }
    if let Some(user) = user {
        identity["user"] = json!({"id": user.id, "login": user.login, "name": user.name});
    }
    value["identity"] = identity;
    print_json(&value)
}

/// Box refusing a developer token on `/2.0/users/me`, said as such (the library's error speaks of
/// refreshing, which a `--check` never tried).
fn refused_developer_token(error: Error) -> Error {
    match error {
        Error::DeveloperTokenExpired => ConfigError::new(
            ConfigErrorKind::Invalid,
            "Box refused the developer token (GET /2.0/users/me answered 401): it has expired, \
             was revoked, or is not a token; generate a new one (Developer Console → your app → \
             Configuration → Developer Token)",
        )
        .into(),
        error => error,
    }
}

/// A developer token Box no longer takes, said so, after `failed` (what the command tried).
async fn when_expired(acting: &Acting, failed: Error) -> Error {
    if !is_developer_token(acting) {
        return failed;
    }
    match users_me(acting).await {
        Err(Error::DeveloperTokenExpired) => ConfigError::new(
            ConfigErrorKind::Invalid,
            "the developer token has expired (or was revoked): Box refuses it on /2.0/users/me; \
             generate a new one (Developer Console → your app → Configuration → Developer Token)",
        )
        .with_source(failed)
        .into(),
        _ => failed,
    }
}

impl TokenCommand {
    pub async fn run(self, out: &Output) -> boxauth::Result<()> {
        match self.action {
            Action::Get(get) => {
                let acting = get.common.resolve(out)?;
                asking("POST", acting.auth.network_session().urls().token_url());
                let token = acting.auth.retrieve_token().await?;
                // A fixed token is checked with Box by default: a refused App Token moves to
                // the secondary, which is then the one printed.
                let check = get.check
                    || ((is_developer_token(&acting) || is_app_token(&acting)) && !get.no_check);
                let (token, user) = match check {
                    true => {
                        let user = users_me(&acting).await.map_err(refused_developer_token)?;
                        (acting.auth.retrieve_token().await?, Some(user))
                    }
                    false => (token, None),
                };
                let printed = print_token(&token, &acting, user.as_ref(), get.common.json, out);
                // Confirmed even when stdout is closed: the token must not leave with us.
                let confirmed =
                    crate::confirm::before_exit(&*acting.auth, &get.common.confirm, out).await;
                printed.and(confirmed)
            }
            Action::Refresh(common) => {
                let acting = common.resolve(out)?;
                if is_developer_token(&acting) {
                    // Nothing is sent: Box has no way to refresh one.
                    return Err(ConfigError::new(
                        ConfigErrorKind::Invalid,
                        "a developer token cannot be refreshed: Box issues it without a refresh \
                         token, for 60 minutes; generate a new one (Developer Console → your app \
                         → Configuration → Developer Token), or use `token get` to print this one",
                    )
                    .into());
                }
                asking("POST", acting.auth.network_session().urls().token_url());
                let token = acting.auth.refresh_token().await?;
                let printed = print_token(&token, &acting, None, common.json, out);
                let confirmed =
                    crate::confirm::before_exit(&*acting.auth, &common.confirm, out).await;
                printed.and(confirmed)
            }
            Action::Revoke(common) => {
                let acting = common.resolve(out)?;
                asking("POST", acting.auth.network_session().urls().revoke_url());
                acting.auth.revoke_token().await?;
                out.note("revoked");
                Ok(())
            }
            Action::Downscope(downscope) => {
                let common = downscope.common;
                let acting = common.resolve(out)?;
                let scopes: Vec<&str> = downscope.scopes.iter().map(String::as_str).collect();
                asking("POST", acting.auth.network_session().urls().token_url());
                let token = match acting
                    .auth
                    .downscope_token(
                        &scopes,
                        downscope.resource.as_deref(),
                        downscope.shared_link.as_deref(),
                    )
                    .await
                {
                    Ok(token) => token,
                    Err(error) => return Err(when_expired(&acting, error).await),
                };
                let stored = StoredToken::from_access_token(token, std::time::SystemTime::now())?;
                let printed = print_token(&stored, &acting, None, common.json, out);
                let confirmed =
                    crate::confirm::before_exit(&*acting.auth, &common.confirm, out).await;
                printed.and(confirmed)
            }
        }
    }
}
