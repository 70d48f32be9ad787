//! OAuth 2.0 (3-legged): send the user to Box's consent page, check `state` on the callback,
//! exchange the code, then refresh with rotation for as long as the program runs.

use std::sync::Arc;

use super::{AuthOptions, CachedAuth};
use crate::authorization::{AuthorizeUserArgs, RefreshAccessTokenArgs, RequestAccessTokenArgs};
use crate::error::{ConfigErrorKind, Error, ReauthorizationError, ReauthorizationKind, Result};
use crate::future::BoxFuture;
use crate::secret::{AuthorizationCode, ClientSecret, CodeVerifier};
use crate::source::{FetchContext, TokenSource};
use crate::token::StoredToken;

/// An OAuth 2.0 app's credentials.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OAuthConfig {
    /// The app's client ID.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: ClientSecret,
}

impl OAuthConfig {
    /// The app's client ID and secret.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<ClientSecret>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }
    }
}

/// What to put in the authorization URL: `AuthorizeOptions::default().redirect_uri(…)`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AuthorizeOptions {
    /// Where Box sends the browser back; must be one of the app's redirect URIs.
    pub redirect_uri: Option<String>,
    /// Space-separated scopes (default: all the app's scopes).
    pub scope: Option<String>,
    /// Your own `state`; when `None`, a random one of 256 bits is made.
    pub state: Option<String>,
    /// PKCE (RFC 7636, S256): a random `code_verifier` is made, its challenge sent in the URL,
    /// and the verifier sent with the code exchange, so a stolen code is worth nothing.
    pub pkce: bool,
}

/// The URL to send the user to, the `state` to check on the callback and, with PKCE, the
/// verifier to send with the code.
#[derive(Clone)]
pub struct AuthorizationRequest {
    /// Box's consent page with this request's query.
    pub url: String,
    state: String,
    code_verifier: Option<CodeVerifier>,
}

impl std::fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("url", &self.url.split('?').next())
            .finish_non_exhaustive()
    }
}

impl AuthorizeOptions {
    /// Where Box sends the browser back; must be one of the app's redirect URIs.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// Space-separated scopes (default: all the app's scopes).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Your own `state` (default: a random one of 256 bits).
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Uses PKCE (S256): the URL carries a `code_challenge`, the code exchange its verifier.
    pub fn pkce(mut self) -> Self {
        self.pkce = true;
        self
    }
}

impl AuthorizationRequest {
    pub(crate) fn new(url: String, state: String) -> Self {
        Self {
            url,
            state,
            code_verifier: None,
        }
    }

    /// The PKCE verifier the code exchange must send, when the URL carries a challenge. Keep it
    /// with the `state` (a server-side session) until the callback.
    pub fn code_verifier(&self) -> Option<&CodeVerifier> {
        self.code_verifier.as_ref()
    }

    /// The `state` sent with the URL.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// Whether `returned` is this request's `state` (compared in constant time).
    pub fn verify_state(&self, returned: &str) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(
            self.state.as_bytes(),
            returned.as_bytes(),
        )
        .is_ok()
    }
}

/// OAuth 2.0 auth: the cache layer over an [`OAuthConfig`], refreshing with the stored refresh
/// token. Cloning shares the cache and storage.
///
/// ```no_run
/// # async fn run(callback_query: &str) -> boxauth::Result<()> {
/// use boxauth::{AuthorizeOptions, Authentication, OAuth, OAuthConfig};
///
/// let auth = OAuth::new(OAuthConfig::new("client-id", "client-secret"))?;
/// let request =
///     auth.authorize_url(AuthorizeOptions::default().redirect_uri("http://localhost:3000/callback"));
/// println!("open {}", request.url);
/// // … Box redirects to http://localhost:3000/callback?code=…&state=… …
/// auth.complete_authorization(&request, callback_query).await?; // checks state, exchanges the code
/// let token = auth.retrieve_token().await?; // refreshed with rotation when needed
/// # let _ = token; Ok(()) }
/// ```
pub type OAuth = CachedAuth<OAuthConfig>;

impl TokenSource for OAuthConfig {
    fn fetch<'a>(&'a self, context: FetchContext<'a>) -> BoxFuture<'a, Result<StoredToken>> {
        Box::pin(async move {
            let refresh = context
                .stored()
                .and_then(|s| s.refresh_token.clone())
                .ok_or_else(|| {
                    ReauthorizationError::new(
                        ReauthorizationKind::NoRefreshToken,
                        "no OAuth 2.0 refresh token is stored",
                    )
                })?;
            let answer = context
                .authorization_manager()
                .refresh_access_token(RefreshAccessTokenArgs::new(
                    self.client_id.clone(),
                    self.client_secret.clone(),
                    refresh,
                ))
                .await?;
            StoredToken::from_access_token(answer, context.now())
        })
    }

    fn spends_stored_token(&self) -> bool {
        true
    }

    fn client_credentials(&self) -> Option<(&str, &ClientSecret)> {
        Some((&self.client_id, &self.client_secret))
    }
}

/// What Box's redirect to the app carries: the code and `state`, or an error.
pub(crate) struct Callback {
    pub(crate) code: Option<String>,
    pub(crate) state: Option<String>,
    error: Option<String>,
    description: Option<String>,
}

impl Callback {
    /// The redirect URL, or just its query.
    pub(crate) fn parse(callback: &str) -> Self {
        let query = callback
            .split_once('?')
            .map_or(callback, |(_, query)| query);
        let query = query.split('#').next().unwrap_or_default();
        let mut parsed = Self {
            code: None,
            state: None,
            error: None,
            description: None,
        };
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut parsed.code,
                "state" => &mut parsed.state,
                "error" => &mut parsed.error,
                "error_description" => &mut parsed.description,
                _ => continue,
            };
            *slot = Some(value.into_owned());
        }
        parsed
    }

    /// The code; a refusal on the consent page, or neither, is an error. Check `state` first.
    pub(crate) fn code(self) -> Result<String> {
        if let Some(error) = self.error {
            return Err(Error::AccessDenied {
                error,
                description: self.description,
            });
        }
        self.code.ok_or_else(|| {
            Error::config_kind(
                ConfigErrorKind::Missing,
                "the callback has neither a code nor an error",
            )
        })
    }
}

/// The S256 `code_challenge` of `verifier`: base64url (no padding) of its SHA-256.
pub(crate) fn pkce_challenge(verifier: &CodeVerifier) -> String {
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.secret().as_bytes());
    <base64ct::Base64UrlUnpadded as base64ct::Encoding>::encode_string(digest.as_ref())
}

pub(crate) fn random_state() -> String {
    let mut bytes = [0u8; 32];
    // The system generator failing leaves no safe state to use: fail loudly.
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator failed");
    <base64ct::Base64UrlUnpadded as base64ct::Encoding>::encode_string(&bytes)
}

impl CachedAuth<OAuthConfig> {
    /// With default options: Box's URLs, memory storage, a 60 s refresh margin.
    pub fn new(config: OAuthConfig) -> Result<Self> {
        Self::with_options(config, AuthOptions::default())
    }

    /// With `options` (session, storage, margin, clock). Tokens already in the storage are used.
    pub fn with_options(config: OAuthConfig, options: AuthOptions) -> Result<Self> {
        Self::from_source(config, options)
    }

    /// The consent page URL for `options`, and the `state` to check when Box redirects back.
    pub fn authorize_url(&self, options: AuthorizeOptions) -> AuthorizationRequest {
        let state = options.state.unwrap_or_else(random_state);
        let mut args = AuthorizeUserArgs::new(self.config().client_id.clone()).state(state.clone());
        args.redirect_uri = options.redirect_uri;
        args.scope = options.scope;
        let code_verifier = options.pkce.then(|| CodeVerifier::new(random_state()));
        if let Some(verifier) = &code_verifier {
            args = args.pkce(verifier);
        }
        AuthorizationRequest {
            url: self.tokens().authorization_manager().authorize_url(&args),
            state,
            code_verifier,
        }
    }

    /// Exchanges an authorization code (valid 30 s) for tokens, and stores them.
    pub async fn exchange_code(
        &self,
        code: impl Into<AuthorizationCode>,
    ) -> Result<Arc<StoredToken>> {
        self.exchange_code_with_verifier(code, None).await
    }

    /// [`exchange_code`](Self::exchange_code) with the PKCE verifier of the authorization URL's
    /// challenge ([`AuthorizationRequest::code_verifier`]).
    pub async fn exchange_code_with_verifier(
        &self,
        code: impl Into<AuthorizationCode>,
        verifier: Option<&CodeVerifier>,
    ) -> Result<Arc<StoredToken>> {
        let config = self.config();
        let mut args = RequestAccessTokenArgs::authorization_code(
            config.client_id.clone(),
            config.client_secret.clone(),
            code,
        );
        args.code_verifier = verifier.cloned();
        let token = self
            .tokens()
            .authorization_manager()
            .request_access_token(args)
            .await?;
        self.tokens().set(token).await
    }

    /// Finishes a login from the callback: `callback` is the redirect URL or just its query. Checks
    /// `state`, reports a refusal, and exchanges the code.
    pub async fn complete_authorization(
        &self,
        request: &AuthorizationRequest,
        callback: &str,
    ) -> Result<Arc<StoredToken>> {
        let callback = Callback::parse(callback);
        if !callback
            .state
            .as_deref()
            .is_some_and(|s| request.verify_state(s))
        {
            return Err(Error::StateMismatch);
        }
        let code = callback.code()?;
        self.exchange_code_with_verifier(code, request.code_verifier())
            .await
    }

    /// The configuration.
    pub fn config(&self) -> &OAuthConfig {
        self.source()
    }
}
