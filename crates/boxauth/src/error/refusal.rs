//! Box's refusals of the token endpoint, by cause: one place that reads Box's documented
//! `error` and `error_description` pairs (reference `BOX-OAUTH2-BEHAVIOUR.md` §6), so callers
//! match a variant instead of Box's text.

use super::ApiError;

/// Why Box refused a token request, as far as its answer tells ([`ApiError::refusal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenRefusal {
    /// `invalid_client`: the client ID or client secret is wrong.
    InvalidClient,
    /// `unauthorized_client` "This app is not authorized by the enterprise admin" (JWT, CCG).
    AppNotAuthorized,
    /// `unauthorized_client` about `box_subject_type` (CCG).
    SubjectTypeUnauthorized,
    /// `invalid_request` "The grant type is unauthorized for this client_id": the grant does not
    /// match the app's authentication method.
    GrantTypeUnauthorized,
    /// `invalid_request` about `grant_type` or a missing parameter.
    InvalidGrantType,
    /// `invalid_request` "Cannot obtain user token…": "Generate user access tokens" is off.
    UserTokensNotEnabled,
    /// `invalid_grant` "Grant credentials are invalid" (CCG): a wrong client ID and secret
    /// pair, a subject the app may not act as, a disabled setting, or the app not authorized.
    GrantCredentialsInvalid,
    /// `invalid_grant` about the JWT `sub` claim: no such enterprise or user for this app.
    Subject,
    /// `invalid_grant` about the JWT `iss` claim: it is not the app's client ID.
    Issuer,
    /// `invalid_grant` about the JWT `exp` claim: the clocks disagree.
    Clock,
    /// `invalid_grant` about the JWT `jti` claim: reused, or refused for the time it came with.
    JwtId,
    /// About `kid` or the signature: the key ID or the private key is not the app's.
    KeyMismatch,
    /// "No public key(s) added": a JWT app with no public key.
    NoPublicKeys,
    /// `invalid_grant` about an authorization code: expired, used, or unknown.
    AuthorizationCode,
    /// `invalid_grant` about a refresh token: used, revoked or expired.
    RefreshToken,
    /// `invalid_token`: the access token is invalid, expired or revoked.
    InvalidToken,
}

impl ApiError {
    /// Why Box refused, when its answer is one Box documents (or boxauth's emulator gives);
    /// `None` for anything else, including answers of the `/2.0` API.
    pub fn refusal(&self) -> Option<TokenRefusal> {
        use TokenRefusal::*;
        let description = self.error_description.as_deref().unwrap_or_default();
        // Box's reference gives no `error` for these two (observed only by their text).
        if description.contains("No public key") {
            return Some(NoPublicKeys);
        }
        if description.contains("OpenSSL unable to verify data") {
            return Some(KeyMismatch);
        }
        Some(match self.error.as_deref()? {
            "invalid_client" => InvalidClient,
            "unauthorized_client" if description.contains("box_subject_type") => {
                SubjectTypeUnauthorized
            }
            "unauthorized_client" => AppNotAuthorized,
            "invalid_request" if description.contains("grant type is unauthorized") => {
                GrantTypeUnauthorized
            }
            "invalid_request" if description.contains("grant_type") => InvalidGrantType,
            "invalid_request" if description.contains("user token") => UserTokensNotEnabled,
            "invalid_grant"
                if description.contains("authorization code")
                    || description.contains("Auth code") =>
            {
                AuthorizationCode
            }
            "invalid_grant" if description.contains("efresh token") => RefreshToken,
            "invalid_grant"
                if description.contains("'exp'") || description.contains("expiration date") =>
            {
                Clock
            }
            "invalid_grant" if description.contains("'jti'") => JwtId,
            "invalid_grant" if description.contains("kid") || description.contains("Signature") => {
                KeyMismatch
            }
            "invalid_grant" if description.contains("'sub'") => Subject,
            "invalid_grant" if description.contains("'iss'") => Issuer,
            "invalid_grant" if description.contains("Grant credentials are invalid") => {
                GrantCredentialsInvalid
            }
            "invalid_token" => InvalidToken,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::TokenRefusal::{self, *};
    use crate::ApiError;

    fn refusal(error: Option<&str>, description: &str) -> Option<TokenRefusal> {
        ApiError {
            status: 400,
            error: error.map(Into::into),
            error_description: Some(description.into()),
            request_id: None,
            retry_after: None,
            date: None,
            raw_body: String::new(),
        }
        .refusal()
    }

    /// Every refusal of the reference's §6 table, with Box's exact strings.
    #[test]
    fn every_documented_refusal_is_classified() {
        let table = [
            (
                "invalid_client",
                "The client credentials are invalid",
                InvalidClient,
            ),
            (
                "invalid_client",
                "The client credentials are not valid",
                InvalidClient,
            ),
            (
                "unauthorized_client",
                "This app is not authorized by the enterprise admin",
                AppNotAuthorized,
            ),
            (
                "unauthorized_client",
                "The \"box_subject_type\" value is unauthorized for this client_id",
                SubjectTypeUnauthorized,
            ),
            (
                "invalid_request",
                "The grant type is unauthorized for this client_id",
                GrantTypeUnauthorized,
            ),
            (
                "invalid_request",
                "Invalid grant_type parameter or parameter missing",
                InvalidGrantType,
            ),
            (
                "invalid_request",
                "Cannot obtain user token based on the enterprise configuration for your app",
                UserTokensNotEnabled,
            ),
            (
                "invalid_grant",
                "The authorization code has expired",
                AuthorizationCode,
            ),
            (
                "invalid_grant",
                "Auth code doesn't exist or is invalid for the client",
                AuthorizationCode,
            ),
            ("invalid_grant", "Invalid refresh token", RefreshToken),
            ("invalid_grant", "Refresh token has expired", RefreshToken),
            (
                "invalid_grant",
                "Grant credentials are invalid",
                GrantCredentialsInvalid,
            ),
            (
                "invalid_grant",
                "Please check the 'sub' claim. The 'sub' specified is invalid.",
                Subject,
            ),
            ("invalid_grant", "Please check the 'iss' claim.", Issuer),
            (
                "invalid_grant",
                "Please check the 'jti' claim. A unique 'jti' value is required.",
                JwtId,
            ),
            (
                "invalid_grant",
                "Please check the 'exp' claim. The 'exp' value exceeds the maximum value of 60 seconds beyond the issue time.",
                Clock,
            ),
            ("invalid_grant", "Please check the 'exp' claim.", Clock),
            (
                "invalid_grant",
                "Current date time must be before the expiration date time listed in the 'exp' claim.",
                Clock,
            ),
            (
                "invalid_grant",
                "\"kid\" invalid, unable to lookup correct key",
                KeyMismatch,
            ),
            (
                "invalid_grant",
                "Signature verification error. The public key identified by \"kid\" must correspond to the private key used for signing.",
                KeyMismatch,
            ),
            (
                "invalid_token",
                "The access token provided is invalid.",
                InvalidToken,
            ),
        ];
        for (error, description, expected) in table {
            assert_eq!(
                refusal(Some(error), description),
                Some(expected),
                "{description}"
            );
        }
    }

    #[test]
    fn refusals_known_only_by_their_text_are_classified_whatever_the_error_field() {
        for error in [None, Some("invalid_grant"), Some("invalid_request")] {
            assert_eq!(
                refusal(
                    error,
                    "This app is not configured properly. No public key(s) added"
                ),
                Some(NoPublicKeys)
            );
            assert_eq!(
                refusal(error, "OpenSSL unable to verify data: error:0909006C"),
                Some(KeyMismatch)
            );
        }
    }

    #[test]
    fn anything_else_is_not_a_refusal() {
        assert_eq!(refusal(None, "Grant credentials are invalid"), None);
        assert_eq!(refusal(Some("invalid_grant"), "something new"), None);
        assert_eq!(
            refusal(Some("invalid_resource"), "The target resource is invalid."),
            None
        );
        // `/2.0` API errors: their `code` and `message`.
        assert_eq!(refusal(Some("not_found"), "Not Found"), None);
        assert_eq!(
            refusal(
                Some("insufficient_scope"),
                "The request requires higher privileges"
            ),
            None
        );
        assert_eq!(refusal(Some(""), ""), None);
    }

    #[test]
    fn every_refusal_has_a_hint() {
        let api = |error: &str, description: &str| ApiError {
            status: 400,
            error: Some(error.into()),
            error_description: Some(description.into()),
            request_id: None,
            retry_after: None,
            date: None,
            raw_body: String::new(),
        };
        assert!(
            api(
                "unauthorized_client",
                "This app is not authorized by the enterprise admin"
            )
            .hint()
            .is_some()
        );
        assert!(
            api("invalid_grant", "Please check the 'jti' claim.")
                .hint()
                .is_some()
        );
        assert!(
            api("invalid_grant", "Please check the 'iss' claim.")
                .hint()
                .is_some()
        );
        assert!(api("invalid_grant", "something new").hint().is_none());
    }
}
