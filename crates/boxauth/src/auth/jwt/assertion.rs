//! The signed JWT assertion, in the same shape as Box's Python SDK writes it (PyJWT): header
//! `{"alg","kid","typ"}`, claims `{"iss","sub","box_sub_type","aud","jti","exp"}` in that order,
//! compact JSON, base64url without padding.

use serde::Serialize;

use super::config::JwtConfig;
use crate::error::Result;
use crate::secret::Assertion;

/// Box's only audience.
pub const AUDIENCE: &str = "https://api.box.com/oauth2/token";

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    kid: &'a str,
    typ: &'static str,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    box_sub_type: &'static str,
    aud: &'static str,
    jti: &'a str,
    exp: i64,
}

/// A random UUID v4, Box's SDKs' `jti` (36 characters: within Box's 16–128).
pub(crate) fn uuid_v4() -> String {
    let mut bytes = [0u8; 16];
    // No safe assertion can be made without randomness: fail loudly.
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator failed");
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn encode(bytes: &[u8]) -> String {
    <base64ct::Base64UrlUnpadded as base64ct::Encoding>::encode_string(bytes)
}

/// Signs an assertion for `config`, issued at `now` (Unix seconds, already corrected for skew).
pub(crate) fn build(config: &JwtConfig, now: i64) -> Result<Assertion> {
    let lifetime = i64::try_from(config.assertion_lifetime.as_secs()).unwrap_or(30);
    let header = Header {
        alg: config.algorithm.as_str(),
        kid: &config.key_id,
        typ: "JWT",
    };
    let jti = uuid_v4();
    let claims = Claims {
        iss: &config.client_id,
        sub: config.subject.id(),
        box_sub_type: config.subject.kind(),
        aud: AUDIENCE,
        jti: &jti,
        exp: now.saturating_add(lifetime),
    };
    // These structs of strings and integers always serialise.
    let header = serde_json::to_vec(&header).unwrap_or_default();
    let claims = serde_json::to_vec(&claims).unwrap_or_default();
    let mut token = String::with_capacity(600);
    token.push_str(&encode(&header));
    token.push('.');
    token.push_str(&encode(&claims));
    let signature = config
        .private_key
        .sign(config.algorithm, token.as_bytes())?;
    token.push('.');
    token.push_str(&encode(&signature));
    Ok(Assertion::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jti_is_a_version_4_uuid() {
        let jti = uuid_v4();
        assert_eq!(jti.len(), 36);
        assert_eq!(&jti[14..15], "4");
        assert!(matches!(&jti[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(jti, uuid_v4());
    }
}
