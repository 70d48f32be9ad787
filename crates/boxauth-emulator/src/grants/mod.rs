//! The token endpoint's grants, one file each, and what they share.

pub(crate) mod authorization_code;
pub(crate) mod client_credentials;
pub(crate) mod jwt_bearer;
pub(crate) mod multipart;
pub(crate) mod refresh_token;
pub(crate) mod token_exchange;

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::config::{AccessLevel, App, Role};
use crate::state::{AppState, Client};

/// Form parameters, borrowed from the body where nothing needed decoding; the first occurrence of
/// a name wins.
pub(crate) struct Params<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'a> Params<'a> {
    /// An `application/x-www-form-urlencoded` body. Kept hand-written because it is measured to
    /// matter: ~210 ns for a client-credentials body against ~570 ns for `form_urlencoded`
    /// (`cargo bench -p boxauth-emulator --bench token_parts`), and the emulator's margin over 80 %
    /// of the bare-axum ceiling is that thin (bench/emulator/README.md, "Simpler inside"); a test
    /// below checks it gives what `form_urlencoded` gives.
    pub(crate) fn parse(body: &'a [u8]) -> Self {
        let mut pairs = Vec::with_capacity(8);
        // The common body is UTF-8 with nothing to decode: one pass finds the separators and
        // any '%' or '+', and every name and value is borrowed from the body (checked as UTF-8
        // once, as a whole). Otherwise each pair is decoded as the url crate does.
        if let Ok(text) = std::str::from_utf8(body) {
            let mut start = 0;
            let mut equals = None;
            let mut plain = true;
            for (at, &byte) in body.iter().enumerate() {
                match byte {
                    b'&' => {
                        push_plain(&mut pairs, text, start, equals, at);
                        start = at + 1;
                        equals = None;
                    }
                    b'=' if equals.is_none() => equals = Some(at),
                    b'%' | b'+' => {
                        plain = false;
                        break;
                    }
                    _ => {}
                }
            }
            if plain {
                push_plain(&mut pairs, text, start, equals, body.len());
                return Self(pairs);
            }
            pairs.clear();
        }
        for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            // Most values need no decoding: borrow them; decode the others.
            let plain = !pair.iter().any(|&b| b == b'%' || b == b'+');
            let split = pair.iter().position(|&b| b == b'=');
            let (name, value) = match split {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            match (plain, std::str::from_utf8(name), std::str::from_utf8(value)) {
                (true, Ok(name), Ok(value)) => {
                    pairs.push((Cow::Borrowed(name), Cow::Borrowed(value)))
                }
                _ => pairs.extend(url::form_urlencoded::parse(pair)),
            }
        }
        Self(pairs)
    }

    /// The parts of a `multipart/form-data` body with this boundary.
    pub(crate) fn parse_multipart(body: &'a [u8], boundary: &str) -> Self {
        let mut pairs = Vec::with_capacity(8);
        multipart::parse(body, boundary, &mut pairs);
        Self(pairs)
    }

    /// The value, if present and not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
            .filter(|v| !v.is_empty())
    }
}

/// The pair `text[start..end]`, split at `equals`, borrowed; nothing for an empty pair. The
/// indices are those of ASCII separators (or the ends), so they fall on character boundaries.
fn push_plain<'a>(
    pairs: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>,
    text: &'a str,
    start: usize,
    equals: Option<usize>,
    end: usize,
) {
    if start == end {
        return;
    }
    let (name, value) = match equals {
        Some(at) => (&text[start..at], &text[at + 1..end]),
        None => (&text[start..end], ""),
    };
    pairs.push((Cow::Borrowed(name), Cow::Borrowed(value)));
}

/// A successful token answer, fields in the order Box sends them.
#[derive(Serialize)]
pub(crate) struct TokenReply {
    pub(crate) access_token: Arc<str>,
    pub(crate) expires_in: i64,
    pub(crate) restricted_to: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_token: Option<Arc<str>>,
    pub(crate) token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) issued_token_type: Option<&'static str>,
}

impl TokenReply {
    /// The JSON body, in Box's field order.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        // Serialising strings, integers and JSON values cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub(crate) fn new(access_token: Arc<str>, expires_in: i64) -> Self {
        Self {
            access_token,
            expires_in,
            restricted_to: Vec::new(),
            refresh_token: None,
            token_type: "bearer",
            issued_token_type: None,
        }
    }
}

/// Why an app may not have a token for a subject.
pub(crate) enum SubjectRefusal {
    /// No such enterprise or user, or not one this app can reach at all.
    Unknown,
    /// "Generate user access tokens" is off.
    UserTokensDisabled,
    /// The access level does not cover this user.
    AccessLevel,
}

/// The user a server token for (`enterprise`, id) or (`user`, id) acts as.
pub(crate) fn resolve_subject<'s>(
    state: &'s AppState,
    client: &Client,
    app: &'s App,
    subject_type: &str,
    subject_id: &str,
) -> Result<&'s str, SubjectRefusal> {
    match subject_type {
        "enterprise" if subject_id == app.enterprise_id => Ok(app.service_account_id.as_str()),
        "user" => {
            let user = state.user(subject_id).ok_or(SubjectRefusal::Unknown)?;
            if user.enterprise_id != app.enterprise_id {
                return Err(SubjectRefusal::Unknown);
            }
            let own = user.app_client_id.as_deref() == Some(&*client.id);
            match user.role {
                Role::AppUser | Role::ServiceAccount if !own => {
                    return Err(SubjectRefusal::Unknown);
                }
                Role::Admin | Role::Coadmin | Role::User
                    if app.access_level != AccessLevel::AppAndEnterprise =>
                {
                    return Err(SubjectRefusal::AccessLevel);
                }
                _ => {}
            }
            if !app.generate_user_tokens {
                return Err(SubjectRefusal::UserTokensDisabled);
            }
            Ok(user.id.as_str())
        }
        _ => Err(SubjectRefusal::Unknown),
    }
}

/// Seconds from `now` to `expires_at`, both in milliseconds.
pub(crate) fn seconds_left(expires_at: i64, now: i64) -> i64 {
    (expires_at - now).max(0) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_borrow_plain_values_and_decode_the_rest() {
        let params = Params::parse(b"a=1&b=x%20y+z&&c&d=%E2%9C%93&a=2");
        assert_eq!(params.get("a"), Some("1"), "the first occurrence wins");
        assert_eq!(params.get("b"), Some("x y z"));
        assert_eq!(params.get("c"), None, "empty values count as absent");
        assert_eq!(params.get("d"), Some("\u{2713}"));
        assert!(matches!(params.0[0].1, Cow::Borrowed(_)));
        let bad = Params::parse(&[b'k', b'=', 0xff]);
        assert_eq!(bad.get("k"), Some("\u{fffd}"));
        let plain = Params::parse(b"grant_type=client_credentials&&flag&k=v=w&grant_type=x");
        assert_eq!(plain.get("grant_type"), Some("client_credentials"));
        assert_eq!(plain.get("flag"), None);
        assert_eq!(plain.get("k"), Some("v=w"), "a value keeps any further '='");
        assert!(
            plain
                .0
                .iter()
                .all(|(n, v)| matches!((n, v), (Cow::Borrowed(_), Cow::Borrowed(_))))
        );
        assert_eq!(plain.0.len(), 4);
        // Whichever path a body takes, the pairs are what the url crate's parser gives.
        for body in [
            "",
            "&",
            "&&a=1&",
            "=v",
            "k=",
            "k",
            "k=\u{e9}&\u{e9}=k",
            "a=1&a=2",
            "a==&b=c=d",
            "grant_type=client_credentials&client_id=x&client_secret=y",
            "a=%41+b",
            "%zz=1&c=%",
            "+=+",
        ] {
            let ours: Vec<(String, String)> = Params::parse(body.as_bytes())
                .0
                .into_iter()
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
            let theirs: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
            assert_eq!(ours, theirs, "{body:?}");
        }
    }

    #[test]
    fn the_token_answer_has_box_field_order() {
        let mut reply = TokenReply::new(Arc::from("AbC123"), 3600);
        assert_eq!(
            String::from_utf8(reply.to_json()).unwrap(),
            r#"{"access_token":"AbC123","expires_in":3600,"restricted_to":[],"token_type":"bearer"}"#
        );
        reply.refresh_token = Some(Arc::from("R9"));
        reply.issued_token_type = Some("urn:ietf:params:oauth:token-type:access_token");
        assert_eq!(
            String::from_utf8(reply.to_json()).unwrap(),
            r#"{"access_token":"AbC123","expires_in":3600,"restricted_to":[],"refresh_token":"R9","token_type":"bearer","issued_token_type":"urn:ietf:params:oauth:token-type:access_token"}"#
        );
    }
}
