//! What the emulator does beyond its error strings ([`BoxError`](crate::BoxError) has those), and
//! how it knows Box does the same: **D** documented by Box, **O** observed (in Box's answers or in
//! real clients that work against Box), **I** inferred (Box documents nothing; the emulator's choice,
//! made so that real clients behave as they do against Box). The README lists the inferred rows.

/// One behaviour and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Behaviour {
    /// A short name.
    pub topic: &'static str,
    /// What the emulator does.
    pub emulator: &'static str,
    /// `D`, `O` or `I` (see the module docs).
    pub provenance: char,
    /// Why: the source, or what the inference rests on.
    pub basis: &'static str,
}

const fn row(
    topic: &'static str,
    emulator: &'static str,
    provenance: char,
    basis: &'static str,
) -> Behaviour {
    Behaviour {
        topic,
        emulator,
        provenance,
        basis,
    }
}

/// Every behaviour worth knowing the provenance of.
#[rustfmt::skip]
pub const BEHAVIOURS: &[Behaviour] = &[
    row("revoke success body",
        "200 with an empty body",
        'D', "Box's API reference: \"an empty response\". Box's legacy Python SDK 3.x and simple-oauth2 parse JSON there and fail on it; they fail the same way against Box"),
    row("revoke of an unknown token",
        "200, nothing revoked",
        'I', "undocumented; RFC 7009 §2.2 says 200"),
    row("JWT assertion without kid",
        "verified against each of the app's registered keys; a kid naming no key keeps Box's \"kid\" error",
        'I', "Box's generated Node/TypeScript SDKs sign with the header {\"alg\":\"RS256\"} alone (box-node-sdk 10.12 on the wire) and get tokens from Box in their CI"),
    row("JWT exp leeway",
        "an exp passed by at most jwt_leeway_secs (default 5) still counts; the 60 s maximum has no leeway",
        'I', "Box documents the 60 s maximum only; clients' clocks drift"),
    row("CORS headers",
        "for an origin in the app's cors_origins: Access-Control-Allow-Origin echoed, POST and OPTIONS, the request headers SDKs send, Vary: Origin; a preflight from another origin gets 403",
        'I', "Box has a per-app \"CORS Domains\" setting and answers browsers from them; the exact headers are not documented"),
    row("users/me fields",
        "the standard fields unless fields= names others; unknown names ignored; values the world does not hold are Box's defaults for a new account",
        'D', "Box's API reference (fields query parameter, User--Full); the default values are inferred"),
    row("users/me As-User",
        "allowed for an admin or co-admin token, and a service account's when its app may perform actions as users (as_user); the user must be in the caller's enterprise",
        'D', "Box's As-User guide; the emulator's exact refusal statuses are inferred"),
    row("expired authorization code",
        "answered \"The authorization code has expired\" for ten minutes after its 30 seconds, then forgotten (\"Auth code doesn't exist or is invalid for the client\")",
        'I', "Box documents the expired error, not how long it remembers an expired code"),
    row("expired refresh token",
        "answered \"Refresh token has expired\" for an hour after its 60 days, then forgotten (\"Invalid refresh token\")",
        'I', "Box documents the expired error, not how long it remembers an expired token"),
    row("token exchange credentials",
        "no client_id or client_secret needed: the subject token is the proof",
        'O', "Box's downscoping samples send none and get tokens"),
    row("multipart/form-data token bodies",
        "read like urlencoded ones",
        'O', "curl -F against Box's token endpoint gets tokens"),
    row("/oauth2/token/ with a trailing slash",
        "answered as /oauth2/token",
        'O', "clients seen adding it work against Box"),
    row("App Tokens on the API",
        "an App Token app's primary and secondary tokens are bearer tokens for its service account, and subject tokens for downscoping, until revoked or rotated",
        'D', "Box's App Token guide (tokens generated in the Developer Console, a primary and a secondary, acting as the app's service account) and the token-exchange spec (\"an app token\" as subject_token)"),
    row("App Token rotation",
        "a revoked or regenerated App Token stops working at once, and so does every token downscoped from it",
        'I', "Box documents revoking and regenerating in the Developer Console, not when the old token stops working nor what happens to tokens downscoped from it"),
    row("webhook deliveries",
        "POST of Box's webhook_event JSON with BOX-DELIVERY-ID, BOX-DELIVERY-TIMESTAMP (UTC, +00:00, the emulator's clock), BOX-SIGNATURE-VERSION 1, BOX-SIGNATURE-ALGORITHM HmacSHA256 and a signature per key given, User-Agent Box-WH-Client/0.1; one attempt, no retries",
        'I', "the headers and the signature are Box's documented v2 signature (checked against Box's Python SDK validate_message); Box's timestamp offset, user agent and retry schedule are not documented"),
    row("PKCE",
        "a code_challenge (S256, or plain when no method is given; 43 to 128 unreserved characters) is bound to the code; the exchange must send a code_verifier that answers it, else invalid_grant (missing and wrong told apart); a wrong verifier does not spend the code; a verifier sent for a code without a challenge is ignored; a bad challenge or another method is an invalid_request error page",
        'I', "Box's docs do not describe PKCE; the Box CLI's login sends code_challenge/code_verifier and gets tokens. The rules and error codes are RFC 7636's (§4.2, §4.4.1, §4.6); the descriptions are the emulator's"),
    row("insufficient_scope",
        "GET /2.0/webhooks needs the manage_webhook scope; a token without it gets 403 with the API error code insufficient_scope and WWW-Authenticate error=\"insufficient_scope\"; a token keeps the scopes it was issued with when the app's scopes change",
        'I', "Box documents 403 insufficient_scope for a missing scope and tells CLI users to get a new token after changing scopes; the WWW-Authenticate challenge is RFC 6750's, not documented by Box"),
    row("consent page",
        "one plain HTML page: pick a user by login, approve or deny (no password); CSRF token, framing forbidden",
        'I', "Box's real page is a login and consent flow on account.box.com that no client parses; only its redirect matters"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_has_a_provenance_and_a_basis() {
        for b in BEHAVIOURS {
            assert!(matches!(b.provenance, 'D' | 'O' | 'I'), "{}", b.topic);
            assert!(!b.basis.is_empty() && !b.emulator.is_empty(), "{}", b.topic);
        }
    }

    #[test]
    fn the_readme_lists_every_inferred_behaviour() {
        let readme = include_str!("../../../README.md");
        for b in BEHAVIOURS.iter().filter(|b| b.provenance == 'I') {
            assert!(
                readme.contains(&format!("**{}**", b.topic)),
                "README.md's emulator section should list the inferred behaviour {:?}",
                b.topic
            );
        }
    }
}
