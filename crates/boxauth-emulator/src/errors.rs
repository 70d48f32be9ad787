//! Every error the token and revoke endpoints give, in one table, with Box's exact `error`,
//! `error_description` and status (reference `BOX-OAUTH2-BEHAVIOUR.md` §6).
//!
//! Provenance: **D** documented by Box, **O** observed in Box's answers, **I** inferred (Box documents
//! no string for that case; the emulator's choice, kept close to Box's wording).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A refusal of `/oauth2/token` or `/oauth2/revoke`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BoxError {
    /// Wrong `client_id` or `client_secret`.
    InvalidClient,
    /// JWT/CCG app not authorized in the enterprise's Admin Console.
    AppNotAuthorized,
    /// CCG: `box_subject_type` missing or not allowed.
    SubjectTypeUnauthorized,
    /// The grant does not match the app's authentication method.
    GrantTypeUnauthorized,
    /// Missing or unknown `grant_type`, or a required parameter missing.
    InvalidGrantType,
    /// A user token asked for while "Generate user access tokens" is off.
    UserTokenNotAllowed,
    /// An authorization code older than 30 s, or already used.
    CodeExpired,
    /// An unknown authorization code, or one issued to another client.
    CodeUnknown,
    /// An unknown or revoked refresh token.
    RefreshTokenInvalid,
    /// An expired or already used refresh token.
    RefreshTokenExpired,
    /// CCG credentials or subject not allowed.
    GrantCredentialsInvalid,
    /// Bad, unknown or non-string `sub`, or `sub` not matching `box_sub_type`.
    SubClaim,
    /// `iss` is not the client ID.
    IssClaim,
    /// `aud` is not `https://api.box.com/oauth2/token`.
    AudClaim,
    /// `jti` missing, of the wrong length, or already used.
    JtiClaim,
    /// `exp` more than 60 s after the issue time.
    ExpTooFar,
    /// `exp` in the past.
    ExpPassed,
    /// `nbf` in the future.
    NbfClaim,
    /// `kid` missing or not a key of the app.
    KidInvalid,
    /// The signature does not verify, or the algorithm is not RS256/RS384/RS512.
    SignatureInvalid,
    /// The assertion is not a JWT at all.
    MalformedAssertion,
    /// A JWT app without any public key.
    NoPublicKeys,
    /// Token exchange: the resource is not visible to the subject token's user.
    TargetResourceInvalid,
    /// Token exchange: `resource` and `box_shared_link` together.
    ResourceAndSharedLink,
    /// Token exchange: `subject_token_type` is not the access-token URN.
    SubjectTokenTypeInvalid,
    /// Token exchange: the subject token is unknown, expired or revoked.
    SubjectTokenInvalid,
    /// Token exchange: the annotator's `actor_token` is not acceptable.
    ActorTokenInvalid,
    /// Token exchange: a scope the subject token does not hold (401 per Box's spec).
    ScopeNotHeld,
    /// PKCE: the code was issued for a `code_challenge` and no `code_verifier` came with it.
    CodeVerifierMissing,
    /// PKCE: the `code_verifier` does not match the code's `code_challenge`.
    CodeVerifierInvalid,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorRow {
    /// The HTTP status.
    pub status: u16,
    /// The `error` field.
    pub error: &'static str,
    /// The `error_description` field.
    pub description: &'static str,
    /// `D`, `O` or `I` (see the module docs).
    pub provenance: char,
}

const fn row(
    status: u16,
    error: &'static str,
    description: &'static str,
    provenance: char,
) -> ErrorRow {
    ErrorRow {
        status,
        error,
        description,
        provenance,
    }
}

impl BoxError {
    /// The status, fields and provenance of this error.
    #[rustfmt::skip]
    pub const fn row(self) -> ErrorRow {
        use BoxError::*;
        match self {
            InvalidClient =>           row(400, "invalid_client", "The client credentials are invalid", 'D'),
            AppNotAuthorized =>        row(400, "unauthorized_client", "This app is not authorized by the enterprise admin", 'D'),
            SubjectTypeUnauthorized => row(400, "unauthorized_client", "The \"box_subject_type\" value is unauthorized for this client_id", 'O'),
            GrantTypeUnauthorized =>   row(400, "invalid_request", "The grant type is unauthorized for this client_id", 'D'),
            InvalidGrantType =>        row(400, "invalid_request", "Invalid grant_type parameter or parameter missing", 'D'),
            UserTokenNotAllowed =>     row(400, "invalid_request", "Cannot obtain user token based on the enterprise configuration for your app", 'D'),
            CodeExpired =>             row(400, "invalid_grant", "The authorization code has expired", 'D'),
            CodeUnknown =>             row(400, "invalid_grant", "Auth code doesn't exist or is invalid for the client", 'O'),
            RefreshTokenInvalid =>     row(400, "invalid_grant", "Invalid refresh token", 'D'),
            RefreshTokenExpired =>     row(400, "invalid_grant", "Refresh token has expired", 'O'),
            GrantCredentialsInvalid => row(400, "invalid_grant", "Grant credentials are invalid", 'D'),
            SubClaim =>                row(400, "invalid_grant", "Please check the 'sub' claim. The 'sub' specified is invalid.", 'D'),
            IssClaim =>                row(400, "invalid_grant", "Please check the 'iss' claim.", 'D'),
            AudClaim =>                row(400, "invalid_grant", "Please check the 'aud' claim.", 'I'),
            JtiClaim =>                row(400, "invalid_grant", "Please check the 'jti' claim. A unique 'jti' value is required.", 'D'),
            ExpTooFar =>               row(400, "invalid_grant", "Please check the 'exp' claim. The 'exp' value exceeds the maximum value of 60 seconds beyond the issue time.", 'O'),
            ExpPassed =>               row(400, "invalid_grant", "Current date time must be before the expiration date time listed in the 'exp' claim.", 'D'),
            NbfClaim =>                row(400, "invalid_grant", "Please check the 'nbf' claim.", 'I'),
            KidInvalid =>              row(400, "invalid_grant", "\"kid\" invalid, unable to lookup correct key", 'D'),
            SignatureInvalid =>        row(400, "invalid_grant", "Signature verification error. The public key identified by \"kid\" must correspond to the private key used for signing.", 'D'),
            MalformedAssertion =>      row(400, "invalid_grant", "Please check the assertion. It is not a valid JWT.", 'I'),
            NoPublicKeys =>            row(400, "invalid_grant", "This app is not configured properly. No public key(s) added", 'O'),
            TargetResourceInvalid =>   row(400, "invalid_resource", "The target resource is invalid.", 'O'),
            ResourceAndSharedLink =>   row(400, "invalid_request", "Only one of resource and box_shared_link can be given", 'I'),
            SubjectTokenTypeInvalid => row(400, "invalid_request", "Invalid subject_token_type parameter", 'I'),
            SubjectTokenInvalid =>     row(400, "invalid_grant", "The subject token is invalid", 'I'),
            ActorTokenInvalid =>       row(400, "invalid_grant", "Please check the actor token", 'I'),
            ScopeNotHeld =>            row(401, "invalid_grant", "The subject token does not hold all the requested scopes", 'I'),
            CodeVerifierMissing =>     row(400, "invalid_grant", "The code_verifier is missing: the authorization request sent a code_challenge", 'I'),
            CodeVerifierInvalid =>     row(400, "invalid_grant", "The code_verifier does not match the code_challenge", 'I'),
        }
    }

    /// Every error, for tests and documentation.
    pub const ALL: &'static [BoxError] = &[
        Self::InvalidClient,
        Self::AppNotAuthorized,
        Self::SubjectTypeUnauthorized,
        Self::GrantTypeUnauthorized,
        Self::InvalidGrantType,
        Self::UserTokenNotAllowed,
        Self::CodeExpired,
        Self::CodeUnknown,
        Self::RefreshTokenInvalid,
        Self::RefreshTokenExpired,
        Self::GrantCredentialsInvalid,
        Self::SubClaim,
        Self::IssClaim,
        Self::AudClaim,
        Self::JtiClaim,
        Self::ExpTooFar,
        Self::ExpPassed,
        Self::NbfClaim,
        Self::KidInvalid,
        Self::SignatureInvalid,
        Self::MalformedAssertion,
        Self::NoPublicKeys,
        Self::TargetResourceInvalid,
        Self::ResourceAndSharedLink,
        Self::SubjectTokenTypeInvalid,
        Self::SubjectTokenInvalid,
        Self::ActorTokenInvalid,
        Self::ScopeNotHeld,
        Self::CodeVerifierMissing,
        Self::CodeVerifierInvalid,
    ];
}

impl IntoResponse for BoxError {
    fn into_response(self) -> Response {
        let row = self.row();
        let body = serde_json::json!({ "error": row.error, "error_description": row.description });
        let status = StatusCode::from_u16(row.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = (status, axum::Json(body)).into_response();
        no_store(&mut response);
        // For the request log: what was refused, and why.
        response.extensions_mut().insert(row);
        response
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache`, as Box sends on token responses.
pub(crate) fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_row_with_a_known_error_code() {
        let known = [
            "invalid_client",
            "unauthorized_client",
            "invalid_request",
            "invalid_grant",
            "invalid_resource",
        ];
        for error in BoxError::ALL {
            let row = error.row();
            assert!(known.contains(&row.error), "{error:?}");
            assert!(matches!(row.provenance, 'D' | 'O' | 'I'));
            // Box never uses these names; the emulator must not either (reference §6).
            assert!(!matches!(
                row.error,
                "unsupported_grant_type" | "invalid_scope"
            ));
        }
    }
}
