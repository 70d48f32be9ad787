//! Box JWT auth: an app signs a short-lived assertion with its RSA private key.

/// The RSA private key: every PEM format Box and OpenSSL write, parsed once.
pub mod key;
