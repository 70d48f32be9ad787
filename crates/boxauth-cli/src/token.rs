//! `boxauth token get|refresh|revoke|downscope`.

use boxauth::StoredToken;
use clap::{Args, Subcommand};

use crate::auth_source::AuthSource;
use crate::connection::ConnectionArgs;
use crate::output::print_json;

/// Get, refresh, revoke and downscope tokens with any auth method.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  boxauth token get --ccg --client-id ID --enterprise-id 899905961      # secret from BOX_CLIENT_SECRET
  boxauth token get --jwt-config config.json --user-id 22222 --json
  boxauth token get --oauth --client-id ID --token-file ~/.box-tokens.json
  boxauth token downscope --jwt-config config.json --scope item_preview \\
      --resource https://api.box.com/2.0/files/123
  boxauth token revoke --developer-token T --client-id ID   # secret from BOX_CLIENT_SECRET
  BOX_JWT_CONFIG_JSON=\"$(cat config.json)\" boxauth token get      # no flag, no environment: BOX_* variables
  boxauth token get --jwt-config - < config.json")]
pub struct TokenCommand {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Print a valid access token (cached in --token-file, refreshed when it is about to expire).
    #[command(after_help = "Examples:
  boxauth token get                                   # the current environment
  boxauth token get --jwt-config config.json --json   # the whole AccessToken
  curl -H \"Authorization: Bearer $(boxauth token get)\" https://api.box.com/2.0/users/me")]
    Get(Common),
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
    /// Use this saved environment (default: the current one, when no auth flags are given).
    #[arg(
        long,
        env = "BOXAUTH_ENV",
        conflicts_with = "source",
        value_name = "NAME"
    )]
    env: Option<String>,
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Print the whole AccessToken as JSON instead of the access token alone.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    confirm: crate::confirm::ConfirmArgs,
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

fn print_token(token: &StoredToken, json: bool) -> boxauth::Result<()> {
    if json {
        return print_json(token);
    }
    println!("{}", token.access_token.secret());
    Ok(())
}

impl TokenCommand {
    pub async fn run(self, out: &crate::output::Output) -> boxauth::Result<()> {
        match self.action {
            Action::Get(common) => {
                let auth = common
                    .source
                    .resolve(common.env.as_deref(), &common.connection)?;
                print_token(&*auth.retrieve_token().await?, common.json)?;
                crate::confirm::before_exit(&*auth, &common.confirm, out).await
            }
            Action::Refresh(common) => {
                let auth = common
                    .source
                    .resolve(common.env.as_deref(), &common.connection)?;
                print_token(&*auth.refresh_token().await?, common.json)?;
                crate::confirm::before_exit(&*auth, &common.confirm, out).await
            }
            Action::Revoke(common) => {
                let auth = common
                    .source
                    .resolve(common.env.as_deref(), &common.connection)?;
                auth.revoke_token().await?;
                out.note("revoked");
                Ok(())
            }
            Action::Downscope(downscope) => {
                let common = downscope.common;
                let auth = common
                    .source
                    .resolve(common.env.as_deref(), &common.connection)?;
                let scopes: Vec<&str> = downscope.scopes.iter().map(String::as_str).collect();
                let token = auth
                    .downscope_token(
                        &scopes,
                        downscope.resource.as_deref(),
                        downscope.shared_link.as_deref(),
                    )
                    .await?;
                let stored = StoredToken::from_access_token(token, std::time::SystemTime::now())?;
                print_token(&stored, common.json)?;
                crate::confirm::before_exit(&*auth, &common.confirm, out).await
            }
        }
    }
}
