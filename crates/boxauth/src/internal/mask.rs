//! What may be shown of an exchange, a URL or a body: every secret replaced by `***`. One masker
//! for the library's logs, the CLI's output and the emulator's request log.

use serde_json::Value;

/// Form fields, query parameters and JSON keys whose values are credentials.
const SECRET_NAMES: &[&str] = &[
    "client_secret",
    "code",
    "refresh_token",
    "assertion",
    "subject_token",
    "actor_token",
    "token",
    "access_token",
    "state",
    "passphrase",
    "privateKey",
    "clientSecret",
];

fn is_secret(name: &str) -> bool {
    SECRET_NAMES.contains(&name)
}

/// A form body or query string with secret values masked.
pub fn form(encoded: &str) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(encoded.as_bytes()) {
        if is_secret(&name) {
            out.append_pair(&name, "***");
        } else {
            out.append_pair(&name, &value);
        }
    }
    out.finish()
}

/// A response body with secret values masked. A body that is not JSON is described, not shown
/// (a success body in another format may still hold a token).
pub fn body(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "(empty)".to_owned();
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut value) => {
            mask_json(&mut value);
            value.to_string()
        }
        Err(_) => format!("({} bytes, not JSON)", bytes.len()),
    }
}

fn mask_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if is_secret(key) {
                    *inner = Value::String("***".to_owned());
                } else {
                    mask_json(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_json),
        _ => {}
    }
}

/// A URL with its password (`scheme://user:PASSWORD@host`) replaced by `***`, as a token store
/// or proxy URL may be shown; a string that does not parse as a URL but may hold credentials
/// (it has an `@`) is not shown at all.
pub fn url_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => userinfo_password(url),
    }
}

/// [`url_password`] for what `url` cannot parse but has the `SCHEME://[USER:PASSWORD@]HOSTS…`
/// shape (`redis-cluster://:pw@h1:7000,h2:7000`); anything else with an `@` is not shown.
fn userinfo_password(url: &str) -> String {
    let unshown = || {
        if url.contains('@') {
            "(a URL that does not parse)".to_owned()
        } else {
            url.to_owned()
        }
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return unshown();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, hosts)) if !tail.contains('@') => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{hosts}{tail}"),
            None => url.to_owned(),
        },
        Some(_) => unshown(),
        None => unshown(),
    }
}

/// A URL with its password and secret query parameters masked.
pub fn url(url: &str) -> String {
    let url = url_password(url);
    match url.split_once('?') {
        Some((path, query)) => format!("{path}?{}", form(query)),
        None => url,
    }
}

/// The most characters of server text (`error_description` and the like) boxauth keeps.
pub const MAX_SERVER_TEXT: usize = 1024;

/// Text from a server as it may be kept and shown: at most [`MAX_SERVER_TEXT`] characters,
/// control characters escaped (so no escape sequence reaches a terminal), and each of `sent` (the
/// secrets boxauth itself sent in the request, which a server may echo) replaced by `***`.
pub fn server_text(text: &str, sent: &[&str]) -> String {
    let mut redacted = std::borrow::Cow::Borrowed(text);
    for secret in sent.iter().filter(|s| s.len() >= 4) {
        if redacted.contains(secret) {
            redacted = std::borrow::Cow::Owned(redacted.replace(secret, "***"));
        }
    }
    printable(&redacted, MAX_SERVER_TEXT)
}

/// `text` as it may be printed: at most `max_chars` characters (then `…`), control characters
/// escaped, so no escape sequence reaches a terminal.
pub fn printable(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars) + 8);
    for (count, c) in text.chars().enumerate() {
        if count == max_chars {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The secret values of a form body (what [`form`] masks), for [`server_text`]; wiped from memory
/// when dropped.
pub fn form_secrets(encoded: &str) -> Vec<zeroize::Zeroizing<String>> {
    url::form_urlencoded::parse(encoded.as_bytes())
        .filter(|(name, _)| is_secret(name))
        .map(|(_, value)| zeroize::Zeroizing::new(value.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_is_bounded_escaped_and_redacted() {
        assert_eq!(
            server_text("bad \u{1b}[2J\u{1b}]0;title\u{7}x\nend", &[]),
            "bad \\u{1b}[2J\\u{1b}]0;title\\u{7}x\\nend"
        );
        let secrets = form_secrets("client_id=abc&client_secret=S3cr3tValue&grant_type=x");
        let refs: Vec<&str> = secrets.iter().map(|s| s.as_str()).collect();
        assert_eq!(refs, ["S3cr3tValue"]);
        assert_eq!(
            server_text("you sent client_secret=S3cr3tValue, wrong", &refs),
            "you sent client_secret=***, wrong"
        );
        let long = "é".repeat(5000);
        let shown = server_text(&long, &[]);
        assert_eq!(shown.chars().count(), MAX_SERVER_TEXT + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(
            url("https://user:hunter2@api.box.com/oauth2/token?code=c"),
            "https://user:***@api.box.com/oauth2/token?code=***"
        );
    }

    #[test]
    fn secrets_are_masked_and_the_rest_kept() {
        assert_eq!(
            form("grant_type=refresh_token&client_id=abc&client_secret=S3cr3t&refresh_token=R"),
            "grant_type=refresh_token&client_id=abc&client_secret=***&refresh_token=***"
        );
        assert_eq!(
            body(br#"{"access_token":"T","expires_in":3600,"nested":[{"refresh_token":"R"}]}"#),
            r#"{"access_token":"***","expires_in":3600,"nested":[{"refresh_token":"***"}]}"#
        );
        assert_eq!(body(b"access_token=T"), "(14 bytes, not JSON)");
        assert_eq!(
            url("https://x/authorize?client_id=a&state=s"),
            "https://x/authorize?client_id=a&state=***"
        );
        assert_eq!(
            url_password("redis://user:hunter2@redis.internal:6379/0"),
            "redis://user:***@redis.internal:6379/0"
        );
        assert_eq!(
            url_password("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
        assert_eq!(
            url_password("not a url:hunter2@x"),
            "(a URL that does not parse)"
        );
        assert_eq!(
            url_password("redis-cluster://:hunter2@h1:7000,h2:7000"),
            "redis-cluster://:***@h1:7000,h2:7000"
        );
        assert_eq!(
            url_password("rediss-sentinel://app:hun/ter2@s1:26379,s2:26379/mymaster"),
            "(a URL that does not parse)"
        );
        assert_eq!(
            url_password("redis-sentinel://app:hunter2@s1:26379,s2:26379/mymaster"),
            "redis-sentinel://app:***@s1:26379,s2:26379/mymaster"
        );
    }
}
