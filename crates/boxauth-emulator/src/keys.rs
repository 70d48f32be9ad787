//! The RSA keys apps register for JWT assertions: generated, or read from the config file.

use std::sync::{Arc, OnceLock};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKey};

use crate::config::{ConfigError, ConfigErrorKind};

/// A public key registered for an app under a key ID (`kid`), with its private half when the
/// emulator made it (so it can export a Box config file).
#[derive(Clone)]
pub struct AppKey {
    /// The key ID, Box's `publicKeyID`.
    pub id: String,
    /// The public key, SubjectPublicKeyInfo or PKCS#1 DER.
    pub public_der: Arc<Vec<u8>>,
    /// The private key as unencrypted PKCS#8 DER, when known.
    pub private_pkcs8: Option<Arc<Vec<u8>>>,
}

impl std::fmt::Debug for AppKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppKey")
            .field("id", &self.id)
            .field("has_private_key", &self.private_pkcs8.is_some())
            .finish()
    }
}

impl AppKey {
    /// A fresh RSA-2048 key pair.
    pub fn generate(id: impl Into<String>) -> Result<Self, ConfigError> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|e| key_error("could not generate an RSA key", e))?;
        Self::from_key_pair(id.into(), &pair)
    }

    /// The key pair every default world shares within one process (generating RSA keys is slow,
    /// and tests start many emulators).
    pub fn default_key(id: &str) -> Result<Self, ConfigError> {
        static PKCS8: OnceLock<Vec<u8>> = OnceLock::new();
        let der = match PKCS8.get() {
            Some(der) => der,
            None => {
                let pair = KeyPair::generate(KeySize::Rsa2048)
                    .map_err(|e| key_error("could not generate an RSA key", e))?;
                let der = pair
                    .as_der()
                    .map_err(|e| key_error("could not encode the RSA key", e))?;
                PKCS8.get_or_init(|| der.as_ref().to_vec())
            }
        };
        Self::from_private_pkcs8(id.to_owned(), der)
    }

    /// From an unencrypted PKCS#8 private key.
    pub fn from_private_pkcs8(id: String, der: &[u8]) -> Result<Self, ConfigError> {
        let pair = KeyPair::from_pkcs8(der)
            .map_err(|e| key_error(format!("key {id}: not an RSA PKCS#8 private key"), e))?;
        Self::from_key_pair(id, &pair)
    }

    /// From an unencrypted PKCS#8 private key in PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_private_pem(id: String, pem: &str) -> Result<Self, ConfigError> {
        let der = crate::config::file::pem_der(pem, &["PRIVATE KEY"]).map_err(|why| {
            ConfigError::invalid(format!(
                "key {id}: the private key {why} (give an unencrypted PKCS#8 key: \
                 openssl pkcs8 -topk8 -nocrypt -in key.pem)"
            ))
        })?;
        Self::from_private_pkcs8(id, &der)
    }

    /// The private key as unencrypted PKCS#8 PEM, when known (it is a secret: write it to a
    /// private file).
    pub fn private_pem(&self) -> Option<String> {
        use base64::Engine;
        let der = self.private_pkcs8.as_deref()?;
        let text = base64::engine::general_purpose::STANDARD.encode(der.as_slice());
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for line in text.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        Some(pem)
    }

    /// From a public key only (SubjectPublicKeyInfo or PKCS#1 DER): assertions can be verified, but
    /// no config file can be exported for it.
    pub fn from_public_der(id: String, der: &[u8]) -> Result<Self, ConfigError> {
        PublicKey::from_der(der)
            .map_err(|e| key_error(format!("key {id}: not an RSA public key"), e))?;
        Ok(Self {
            id,
            public_der: Arc::new(der.to_vec()),
            private_pkcs8: None,
        })
    }

    fn from_key_pair(id: String, pair: &KeyPair) -> Result<Self, ConfigError> {
        let private = pair
            .as_der()
            .map_err(|e| key_error(format!("key {id}: could not encode the private key"), e))?;
        let public = aws_lc_rs::signature::KeyPair::public_key(pair)
            .as_der()
            .map_err(|e| key_error(format!("key {id}: could not encode the public key"), e))?;
        Ok(Self {
            id,
            public_der: Arc::new(public.as_ref().to_vec()),
            private_pkcs8: Some(Arc::new(private.as_ref().to_vec())),
        })
    }
}

/// An RSA key that could not be read, made or encoded ([`ConfigErrorKind::Key`]).
fn key_error(
    message: impl Into<String>,
    cause: impl std::error::Error + Send + Sync + 'static,
) -> ConfigError {
    ConfigError::new(ConfigErrorKind::Key, message).with_source(cause)
}
