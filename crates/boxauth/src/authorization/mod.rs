//! Box's `AuthorizationManager`: the four operations over Box's OAuth 2.0 endpoints.

mod types;

use reqwest::Method;

pub use types::{
    AuthorizeUserArgs, AuthorizeUserResponseType, ExtraHeaders, RefreshAccessTokenArgs,
    RefreshAccessTokenGrantType, RequestAccessTokenActorTokenType, RequestAccessTokenArgs,
    RequestAccessTokenBoxSubjectType, RequestAccessTokenGrantType,
    RequestAccessTokenSubjectTokenType, RevokeAccessTokenArgs,
};

use crate::error::Result;
use crate::network::form::{Form, encode_pairs};
use crate::network::{
    FORM_CONTENT_TYPE, JSON_CONTENT_TYPE, NetworkSession, Outgoing, parse_json_body,
};
use crate::schemas::AccessToken;
use crate::secret::{ClientSecret, Token};

/// The four operations of Box's `AuthorizationManager`, wire-compatible with Box's official SDKs:
/// the same URLs, form fields, field order and encoding.
///
/// ```no_run
/// # async fn run() -> boxauth::Result<()> {
/// use boxauth::{AuthorizationManager, NetworkSession, RequestAccessTokenArgs};
/// use boxauth::RequestAccessTokenBoxSubjectType::Enterprise;
///
/// let manager = AuthorizationManager::new(NetworkSession::new()?);
/// let token = manager
///     .request_access_token(RequestAccessTokenArgs::client_credentials(
///         "ly1nj6n11vionaie65emwzk575hnnmrk",
///         "hOzsTeFlT6ko0dme22uGbQal04SBPYc1",
///         Enterprise,
///         "899905961",
///     ))
///     .await?;
/// println!("expires in {:?} s", token.expires_in);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AuthorizationManager {
    session: NetworkSession,
}

impl AuthorizationManager {
    /// A manager sending through `session`.
    pub fn new(session: NetworkSession) -> Self {
        Self { session }
    }

    /// The session requests go through.
    pub fn network_session(&self) -> &NetworkSession {
        &self.session
    }

    /// The URL of Box's consent page for `args`: send the user's browser there. Nothing is sent.
    ///
    /// The query is encoded exactly as Box's SDK encodes it:
    /// `{oauth2_url}/authorize?response_type=code&client_id=…&redirect_uri=…&state=…&scope=…`.
    pub fn authorize_url(&self, args: &AuthorizeUserArgs) -> String {
        let query = encode_pairs([
            ("response_type", Some(args.response_type.as_str())),
            ("client_id", Some(args.client_id.as_str())),
            ("redirect_uri", args.redirect_uri.as_deref()),
            ("state", args.state.as_deref()),
            ("scope", args.scope.as_deref()),
            ("code_challenge", args.code_challenge.as_deref()),
            (
                "code_challenge_method",
                args.code_challenge_method.as_deref(),
            ),
        ]);
        format!("{}?{query}", self.session.urls().authorize_url())
    }

    /// `GET {oauth2_url}/authorize`, as Box's SDK does; the answer (an HTML page, or a redirect to
    /// Box's login) is discarded, and its HTTP status returned (redirects followed). To send a
    /// user to Box, use [`authorize_url`](Self::authorize_url).
    pub async fn authorize_user(&self, args: AuthorizeUserArgs) -> Result<u16> {
        let url = self.authorize_url(&args);
        let answer = self
            .session
            .send(Outgoing {
                method: Method::GET,
                url,
                form: None,
                // Box's SDK declares its default content type even on this bodyless GET.
                content_type: Some(JSON_CONTENT_TYPE),
                extra_headers: &args.extra_headers.0,
                bearer: None,
            })
            .await?;
        Ok(answer.status.as_u16())
    }

    /// `POST {base_url}/oauth2/token`, any grant. Returns Box's `AccessToken`.
    pub async fn request_access_token(&self, args: RequestAccessTokenArgs) -> Result<AccessToken> {
        let form = Form::new()
            .field("grant_type", Some(args.grant_type.as_str()))
            .field("client_id", args.client_id.as_deref())
            .field(
                "client_secret",
                args.client_secret.as_ref().map(ClientSecret::secret),
            )
            .field("code", args.code.as_ref().map(|code| code.secret()))
            .field(
                "refresh_token",
                args.refresh_token.as_ref().map(Token::secret),
            )
            .field("assertion", args.assertion.as_ref().map(|a| a.secret()))
            .field(
                "subject_token",
                args.subject_token.as_ref().map(Token::secret),
            )
            .field(
                "subject_token_type",
                args.subject_token_type.as_ref().map(|t| t.as_str()),
            )
            .field("actor_token", args.actor_token.as_ref().map(|a| a.secret()))
            .field(
                "actor_token_type",
                args.actor_token_type.as_ref().map(|t| t.as_str()),
            )
            .field("scope", args.scope.as_deref())
            .field("resource", args.resource.as_deref())
            .field(
                "box_subject_type",
                args.box_subject_type.as_ref().map(|t| t.as_str()),
            )
            .field("box_subject_id", args.box_subject_id.as_deref())
            .field("box_shared_link", args.box_shared_link.as_deref())
            .field(
                "code_verifier",
                args.code_verifier.as_ref().map(|v| v.secret()),
            );
        self.post_token(form, &args.extra_headers).await
    }

    /// `POST {base_url}/oauth2/token` with `grant_type=refresh_token`. The refresh token is spent:
    /// store the new one from the answer before anything else.
    pub async fn refresh_access_token(&self, args: RefreshAccessTokenArgs) -> Result<AccessToken> {
        let form = Form::new()
            .field("grant_type", Some(args.grant_type.as_str()))
            .field("client_id", Some(&args.client_id))
            .field("client_secret", Some(args.client_secret.secret()))
            .field("refresh_token", Some(args.refresh_token.secret()));
        self.post_token(form, &args.extra_headers).await
    }

    /// `POST {base_url}/oauth2/revoke`. Revoking either token of a pair revokes both.
    pub async fn revoke_access_token(&self, args: RevokeAccessTokenArgs) -> Result<()> {
        let form = Form::new()
            .field("client_id", args.client_id.as_deref())
            .field(
                "client_secret",
                args.client_secret.as_ref().map(ClientSecret::secret),
            )
            .field("token", args.token.as_ref().map(Token::secret));
        self.session
            .send(Outgoing {
                method: Method::POST,
                url: self.session.urls().revoke_url(),
                form: Some(form.into_body()),
                content_type: Some(FORM_CONTENT_TYPE),
                extra_headers: &args.extra_headers.0,
                bearer: None,
            })
            .await?;
        Ok(())
    }

    async fn post_token(&self, form: Form, extra_headers: &ExtraHeaders) -> Result<AccessToken> {
        let incoming = self
            .session
            .send(Outgoing {
                method: Method::POST,
                url: self.session.urls().token_url(),
                form: Some(form.into_body()),
                content_type: Some(FORM_CONTENT_TYPE),
                extra_headers: &extra_headers.0,
                bearer: None,
            })
            .await?;
        let token: AccessToken = parse_json_body(&incoming)?;
        // A token is shown and sent in headers: only what Box's tokens are made of is accepted.
        for (field, value) in [
            ("access_token", token.access_token.as_ref()),
            ("refresh_token", token.refresh_token.as_ref()),
        ] {
            if value.is_some_and(|v| !v.secret().bytes().all(|b| b.is_ascii_graphic())) {
                return Err(crate::network::unprintable_token(&incoming, field));
            }
        }
        Ok(token)
    }
}
