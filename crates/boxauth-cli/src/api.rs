//! `boxauth api …`: one subcommand per AuthorizationManager operation, flags named after its
//! arguments.

use boxauth::{
    AuthorizationManager, AuthorizeUserArgs, AuthorizeUserResponseType, RefreshAccessTokenArgs,
    RequestAccessTokenActorTokenType, RequestAccessTokenArgs, RequestAccessTokenBoxSubjectType,
    RequestAccessTokenGrantType, RequestAccessTokenSubjectTokenType, RevokeAccessTokenArgs,
};
use clap::builder::PossibleValuesParser;
use clap::{Args, Subcommand};

use crate::connection::ConnectionArgs;
use crate::output::print_json;

/// Call the four operations of Box's AuthorizationManager directly.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  boxauth api authorize-user --client-id ID --redirect-uri http://localhost:3000/callback
  boxauth api request-access-token --grant-type client_credentials --client-id ID \\
      --box-subject-type enterprise --box-subject-id 899905961   # secret from BOX_CLIENT_SECRET
  boxauth api refresh-access-token --client-id ID --refresh-token T
  boxauth api revoke-access-token --client-id ID --token T")]
pub struct ApiCommand {
    #[command(subcommand)]
    operation: Operation,

    #[command(flatten)]
    connection: ConnectionArgs,
}

#[derive(Debug, Subcommand)]
enum Operation {
    /// Print the URL of Box's consent page (GET {oauth2-url}/authorize); --send also requests it.
    #[command(after_help = "Example:
  boxauth api authorize-user --client-id ID --redirect-uri http://localhost:3000/callback --state xyz")]
    AuthorizeUser(AuthorizeUser),
    /// POST {base-url}/oauth2/token with any grant; prints the AccessToken as JSON.
    #[command(after_help = "Examples:
  boxauth api request-access-token --grant-type authorization_code --client-id ID --code CODE
  boxauth api request-access-token --grant-type urn:ietf:params:oauth:grant-type:token-exchange \\
      --subject-token T --subject-token-type urn:ietf:params:oauth:token-type:access_token \\
      --scope item_preview --resource https://api.box.com/2.0/files/123

Secrets can come from the environment instead of flags: BOX_CLIENT_SECRET, BOX_CODE,
BOX_REFRESH_TOKEN, BOX_ASSERTION, BOX_SUBJECT_TOKEN, BOX_ACTOR_TOKEN.")]
    RequestAccessToken(Box<RequestAccessToken>),
    /// POST {base-url}/oauth2/token with grant_type=refresh_token; prints the new AccessToken as JSON.
    #[command(after_help = "Example:
  BOX_CLIENT_SECRET=… BOX_REFRESH_TOKEN=… boxauth api refresh-access-token --client-id ID")]
    RefreshAccessToken(RefreshAccessToken),
    /// POST {base-url}/oauth2/revoke: revoke an access or refresh token (the whole pair dies).
    #[command(after_help = "Example:
  BOX_CLIENT_SECRET=… boxauth api revoke-access-token --client-id ID --token T")]
    RevokeAccessToken(RevokeAccessToken),
}

#[derive(Debug, Args)]
struct AuthorizeUser {
    /// The type of response: only `code` exists.
    #[arg(long, default_value = "code", value_parser = PossibleValuesParser::new(AuthorizeUserResponseType::KNOWN))]
    response_type: String,
    /// The app's client ID.
    #[arg(long, env = "BOX_CLIENT_ID")]
    client_id: String,
    /// Where Box sends the browser back; must be one of the app's redirect URIs.
    #[arg(long)]
    redirect_uri: Option<String>,
    /// A value Box echoes on the redirect; check it there.
    #[arg(long)]
    state: Option<String>,
    /// Space-separated scopes (default: all the app's scopes).
    #[arg(long)]
    scope: Option<String>,
    /// Also send the GET, as Box's SDK does, and report the status.
    #[arg(long)]
    send: bool,
}

#[derive(Debug, Args)]
struct RequestAccessToken {
    /// The grant, as its wire value.
    #[arg(long, value_parser = PossibleValuesParser::new(RequestAccessTokenGrantType::KNOWN))]
    grant_type: String,
    /// The app's client ID.
    #[arg(long, env = "BOX_CLIENT_ID")]
    client_id: Option<String>,
    /// The app's client secret.
    #[arg(long, env = "BOX_CLIENT_SECRET", hide_env_values = true, value_parser = crate::secret::<boxauth::ClientSecret>)]
    client_secret: Option<boxauth::ClientSecret>,
    /// The authorization code from the redirect (authorization_code).
    #[arg(long, env = "BOX_CODE", hide_env_values = true, value_parser = crate::secret::<boxauth::AuthorizationCode>)]
    code: Option<boxauth::AuthorizationCode>,
    /// A refresh token (refresh_token).
    #[arg(long, env = "BOX_REFRESH_TOKEN", hide_env_values = true, value_parser = crate::secret::<boxauth::Token>)]
    refresh_token: Option<boxauth::Token>,
    /// A signed JWT (jwt-bearer).
    #[arg(long, env = "BOX_ASSERTION", hide_env_values = true, value_parser = crate::secret::<boxauth::Assertion>)]
    assertion: Option<boxauth::Assertion>,
    /// The token to exchange (token-exchange).
    #[arg(long, env = "BOX_SUBJECT_TOKEN", hide_env_values = true, value_parser = crate::secret::<boxauth::Token>)]
    subject_token: Option<boxauth::Token>,
    /// The type of --subject-token.
    #[arg(long, value_parser = PossibleValuesParser::new(RequestAccessTokenSubjectTokenType::KNOWN))]
    subject_token_type: Option<String>,
    /// The JWT naming an annotator (token-exchange).
    #[arg(long, env = "BOX_ACTOR_TOKEN", hide_env_values = true, value_parser = crate::secret::<boxauth::Assertion>)]
    actor_token: Option<boxauth::Assertion>,
    /// The type of --actor-token.
    #[arg(long, value_parser = PossibleValuesParser::new(RequestAccessTokenActorTokenType::KNOWN))]
    actor_token_type: Option<String>,
    /// Space-separated scopes of the new token (token-exchange).
    #[arg(long)]
    scope: Option<String>,
    /// Full API URL of the file or folder to limit the token to (token-exchange).
    #[arg(long)]
    resource: Option<String>,
    /// `enterprise` or `user` (client_credentials).
    #[arg(long, value_parser = PossibleValuesParser::new(RequestAccessTokenBoxSubjectType::KNOWN))]
    box_subject_type: Option<String>,
    /// The enterprise ID or user ID (client_credentials).
    #[arg(long)]
    box_subject_id: Option<String>,
    /// A shared link URL to limit the token to (token-exchange).
    #[arg(long)]
    box_shared_link: Option<String>,
}

#[derive(Debug, Args)]
struct RefreshAccessToken {
    /// The app's client ID.
    #[arg(long, env = "BOX_CLIENT_ID")]
    client_id: String,
    /// The app's client secret.
    #[arg(long, env = "BOX_CLIENT_SECRET", hide_env_values = true, value_parser = crate::secret::<boxauth::ClientSecret>)]
    client_secret: boxauth::ClientSecret,
    /// The refresh token to spend (it works once).
    #[arg(long, env = "BOX_REFRESH_TOKEN", hide_env_values = true, value_parser = crate::secret::<boxauth::Token>)]
    refresh_token: boxauth::Token,
}

#[derive(Debug, Args)]
struct RevokeAccessToken {
    /// The app's client ID.
    #[arg(long, env = "BOX_CLIENT_ID")]
    client_id: Option<String>,
    /// The app's client secret.
    #[arg(long, env = "BOX_CLIENT_SECRET", hide_env_values = true, value_parser = crate::secret::<boxauth::ClientSecret>)]
    client_secret: Option<boxauth::ClientSecret>,
    /// The access or refresh token to revoke.
    #[arg(long, env = "BOX_TOKEN", hide_env_values = true, value_parser = crate::secret::<boxauth::Token>)]
    token: Option<boxauth::Token>,
}

impl ApiCommand {
    pub async fn run(self, out: &crate::output::Output) -> boxauth::Result<()> {
        let session = self.connection.session()?;
        let urls = session.urls().clone();
        let asking = |method: &str, url: String| {
            crate::output::context(|c| c.asked = Some(format!("{method} {url}")));
        };
        let manager = AuthorizationManager::new(session);
        let headers = self.connection.extra_headers()?;
        match self.operation {
            Operation::AuthorizeUser(a) => {
                let mut args = AuthorizeUserArgs::new(a.client_id)
                    .response_type(AuthorizeUserResponseType::from(a.response_type.as_str()));
                args.redirect_uri = a.redirect_uri;
                args.state = a.state;
                args.scope = a.scope;
                args.extra_headers = headers.into_iter().collect();
                crate::outln!("{}", manager.authorize_url(&args))?;
                if a.send {
                    asking("GET", urls.authorize_url());
                    let status = manager.authorize_user(args).await?;
                    out.note(&format!("sent: Box answered the GET with HTTP {status}"));
                }
            }
            Operation::RequestAccessToken(r) => {
                let mut args = RequestAccessTokenArgs::new(RequestAccessTokenGrantType::from(
                    r.grant_type.as_str(),
                ));
                args.client_id = r.client_id;
                args.client_secret = r.client_secret;
                args.code = r.code;
                args.refresh_token = r.refresh_token;
                args.assertion = r.assertion;
                args.subject_token = r.subject_token;
                args.subject_token_type = r.subject_token_type.as_deref().map(Into::into);
                args.actor_token = r.actor_token;
                args.actor_token_type = r.actor_token_type.as_deref().map(Into::into);
                args.scope = r.scope;
                args.resource = r.resource;
                args.box_subject_type = r.box_subject_type.as_deref().map(Into::into);
                args.box_subject_id = r.box_subject_id;
                args.box_shared_link = r.box_shared_link;
                args.extra_headers = headers.into_iter().collect();
                asking("POST", urls.token_url());
                print_json(&manager.request_access_token(args).await?)?;
            }
            Operation::RefreshAccessToken(r) => {
                let mut args =
                    RefreshAccessTokenArgs::new(r.client_id, r.client_secret, r.refresh_token);
                args.extra_headers = headers.into_iter().collect();
                asking("POST", urls.token_url());
                print_json(&manager.refresh_access_token(args).await?)?;
            }
            Operation::RevokeAccessToken(r) => {
                let mut args = RevokeAccessTokenArgs::default();
                args.client_id = r.client_id;
                args.client_secret = r.client_secret;
                args.token = r.token;
                args.extra_headers = headers.into_iter().collect();
                asking("POST", urls.revoke_url());
                manager.revoke_access_token(args).await?;
                out.note("revoked");
            }
        }
        Ok(())
    }
}
