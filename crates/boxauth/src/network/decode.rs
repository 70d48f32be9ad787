//! Turning Box's answers into values or typed errors. Nothing here can panic on any input.

use reqwest::header::{CONTENT_TYPE, DATE, HeaderMap, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::Incoming;
use crate::error::{ApiError, Error, InvalidResponseError};

const SNIPPET_CHARS: usize = 160;

/// The error for an answer with status 400 or more. `sent` are the secrets the request carried:
/// a server echoing them in its text gets them masked.
pub(crate) fn decode_error(incoming: &Incoming, sent: &[zeroize::Zeroizing<String>]) -> Error {
    let sent: Vec<&str> = sent.iter().map(|s| s.as_str()).collect();
    let mut raw_body = String::from_utf8_lossy(&incoming.body).into_owned();
    for secret in sent.iter().filter(|s| s.len() >= 4) {
        if raw_body.contains(secret) {
            raw_body = raw_body.replace(secret, "***");
        }
    }
    if raw_body.trim().is_empty() {
        let (error, error_description) = www_authenticate_error(&incoming.headers);
        let (error, error_description) = shown(error, error_description, &sent);
        return api_error(incoming, error, error_description, None, raw_body);
    }
    match serde_json::from_slice::<Value>(&incoming.body) {
        Ok(Value::Object(fields)) => {
            let (error, error_description) = error_fields(&fields);
            let (error, error_description) = shown(error, error_description, &sent);
            let body_request_id = string_field(&fields, "request_id");
            api_error(
                incoming,
                error,
                error_description,
                body_request_id,
                raw_body,
            )
        }
        Ok(_) => invalid(incoming, "the body is JSON but not an object", raw_body),
        Err(_) => invalid(incoming, "the body is not JSON", raw_body),
    }
}

/// The JSON body of a successful answer as `T`. A body with an `error` field is Box saying no,
/// whatever the status.
pub(crate) fn parse_json_body<T: DeserializeOwned>(incoming: &Incoming) -> Result<T, Error> {
    let raw_body = String::from_utf8_lossy(&incoming.body).into_owned();
    if incoming.status.is_redirection() {
        let target = header(&incoming.headers, LOCATION).unwrap_or_else(|| "nowhere".into());
        let problem = format!(
            "a redirect to {target}, which boxauth does not follow on token requests; \
             the base URL is probably wrong (Box's is https://api.box.com)"
        );
        return Err(invalid(incoming, &problem, raw_body));
    }
    let value: Value = match serde_json::from_slice(&incoming.body) {
        Ok(value) => value,
        Err(e) => {
            let problem = format!(
                "the body is not valid JSON ({} at line {} column {})",
                category(&e),
                e.line(),
                e.column()
            );
            return Err(invalid(incoming, &problem, raw_body));
        }
    };
    if let Value::Object(fields) = &value
        && fields.contains_key("error")
    {
        let (error, error_description) = error_fields(fields);
        let (error, error_description) = shown(error, error_description, &[]);
        let body_request_id = string_field(fields, "request_id");
        return Err(api_error(
            incoming,
            error,
            error_description,
            body_request_id,
            raw_body,
        ));
    }
    // serde's messages can quote the offending value, which may be a token: keep only the path.
    T::deserialize(value).map_err(|e| {
        let problem = format!(
            "the body does not have the documented shape ({})",
            shape_problem(&e.to_string())
        );
        invalid(incoming, &problem, raw_body)
    })
}

/// The error for an answer larger than boxauth reads.
pub(crate) fn too_large(incoming: &Incoming, limit: usize) -> Error {
    let problem = format!(
        "the body is larger than {} KiB, and Box's answers are a few KiB; \
         the base URL is probably wrong, or something between boxauth and Box answers instead",
        limit / 1024
    );
    invalid(incoming, &problem, String::new())
}

/// The error for a token answer whose `field` holds characters no Box token has.
pub(crate) fn unprintable_token(incoming: &Incoming, field: &str) -> Error {
    let problem =
        format!("the {field} holds characters no Box token has (only printable ASCII is accepted)");
    invalid(incoming, &problem, String::new())
}

/// Server text as kept in an error: bounded, control characters escaped, sent secrets masked.
fn shown(
    error: Option<String>,
    description: Option<String>,
    sent: &[&str],
) -> (Option<String>, Option<String>) {
    (
        error.map(|e| crate::internal::mask::server_text(&e, sent)),
        description.map(|d| crate::internal::mask::server_text(&d, sent)),
    )
}

fn category(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Eof => "it ends too early",
        serde_json::error::Category::Syntax => "a syntax error",
        serde_json::error::Category::Data => "a value of the wrong type",
        serde_json::error::Category::Io => "a read error",
    }
}

/// Keeps the part of a serde message that names what was expected, dropping quoted values.
fn shape_problem(message: &str) -> String {
    match message.find("expected") {
        Some(start) => message[start..].to_owned(),
        None if message.starts_with("missing field") => message.to_owned(),
        None => "a field has the wrong type".to_owned(),
    }
}

fn error_fields(fields: &Map<String, Value>) -> (Option<String>, Option<String>) {
    let error = string_field(fields, "error").or_else(|| string_field(fields, "code"));
    let description =
        string_field(fields, "error_description").or_else(|| string_field(fields, "message"));
    (error, description)
}

fn string_field(fields: &Map<String, Value>, name: &str) -> Option<String> {
    match fields.get(name)? {
        Value::String(text) => Some(text.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// `WWW-Authenticate: Bearer realm="Service", error="invalid_token", error_description="…"`, as
/// Box sends with an empty 401.
fn www_authenticate_error(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let Some(value) = headers.get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()) else {
        return (None, None);
    };
    (
        auth_param(value, "error"),
        auth_param(value, "error_description"),
    )
}

fn auth_param(header: &str, name: &str) -> Option<String> {
    let mut rest = header;
    while let Some(position) = rest.find(name) {
        let before_ok =
            position == 0 || matches!(rest.as_bytes().get(position - 1), Some(b' ' | b',' | b'\t'));
        let after = &rest[position + name.len()..];
        if before_ok && let Some(value) = after.trim_start().strip_prefix('=') {
            let value = value.trim_start();
            return Some(match value.strip_prefix('"') {
                Some(quoted) => quoted.split('"').next().unwrap_or_default().to_owned(),
                None => value
                    .split([',', ' '])
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        rest = after;
    }
    None
}

fn header(headers: &HeaderMap, name: impl reqwest::header::AsHeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn api_error(
    incoming: &Incoming,
    error: Option<String>,
    error_description: Option<String>,
    body_request_id: Option<String>,
    raw_body: String,
) -> Error {
    Error::Api(Box::new(ApiError {
        status: incoming.status.as_u16(),
        error,
        error_description,
        request_id: header(&incoming.headers, "box-request-id")
            .or(body_request_id)
            .map(|id| crate::internal::mask::server_text(&id, &[])),
        retry_after: header(&incoming.headers, RETRY_AFTER),
        date: header(&incoming.headers, DATE),
        raw_body,
    }))
}

fn invalid(incoming: &Incoming, problem: &str, raw_body: String) -> Error {
    let status = incoming.status.as_u16();
    let looks_like_html = raw_body.trim_start().starts_with('<');
    // A success body may hold tokens; quote it only when it is plainly a page, not data.
    let snippet = (status >= 300 || looks_like_html).then(|| snippet(&raw_body));
    Error::InvalidResponse(Box::new(InvalidResponseError {
        status,
        request_id: header(&incoming.headers, "box-request-id"),
        content_type: header(&incoming.headers, CONTENT_TYPE),
        problem: problem.to_owned(),
        snippet,
        raw_body,
    }))
}

fn snippet(body: &str) -> String {
    let mut out = String::new();
    let mut last_space = false;
    for c in body.trim().chars() {
        let c = if c.is_whitespace() || c.is_control() {
            ' '
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        out.push(c);
        if out.chars().count() >= SNIPPET_CHARS {
            out.push('…');
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderValue;

    fn incoming(status: u16, body: &str) -> Incoming {
        Incoming {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
            too_large: false,
        }
    }

    #[test]
    fn www_authenticate_fields_are_read() {
        let mut answer = incoming(401, "");
        answer.headers.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(
                r#"Bearer realm="Service", error="invalid_token", error_description="The access token provided is invalid.""#,
            ),
        );
        let error = decode_error(&answer, &[]);
        let api = error.as_api().unwrap();
        assert_eq!(api.error.as_deref(), Some("invalid_token"));
        assert_eq!(
            api.error_description.as_deref(),
            Some("The access token provided is invalid.")
        );
    }

    #[test]
    fn api_error_shape_maps_code_and_message() {
        let error = decode_error(
            &incoming(
                429,
                r#"{"type":"error","status":429,"code":"rate_limit_exceeded","message":"Request rate limit exceeded, please try again later","request_id":"r1"}"#,
            ),
            &[],
        );
        let api = error.as_api().unwrap();
        assert_eq!(api.error.as_deref(), Some("rate_limit_exceeded"));
        assert_eq!(api.request_id.as_deref(), Some("r1"));
    }

    #[test]
    fn type_errors_do_not_quote_the_value() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Shape {
            access_token: String,
        }
        let error =
            parse_json_body::<Shape>(&incoming(200, r#"{"access_token": 123456789}"#)).unwrap_err();
        let shown = error.to_string();
        assert!(!shown.contains("123456789"), "{shown}");
        assert!(shown.contains("expected a string"), "{shown}");
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        for body in [
            "",
            "\u{0}",
            "{",
            "[]",
            "null",
            "\"x\"",
            "{\"error\":5}",
            "<html>",
            "\u{fffd}",
        ] {
            for status in [200, 302, 400, 500] {
                let answer = incoming(status, body);
                let _ = decode_error(&answer, &[]).to_string();
                let _ = parse_json_body::<crate::AccessToken>(&answer).map_err(|e| e.to_string());
            }
        }
        let _ = auth_param("error", "error");
        let _ = auth_param("error=", "error");
        let _ = auth_param("xerror=\"a", "error");
    }
}
