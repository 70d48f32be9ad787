//! The checks themselves: each asks one thing of the setup, of Box, or of the token store, and
//! says what to do when the answer is wrong.

use std::sync::Arc;

use boxauth::{
    AuthConfig, AuthMethod, Authentication, AuthorizationManager, AuthorizeUserArgs, BoxClient,
    Error, TokenRefusal, TokenStore, User,
};
use serde_json::Value;

use super::config::{key_fields, key_refused, only, read_jwt_json, unusable};
use super::machine::{clock, file_permissions};
use super::{Check, Name};
use crate::auth_source::Source;
use crate::connection::ConnectionArgs;

/// The redirect URI `boxauth login` sends (Box matches any port on localhost).
const LOGIN_REDIRECT_URI: &str = "http://localhost:3000/callback";

/// One run of the checks over one setup.
pub struct Probe<'a> {
    connection: &'a ConnectionArgs,
    config: AuthConfig,
    source: &'a Source,
}

/// What came of asking Box for a token and whose it is.
type Asked = Result<User, Error>;

impl<'a> Probe<'a> {
    pub fn new(connection: &'a ConnectionArgs, config: AuthConfig, source: &'a Source) -> Self {
        Self {
            connection,
            config,
            source,
        }
    }

    pub async fn run(mut self) -> Vec<Check> {
        let method = self.config.method.name();
        let jwt = read_jwt_json(&self.config.method);
        // The JWT config's own fields first: a missing key ID is the key's problem, not Box's.
        let mut key = match &jwt {
            Some(Err(check)) => return only(check.clone()),
            Some(Ok(root)) => key_fields(root),
            None => Check::skip(
                Name::Key,
                format!("not a JWT setup ({method}): no private key"),
            ),
        };
        let enterprise_id = self.enterprise_id(jwt.as_ref().and_then(|r| r.as_ref().ok()));
        let auth = match self.connection.build(&mut self.config) {
            Ok(auth) => auth,
            Err(error) => return unusable(jwt, error, self.found(method)),
        };
        let config = Check::pass(
            Name::Config,
            format!(
                "{}, Box at {}",
                self.found(method),
                auth.network_session().urls().base_url()
            ),
        );
        let clock = clock(&auth).await;
        let token_store = self.token_store().await;
        let service_account = self.service_account(&auth).await;
        let user = self.user_token(&auth).await;
        // Box's refusal of the key shows only when a token is asked for.
        for asked in [&service_account, &user].into_iter().flatten() {
            if let Err(error) = asked
                && let Some(check) = key_refused(error)
            {
                key = check;
            }
        }
        if matches!(key.status, super::Status::Pass) && service_account.is_none() && user.is_none()
        {
            key.detail.push_str(" (not tried with Box)");
        }
        let enterprise = enterprise(service_account.as_ref(), enterprise_id.as_deref());
        let service_account = match service_account {
            None => Check::skip(Name::ServiceAccount, self.no_service_account()),
            Some(Ok(user)) => Check::pass(
                Name::ServiceAccount,
                format!("a token for the service account ({})", whose(&user)),
            ),
            Some(Err(error)) => match explained_elsewhere(&error) {
                // Box's answer is shown once, on the line that says what to fix.
                Some(other) => Check::skip(
                    Name::ServiceAccount,
                    format!("no token: Box refused it for the reason the {other} check gives"),
                ),
                None => token_refused(Name::ServiceAccount, &error),
            },
        };
        let user_token = match user {
            None => Check::skip(
                Name::UserToken,
                "no user token expected: the setup acts as the service account",
            ),
            Some(Ok(user)) => Check::pass(Name::UserToken, format!("a token for {}", whose(&user))),
            Some(Err(error)) => self.user_refused(&error),
        };
        let as_user = self.as_user(&auth).await;
        let redirect_uri = self.redirect_uri(&auth).await;
        vec![
            config,
            key,
            clock,
            token_store,
            service_account,
            enterprise,
            user_token,
            as_user,
            redirect_uri,
        ]
    }

    fn found(&self, method: &str) -> String {
        format!("{} ({method})", self.source.label)
    }

    fn enterprise_id(&self, jwt: Option<&Value>) -> Option<String> {
        match &self.config.method {
            AuthMethod::Ccg { enterprise_id, .. } => enterprise_id.clone(),
            AuthMethod::Jwt { .. } => jwt.and_then(|root| match root.get("enterpriseID")? {
                Value::String(id) => Some(id.clone()),
                Value::Number(id) => Some(id.to_string()),
                _ => None,
            }),
            _ => None,
        }
    }

    /// The config, as sent, acting as `user` (`None`: the service account), its tokens in
    /// memory: a check asks Box anew and leaves the store alone.
    fn acting_as(&self, user: Option<String>) -> AuthConfig {
        let mut config = self.config.clone();
        config.token_store = TokenStore::Memory;
        config.token_namespace = None;
        match &mut config.method {
            AuthMethod::Jwt { user_id, .. } => *user_id = user,
            AuthMethod::Ccg {
                user_id,
                enterprise_id,
                ..
            } => {
                if user.is_none() {
                    // Only reached with an enterprise ID (see `service_account`).
                    *user_id = None;
                } else {
                    *enterprise_id = None;
                    *user_id = user;
                }
            }
            _ => {}
        }
        config
    }

    /// A token for the app's service account, and whose Box says it is (`None`: the setup has
    /// no service account to ask for).
    async fn service_account(&self, auth: &Arc<dyn Authentication>) -> Option<Asked> {
        match &self.config.method {
            AuthMethod::Jwt { .. }
            | AuthMethod::Ccg {
                enterprise_id: Some(_),
                ..
            } => {
                let mut config = self.acting_as(None);
                Some(match self.connection.build(&mut config) {
                    Ok(auth) => users_me(&auth, None).await,
                    Err(error) => Err(error),
                })
            }
            AuthMethod::AppToken { .. } => Some(users_me(auth, None).await),
            _ => None,
        }
    }

    fn no_service_account(&self) -> String {
        match &self.config.method {
            AuthMethod::Ccg { .. } => {
                "the setup acts as a user and names no enterprise ID to ask for".to_owned()
            }
            method => format!(
                "not a JWT, CCG or App Token setup ({}): no service account",
                method.name()
            ),
        }
    }

    /// A token for the user the setup acts as (`None`: it acts as the service account).
    async fn user_token(&self, auth: &Arc<dyn Authentication>) -> Option<Asked> {
        match &self.config.method {
            AuthMethod::Jwt {
                user_id: Some(user),
                ..
            }
            | AuthMethod::Ccg {
                user_id: Some(user),
                ..
            } => {
                let mut config = self.acting_as(Some(user.clone()));
                Some(match self.connection.build(&mut config) {
                    Ok(auth) => users_me(&auth, None).await,
                    Err(error) => Err(error),
                })
            }
            AuthMethod::Oauth { .. } | AuthMethod::DeveloperToken { .. } => {
                Some(users_me(auth, None).await)
            }
            _ => None,
        }
    }

    fn user_refused(&self, error: &Error) -> Check {
        // The key check shows a key Box refused, whoever the token was for. (The enterprise
        // check speaks only of the service account's token.)
        if explained_elsewhere(error) == Some("key") {
            return Check::skip(
                Name::UserToken,
                "no token: Box refused it for the reason the key check gives",
            );
        }
        let refusal = error.as_api().and_then(|api| api.refusal());
        let user = match &self.config.method {
            AuthMethod::Jwt { user_id, .. } | AuthMethod::Ccg { user_id, .. } => user_id.clone(),
            _ => None,
        };
        let fix = match (refusal, &self.config.method, user) {
            (Some(TokenRefusal::UserTokensNotEnabled), ..) => {
                "enable 'Generate user access tokens' (Developer Console → your app → \
                 Configuration → Advanced Features), then have an admin re-authorize the app"
                    .to_owned()
            }
            (Some(TokenRefusal::Subject), _, Some(user)) => format!(
                "check the user ID {user}: it must be a user of the app's enterprise; a managed \
                 user needs the app's access level 'App + Enterprise Access' (then re-authorize)"
            ),
            (_, AuthMethod::Oauth { .. }, _) if is_login_needed(error) => {
                match &self.source.environment {
                    Some(name) => format!("log in again: boxauth login --env {name}"),
                    None => "log in: boxauth login --env NAME, then use --env NAME".to_owned(),
                }
            }
            (_, AuthMethod::DeveloperToken { .. }, _) => {
                "get a new developer token (Developer Console → your app → Configuration → \
                 Developer Token): each lasts 60 minutes"
                    .to_owned()
            }
            _ => fix_for(error),
        };
        Check::fail(Name::UserToken, error.report(), fix)
    }

    async fn token_store(&self) -> Check {
        match &self.config.token_store {
            TokenStore::Memory => Check::skip(
                Name::TokenStore,
                "tokens are kept in this process's memory: nothing to check",
            ),
            TokenStore::File(path) => match file_permissions(path) {
                Some(check) => check,
                None => {
                    self.store_loads(format!("token file {}", path.display()))
                        .await
                }
            },
            store => {
                self.store_loads(format!("token store {}", store.shown()))
                    .await
            }
        }
    }

    /// Reads the store once: it answers, and what it holds can be read.
    async fn store_loads(&self, what: String) -> Check {
        let loaded = match crate::keychain_tokens::storage_for(&self.config) {
            Ok(Some(storage)) => storage.load().await.map(|token| token.is_some()),
            Ok(None) => Ok(false),
            Err(error) => Err(error),
        };
        match loaded {
            Ok(true) => Check::pass(Name::TokenStore, format!("{what}: holds a token")),
            Ok(false) => Check::pass(Name::TokenStore, format!("{what}: no token yet")),
            Err(error) => Check::fail(
                Name::TokenStore,
                format!("{what}: {}", error.report()),
                error.hint().unwrap_or(
                    "check that the store is up and reachable from here, and its address and \
                     password (--token-store, BOX_TOKEN_STORE or the environment)",
                ),
            ),
        }
    }

    async fn as_user(&self, auth: &Arc<dyn Authentication>) -> Check {
        let Some(user) = &self.source.as_user else {
            return Check::skip(Name::AsUser, "the setup does not act with As-User");
        };
        match users_me(auth, Some(user)).await {
            Ok(me) if &me.id == user => Check::pass(
                Name::AsUser,
                format!("As-User {user} works ({})", whose(&me)),
            ),
            Ok(me) => Check::fail(
                Name::AsUser,
                format!("As-User {user} answered as {}", whose(&me)),
                "check the As-User user ID",
            ),
            Err(error) => Check::fail(
                Name::AsUser,
                format!("As-User {user}: {}", error.report()),
                "enable 'Make API calls using the as-user header' (Developer Console → your app \
                 → Configuration → Advanced Features) and have an admin re-authorize the app; the \
                 user must be one the app may act as (its enterprise; a managed user needs 'App + \
                 Enterprise Access')",
            ),
        }
    }

    async fn redirect_uri(&self, auth: &Arc<dyn Authentication>) -> Check {
        let AuthMethod::Oauth { client_id, .. } = &self.config.method else {
            return Check::skip(Name::RedirectUri, "not an OAuth 2.0 app: no redirect");
        };
        let manager = AuthorizationManager::new(auth.network_session().clone());
        let args = AuthorizeUserArgs::new(client_id.as_str()).redirect_uri(LOGIN_REDIRECT_URI);
        match manager.authorize_user(args).await {
            Ok(_) => Check::pass(
                Name::RedirectUri,
                format!("Box takes boxauth login's redirect URI {LOGIN_REDIRECT_URI}"),
            ),
            Err(error) => Check::fail(
                Name::RedirectUri,
                format!(
                    "Box refused the authorization URL with redirect URI {LOGIN_REDIRECT_URI}: {}",
                    error.report()
                ),
                format!(
                    "add {LOGIN_REDIRECT_URI} to the app's OAuth 2.0 Redirect URIs (Developer \
                     Console → your app → Configuration; Box matches any port on localhost), and \
                     check the client ID"
                ),
            ),
        }
    }
}

/// The `enterprise` check, from the service account's token.
fn enterprise(asked: Option<&Asked>, id: Option<&str>) -> Check {
    let named = id.map_or_else(
        || "the enterprise".to_owned(),
        |id| format!("enterprise {id}"),
    );
    match asked {
        None => Check::skip(Name::Enterprise, "no service-account token to ask for"),
        Some(Ok(_)) => Check::pass(Name::Enterprise, format!("{named} has authorized the app")),
        Some(Err(error)) => match error.as_api().and_then(|api| api.refusal()) {
            Some(TokenRefusal::AppNotAuthorized) => Check::fail(
                Name::Enterprise,
                format!("{named} has not authorized the app: {}", error.report()),
                "an enterprise admin must authorize the app: Admin Console → Apps → Custom Apps \
                 Manager → Add App, with the app's client ID (and again after its settings change)",
            ),
            Some(TokenRefusal::Subject) => Check::fail(
                Name::Enterprise,
                format!("Box knows no {named} for this app: {}", error.report()),
                "the enterprise ID (enterpriseID in the config file, or --enterprise-id) must be \
                 the ID of the enterprise that owns and authorized the app (Admin Console → \
                 Account & Billing)",
            ),
            _ => Check::skip(
                Name::Enterprise,
                "not known: the service-account token was refused for another reason",
            ),
        },
    }
}

/// A failed token for `name`, with the fix its refusal calls for.
fn token_refused(name: Name, error: &Error) -> Check {
    Check::fail(name, error.report(), fix_for(error))
}

fn fix_for(error: &Error) -> String {
    match explained_elsewhere(error) {
        Some(other) => format!("see the {other} check"),
        None => crate::output::hint(error)
            .unwrap_or_else(|| "check the setup's credentials and Box's answer above".to_owned()),
    }
}

/// The check that shows a token refusal and its fix, when that is not the token's own check:
/// the enterprise's authorization or ID, or the key Box does not know.
fn explained_elsewhere(error: &Error) -> Option<&'static str> {
    match error.as_api().and_then(|api| api.refusal())? {
        TokenRefusal::AppNotAuthorized | TokenRefusal::Subject => Some("enterprise"),
        TokenRefusal::KeyMismatch | TokenRefusal::NoPublicKeys => Some("key"),
        _ => None,
    }
}

/// Whether `error` means the OAuth 2.0 tokens are gone: nothing stored, or refused.
fn is_login_needed(error: &Error) -> bool {
    matches!(error, Error::ReauthorizationRequired(_))
        || error
            .as_api()
            .and_then(|api| api.refusal())
            .is_some_and(|r| matches!(r, TokenRefusal::RefreshToken | TokenRefusal::InvalidToken))
}

/// `GET /2.0/users/me` with the auth's token (and `As-User`).
async fn users_me(auth: &Arc<dyn Authentication>, as_user: Option<&String>) -> Asked {
    // For the hint of a 404: the URL asked.
    let url = format!("{}/2.0/users/me", auth.network_session().urls().base_url());
    crate::output::context(|c| c.asked = Some(format!("GET {url}")));
    let client = BoxClient::from_shared(auth.clone());
    match as_user {
        Some(user) => client.with_as_user(user.clone()).users_me().await,
        None => client.users_me().await,
    }
}

fn whose(user: &User) -> String {
    match &user.name {
        Some(name) => format!("user {} \"{name}\"", user.id),
        None => format!("user {}", user.id),
    }
}
