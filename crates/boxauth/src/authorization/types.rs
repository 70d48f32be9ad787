//! The arguments and enums of the four operations, with Box's SDK names and exact wire values.

use crate::schemas::wire_enum;
use crate::secret::{Assertion, AuthorizationCode, ClientSecret, CodeVerifier, Token};

wire_enum! {
    /// `response_type` of `authorize_user`.
    AuthorizeUserResponseType {
        /// `code`.
        Code = "code",
    }
}

wire_enum! {
    /// `grant_type` of `request_access_token`.
    RequestAccessTokenGrantType {
        /// `authorization_code`: exchange the code from the OAuth 2.0 redirect.
        AuthorizationCode = "authorization_code",
        /// `refresh_token`: trade a refresh token for a new pair.
        RefreshToken = "refresh_token",
        /// `client_credentials`: Client Credentials Grant (CCG).
        ClientCredentials = "client_credentials",
        /// `urn:ietf:params:oauth:grant-type:jwt-bearer`: a signed JWT assertion (server auth).
        JwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer",
        /// `urn:ietf:params:oauth:grant-type:token-exchange`: downscoping and annotator tokens.
        TokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange",
    }
}

wire_enum! {
    /// `subject_token_type` of a token exchange.
    RequestAccessTokenSubjectTokenType {
        /// `urn:ietf:params:oauth:token-type:access_token`.
        AccessToken = "urn:ietf:params:oauth:token-type:access_token",
    }
}

wire_enum! {
    /// `actor_token_type` of a token exchange (annotator tokens).
    RequestAccessTokenActorTokenType {
        /// `urn:ietf:params:oauth:token-type:id_token`.
        IdToken = "urn:ietf:params:oauth:token-type:id_token",
    }
}

wire_enum! {
    /// `box_subject_type` of a client credentials request.
    RequestAccessTokenBoxSubjectType {
        /// `enterprise`: the app's service account in that enterprise.
        Enterprise = "enterprise",
        /// `user`: a managed user or app user.
        User = "user",
    }
}

wire_enum! {
    /// `grant_type` of `refresh_access_token`.
    RefreshAccessTokenGrantType {
        /// `refresh_token`.
        RefreshToken = "refresh_token",
    }
}

/// Headers added to one request, after the session's own. A value may be a credential, so it is
/// never shown in `Debug` or error messages.
#[derive(Clone, Default)]
pub struct ExtraHeaders(pub(crate) Vec<(String, String)>);

impl ExtraHeaders {
    /// Adds `name: value`; a later value for the same name wins.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// Whether no header was added.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for ExtraHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for ExtraHeaders {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(pairs: I) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        )
    }
}

/// Arguments of [`authorize_user`](crate::AuthorizationManager::authorize_user) and
/// [`authorize_url`](crate::AuthorizationManager::authorize_url): the query of
/// `GET {oauth2_url}/authorize`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthorizeUserArgs {
    /// Always `code`.
    pub response_type: AuthorizeUserResponseType,
    /// The app's client ID.
    pub client_id: String,
    /// Where Box sends the browser back; must match a redirect URI configured for the app.
    pub redirect_uri: Option<String>,
    /// Opaque value Box echoes on the redirect: check it there to stop CSRF.
    pub state: Option<String>,
    /// Space-separated scopes; default: every scope configured for the app.
    pub scope: Option<String>,
    /// PKCE (RFC 7636): the `code_challenge`, base64url of the SHA-256 of the verifier the
    /// code exchange sends. Not in Box's SDKs; Box takes it (the Box CLI's login sends it).
    pub code_challenge: Option<String>,
    /// PKCE: `S256` with a challenge.
    pub code_challenge_method: Option<String>,
    /// Headers added to the request (`authorize_user` only).
    pub extra_headers: ExtraHeaders,
}

impl AuthorizeUserArgs {
    /// `response_type=code` for `client_id`, nothing else set.
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            response_type: AuthorizeUserResponseType::Code,
            client_id: client_id.into(),
            redirect_uri: None,
            state: None,
            scope: None,
            code_challenge: None,
            code_challenge_method: None,
            extra_headers: ExtraHeaders::default(),
        }
    }

    /// Sets `code_challenge` to the S256 challenge of `verifier`, and `code_challenge_method`
    /// to `S256`.
    pub fn pkce(mut self, verifier: &crate::secret::CodeVerifier) -> Self {
        self.code_challenge = Some(crate::auth::oauth::pkce_challenge(verifier));
        self.code_challenge_method = Some("S256".to_owned());
        self
    }

    /// Sets `response_type`.
    pub fn response_type(mut self, value: AuthorizeUserResponseType) -> Self {
        self.response_type = value;
        self
    }

    /// Sets `redirect_uri`.
    pub fn redirect_uri(mut self, value: impl Into<String>) -> Self {
        self.redirect_uri = Some(value.into());
        self
    }

    /// Sets `state`.
    pub fn state(mut self, value: impl Into<String>) -> Self {
        self.state = Some(value.into());
        self
    }

    /// Sets `scope` (space-separated).
    pub fn scope(mut self, value: impl Into<String>) -> Self {
        self.scope = Some(value.into());
        self
    }

    /// Adds a header to the request.
    pub fn extra_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.insert(name, value);
        self
    }
}

/// Arguments of [`request_access_token`](crate::AuthorizationManager::request_access_token): Box's
/// `PostOAuth2Token`. Which fields a grant needs is on each constructor.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestAccessTokenArgs {
    /// The grant.
    pub grant_type: RequestAccessTokenGrantType,
    /// The app's client ID.
    pub client_id: Option<String>,
    /// The app's client secret.
    pub client_secret: Option<ClientSecret>,
    /// The authorization code (`authorization_code`).
    pub code: Option<AuthorizationCode>,
    /// The refresh token (`refresh_token`).
    pub refresh_token: Option<Token>,
    /// The signed JWT (`jwt-bearer`).
    pub assertion: Option<Assertion>,
    /// The token to downscope (`token-exchange`).
    pub subject_token: Option<Token>,
    /// The type of `subject_token`.
    pub subject_token_type: Option<RequestAccessTokenSubjectTokenType>,
    /// The JWT naming the annotator (`token-exchange` for annotator tokens).
    pub actor_token: Option<Assertion>,
    /// The type of `actor_token`.
    pub actor_token_type: Option<RequestAccessTokenActorTokenType>,
    /// Space-separated scopes of the new token (`token-exchange`).
    pub scope: Option<String>,
    /// Full API URL of the file or folder the new token is limited to (`token-exchange`).
    pub resource: Option<String>,
    /// `enterprise` or `user` (`client_credentials`).
    pub box_subject_type: Option<RequestAccessTokenBoxSubjectType>,
    /// The enterprise ID or user ID (`client_credentials`).
    pub box_subject_id: Option<String>,
    /// Shared link URL the new token is limited to (`token-exchange`; not with `resource`).
    pub box_shared_link: Option<String>,
    /// PKCE: the verifier of the authorization URL's `code_challenge` (`authorization_code`).
    pub code_verifier: Option<CodeVerifier>,
    /// Headers added to the request.
    pub extra_headers: ExtraHeaders,
}

macro_rules! setters {
    ($($(#[$doc:meta])* $field:ident: $ty:ty;)+) => {
        $(
            $(#[$doc])*
            pub fn $field(mut self, value: impl Into<$ty>) -> Self {
                self.$field = Some(value.into());
                self
            }
        )+
    };
}

impl RequestAccessTokenArgs {
    /// Only `grant_type` set; add the fields the grant needs with the setters.
    pub fn new(grant_type: RequestAccessTokenGrantType) -> Self {
        Self {
            grant_type,
            client_id: None,
            client_secret: None,
            code: None,
            refresh_token: None,
            assertion: None,
            subject_token: None,
            subject_token_type: None,
            actor_token: None,
            actor_token_type: None,
            scope: None,
            resource: None,
            box_subject_type: None,
            box_subject_id: None,
            box_shared_link: None,
            code_verifier: None,
            extra_headers: ExtraHeaders::default(),
        }
    }

    /// `authorization_code` with `code`, `client_id`, `client_secret`.
    pub fn authorization_code(
        client_id: impl Into<String>,
        client_secret: impl Into<ClientSecret>,
        code: impl Into<AuthorizationCode>,
    ) -> Self {
        Self::new(RequestAccessTokenGrantType::AuthorizationCode)
            .client_id(client_id)
            .client_secret(client_secret)
            .code(code)
    }

    /// `client_credentials` for a subject (the enterprise's service account, or a user).
    pub fn client_credentials(
        client_id: impl Into<String>,
        client_secret: impl Into<ClientSecret>,
        box_subject_type: RequestAccessTokenBoxSubjectType,
        box_subject_id: impl Into<String>,
    ) -> Self {
        Self::new(RequestAccessTokenGrantType::ClientCredentials)
            .client_id(client_id)
            .client_secret(client_secret)
            .box_subject_type(box_subject_type)
            .box_subject_id(box_subject_id)
    }

    /// `jwt-bearer` with a signed `assertion`, `client_id` and `client_secret`.
    pub fn jwt_bearer(
        client_id: impl Into<String>,
        client_secret: impl Into<ClientSecret>,
        assertion: impl Into<Assertion>,
    ) -> Self {
        Self::new(RequestAccessTokenGrantType::JwtBearer)
            .client_id(client_id)
            .client_secret(client_secret)
            .assertion(assertion)
    }

    /// `token-exchange` of an access token for one limited to `scope` (space-separated). Add
    /// `resource` or `box_shared_link` to limit it to one item.
    pub fn token_exchange(subject_token: impl Into<Token>, scope: impl Into<String>) -> Self {
        Self::new(RequestAccessTokenGrantType::TokenExchange)
            .subject_token(subject_token)
            .subject_token_type(RequestAccessTokenSubjectTokenType::AccessToken)
            .scope(scope)
    }

    setters! {
        /// Sets `client_id`.
        client_id: String;
        /// Sets `client_secret`.
        client_secret: ClientSecret;
        /// Sets `code`.
        code: AuthorizationCode;
        /// Sets `code_verifier` (PKCE).
        code_verifier: CodeVerifier;
        /// Sets `refresh_token`.
        refresh_token: Token;
        /// Sets `assertion`.
        assertion: Assertion;
        /// Sets `subject_token`.
        subject_token: Token;
        /// Sets `subject_token_type`.
        subject_token_type: RequestAccessTokenSubjectTokenType;
        /// Sets `actor_token`.
        actor_token: Assertion;
        /// Sets `actor_token_type`.
        actor_token_type: RequestAccessTokenActorTokenType;
        /// Sets `scope` (space-separated).
        scope: String;
        /// Sets `resource`.
        resource: String;
        /// Sets `box_subject_type`.
        box_subject_type: RequestAccessTokenBoxSubjectType;
        /// Sets `box_subject_id`.
        box_subject_id: String;
        /// Sets `box_shared_link`.
        box_shared_link: String;
    }

    /// Adds a header to the request.
    pub fn extra_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.insert(name, value);
        self
    }
}

/// Arguments of [`refresh_access_token`](crate::AuthorizationManager::refresh_access_token): Box's
/// `PostOAuth2Token--RefreshAccessToken`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RefreshAccessTokenArgs {
    /// Always `refresh_token`.
    pub grant_type: RefreshAccessTokenGrantType,
    /// The app's client ID.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: ClientSecret,
    /// The refresh token to spend (it works once).
    pub refresh_token: Token,
    /// Headers added to the request.
    pub extra_headers: ExtraHeaders,
}

impl RefreshAccessTokenArgs {
    /// All required fields; `grant_type` is `refresh_token`.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<ClientSecret>,
        refresh_token: impl Into<Token>,
    ) -> Self {
        Self {
            grant_type: RefreshAccessTokenGrantType::RefreshToken,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            refresh_token: refresh_token.into(),
            extra_headers: ExtraHeaders::default(),
        }
    }

    /// Adds a header to the request.
    pub fn extra_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.insert(name, value);
        self
    }
}

/// Arguments of [`revoke_access_token`](crate::AuthorizationManager::revoke_access_token): Box's
/// `PostOAuth2Revoke`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RevokeAccessTokenArgs {
    /// The app's client ID.
    pub client_id: Option<String>,
    /// The app's client secret.
    pub client_secret: Option<ClientSecret>,
    /// The access or refresh token to revoke; the whole pair dies.
    pub token: Option<Token>,
    /// Headers added to the request.
    pub extra_headers: ExtraHeaders,
}

impl RevokeAccessTokenArgs {
    /// `client_id`, `client_secret` and `token`, as Box's samples send them.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<ClientSecret>,
        token: impl Into<Token>,
    ) -> Self {
        Self {
            client_id: Some(client_id.into()),
            client_secret: Some(client_secret.into()),
            token: Some(token.into()),
            extra_headers: ExtraHeaders::default(),
        }
    }

    setters! {
        /// Sets `client_id`.
        client_id: String;
        /// Sets `client_secret`.
        client_secret: ClientSecret;
        /// Sets `token`.
        token: Token;
    }

    /// Adds a header to the request.
    pub fn extra_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.insert(name, value);
        self
    }
}
