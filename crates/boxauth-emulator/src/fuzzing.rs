//! Entry points for the fuzz targets (`fuzz/`), compiled only with `--cfg fuzzing` (as `cargo
//! fuzz` builds): the parsers that read what a client sends.

use axum::http::HeaderValue;

use crate::grants::Params;
use crate::jwt::Jwt;

/// A token, revoke or consent form body, urlencoded; and the same bytes as a multipart body with
/// the boundary its first line names, as a content type of that boundary would be read.
pub fn form(body: &[u8]) {
    let params = Params::parse(body);
    let _ = (
        params.get("grant_type"),
        params.get("decision"),
        params.get("csrf_token"),
    );
    let boundary_line = body.split(|&b| b == b'\n').next().unwrap_or_default();
    let boundary =
        String::from_utf8_lossy(boundary_line.strip_prefix(b"--").unwrap_or(boundary_line));
    if let Ok(content_type) = HeaderValue::from_str(&format!(
        "multipart/form-data; boundary={}",
        boundary.trim_end()
    )) && let Some(boundary) = crate::grants::multipart::boundary(&content_type)
    {
        let params = Params::parse_multipart(body, &boundary);
        let _ = params.get("grant_type");
    }
}

/// A `Content-Type` header value.
pub fn content_type(value: &[u8]) {
    if let Ok(value) = HeaderValue::from_bytes(value) {
        let _ = crate::grants::multipart::boundary(&value);
    }
}

/// A JWT assertion: split, decoded, its claims read.
pub fn jwt(text: &str) {
    if let Some(jwt) = Jwt::parse(text) {
        let _ = (jwt.rs_algorithm(), jwt.string("iss"), jwt.seconds("exp"));
    }
}
