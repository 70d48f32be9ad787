//! What `--verbose` may show of an exchange: every secret replaced by `***`.

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
pub(crate) fn form(encoded: &str) -> String {
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
pub(crate) fn body(bytes: &[u8]) -> String {
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

/// A URL with secret query parameters masked.
pub(crate) fn url(url: &str) -> String {
    match url.split_once('?') {
        Some((path, query)) => format!("{path}?{}", form(query)),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
