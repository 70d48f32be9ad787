//! Newtypes for secret strings: client secrets, tokens, codes, assertions, passphrases.
//!
//! Each one prints `Name([redacted])` in `Debug`, has no `Display` and no `PartialEq` (comparing
//! secrets with `==` leaks their content through timing), exposes its value only through an explicit
//! [`secret()`](ClientSecret::secret) call, and wipes its memory when dropped. They serialize as plain
//! strings, because token storage and the wire need the value.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

macro_rules! secret_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(Zeroizing::new(value.into()))
            }

            /// The secret value. Every call site that reads it is a place a secret can leak: keep
            /// it out of logs and error messages.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.secret())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }
    };
}

secret_string! {
    /// An application's client secret (`client_secret`).
    ClientSecret
}

secret_string! {
    /// An access token or refresh token, or any token Box accepts in `subject_token`,
    /// `actor_token` or `token`.
    Token
}

secret_string! {
    /// A webhook signature key from the Developer Console (your app → Webhooks → Manage
    /// signature keys): the primary or the secondary.
    WebhookKey
}

secret_string! {
    /// A PKCE `code_verifier` (RFC 7636): the secret whose SHA-256 the authorization URL's
    /// `code_challenge` carries, sent with the code exchange.
    CodeVerifier
}

secret_string! {
    /// A short-lived authorization code from the OAuth 2.0 redirect (`code`).
    AuthorizationCode
}

secret_string! {
    /// A signed JWT assertion (`assertion`), a bearer credential until it expires.
    Assertion
}

secret_string! {
    /// The passphrase that decrypts a private key.
    Passphrase
}

secret_string! {
    /// Box's JWT app config JSON (`config.json`'s content), which holds the client secret, the
    /// private key and its passphrase.
    ConfigJson
}

secret_string! {
    /// An `Authorization` header value, `Bearer <access token>`.
    AuthorizationHeader
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = ClientSecret::new("hOzsTeFlT6ko0dme22uGbQal04SBPYc1");
        let shown = format!("{secret:?} {:?}", Token::from("abc123"));
        assert_eq!(shown, "ClientSecret([redacted]) Token([redacted])");
    }

    #[test]
    fn serde_round_trips_the_value() {
        let token: Token = serde_json::from_str("\"T0k3n\"").unwrap();
        assert_eq!(token.secret(), "T0k3n");
        assert_eq!(serde_json::to_string(&token).unwrap(), "\"T0k3n\"");
    }
}
