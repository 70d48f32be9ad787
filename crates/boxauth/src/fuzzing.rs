//! Entry points for the fuzz targets (`fuzz/`), compiled only with `--cfg fuzzing` (as `cargo
//! fuzz` builds): the parsers that read what a token endpoint answers.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::network::{Incoming, decode_error, parse_json_body};
use crate::schemas::AccessToken;

/// Decodes `body` as a token endpoint's answer with `status`: a token, or a typed error; and
/// prints the error as the CLI would.
pub fn token_answer(status: u16, body: &[u8]) {
    let incoming = Incoming {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        headers: HeaderMap::new(),
        body: body.to_vec(),
        too_large: false,
    };
    if incoming.status.as_u16() >= 400 {
        let error = decode_error(
            &incoming,
            &[zeroize::Zeroizing::new("a-sent-secret".to_owned())],
        );
        let _ = (error.to_string(), error.report(), format!("{error:?}"));
    } else if let Err(error) = parse_json_body::<AccessToken>(&incoming) {
        let _ = (error.to_string(), error.report(), format!("{error:?}"));
    }
}
