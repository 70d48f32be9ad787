//! A private key that could not be loaded.

use std::fmt;

/// Why a private key could not be loaded, with a message that names the problem and what to do.
///
/// The message never contains the passphrase or any part of the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    kind: KeyErrorKind,
    message: String,
}

/// The kinds of [`KeyError`], for code that reacts differently to each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyErrorKind {
    /// The key is encrypted and no passphrase was given.
    MissingPassphrase,
    /// The passphrase does not decrypt the key.
    WrongPassphrase,
    /// The text is not a complete PEM: no BEGIN or END line, damaged base64, bad headers.
    MalformedPem,
    /// A PEM that is not an RSA private key boxauth reads (a certificate, a public key, an EC or
    /// OpenSSH private key).
    UnsupportedFormat,
    /// An encryption boxauth does not decrypt (scrypt, PBES1, an unknown `DEK-Info` cipher).
    UnsupportedEncryption,
    /// A PKCS#8 key for another algorithm (EC, Ed25519, DSA).
    NotRsa,
    /// An RSA key under 2048 bits.
    KeyTooSmall,
    /// The key's DER does not parse, or aws-lc-rs refuses the key.
    Invalid,
}

impl KeyError {
    pub(crate) fn new(kind: KeyErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> KeyErrorKind {
        self.kind
    }

    /// The message, also what `Display` prints.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for KeyError {}
