//! Reading and verifying JWT assertions. Only RS256, RS384 and RS512 are ever accepted: never
//! `none`, never an HMAC algorithm (which would let anyone holding the public key sign).

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// A JWT split into its parts, not yet verified.
pub(crate) struct Jwt<'a> {
    pub(crate) header: Map<String, Value>,
    pub(crate) claims: Map<String, Value>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

/// The RSA algorithms Box accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RsAlgorithm {
    Rs256,
    Rs384,
    Rs512,
}

impl<'a> Jwt<'a> {
    /// Splits and decodes `token`; `None` if it is not three base64url parts with JSON objects.
    pub(crate) fn parse(token: &'a str) -> Option<Self> {
        let mut parts = token.split('.');
        let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let signing_input = &token[..header.len() + 1 + claims.len()];
        Some(Self {
            header: json_object(header)?,
            claims: json_object(claims)?,
            signing_input,
            signature: URL_SAFE_NO_PAD.decode(signature).ok()?,
        })
    }

    /// The header's `alg`, if it is one Box accepts.
    pub(crate) fn rs_algorithm(&self) -> Option<RsAlgorithm> {
        match self.header.get("alg")?.as_str()? {
            "RS256" => Some(RsAlgorithm::Rs256),
            "RS384" => Some(RsAlgorithm::Rs384),
            "RS512" => Some(RsAlgorithm::Rs512),
            _ => None,
        }
    }

    /// Whether the signature verifies with `public_key` (SubjectPublicKeyInfo or PKCS#1 DER).
    pub(crate) fn verify(&self, algorithm: RsAlgorithm, public_key: &[u8]) -> bool {
        let parameters = match algorithm {
            RsAlgorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            RsAlgorithm::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            RsAlgorithm::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        };
        UnparsedPublicKey::new(parameters, public_key)
            .verify(self.signing_input.as_bytes(), &self.signature)
            .is_ok()
    }

    /// A string claim.
    pub(crate) fn string(&self, name: &str) -> Option<&str> {
        self.claims.get(name)?.as_str()
    }

    /// A numeric claim in whole seconds (a JSON number; fractions are truncated).
    pub(crate) fn seconds(&self, name: &str) -> Option<i64> {
        let value = self.claims.get(name)?;
        value
            .as_i64()
            .or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
    }
}

fn json_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_a_jwt() {
        for token in [
            "",
            "a",
            "a.b",
            "a.b.c.d",
            "e30.e30",
            "e30.W10.",
            "bm90IGpzb24.e30.",
        ] {
            assert!(Jwt::parse(token).is_none(), "{token}");
        }
        let parsed = Jwt::parse("e30.e30.").unwrap();
        assert!(parsed.rs_algorithm().is_none());
    }
}
