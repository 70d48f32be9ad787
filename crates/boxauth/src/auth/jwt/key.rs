//! The RSA private key that signs JWT assertions: read from any PEM Box or OpenSSL writes, parsed
//! once, then used for every signature.
//!
//! [`PrivateKey`]'s docs list the formats it reads and refuses.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, KeyPair, RsaEncoding, RsaKeyPair};
use base64ct::{Base64, Encoding};
use pkcs8::der::{Decode, ErrorKind, Reader, SliceReader, asn1::UintRef};
use pkcs8::{EncryptedPrivateKeyInfoRef, ObjectIdentifier, PrivateKeyInfoRef, pkcs5};
use zeroize::Zeroizing;

use super::pem::{Pem, decrypt_legacy};
use crate::error::{KeyError, KeyErrorKind};
use crate::{Passphrase, Result};

/// The smallest RSA modulus boxauth signs with.
const MIN_BITS: usize = 2048;
/// The largest aws-lc-rs signs with.
const MAX_BITS: usize = 8192;
/// The most PBKDF2 iterations an encrypted key may ask for (Box's console uses 2,048; OpenSSL 2,048).
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");

const READABLE: &str =
    "boxauth reads BEGIN ENCRYPTED PRIVATE KEY, BEGIN PRIVATE KEY and BEGIN RSA PRIVATE KEY";
const REENCRYPT: &str =
    "re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in old.pem -out new.pem`";

/// The JWT `alg` of an assertion: RSASSA-PKCS1-v1_5 with SHA-256, SHA-384 or SHA-512.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum JwtAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, Box's default.
    #[default]
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
}

impl JwtAlgorithm {
    /// The JWT header's `alg` value: `RS256`, `RS384` or `RS512`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
        }
    }

    fn encoding(self) -> &'static dyn RsaEncoding {
        match self {
            Self::Rs256 => &signature::RSA_PKCS1_SHA256,
            Self::Rs384 => &signature::RSA_PKCS1_SHA384,
            Self::Rs512 => &signature::RSA_PKCS1_SHA512,
        }
    }
}

/// An RSA private key, parsed once, that signs JWT assertions.
///
/// `Debug` prints `PrivateKey { bits: 2048 }`, never key material.
///
/// Read, chosen by the PEM label and headers (never by trying one after another):
///
/// | PEM | what wrote it |
/// |---|---|
/// | `BEGIN ENCRYPTED PRIVATE KEY` | Box's console (PBES2, PBKDF2-HMAC-SHA1, DES-EDE3-CBC); `openssl pkcs8 -topk8` (PBKDF2 with HMAC-SHA1 or SHA-2, DES-EDE3-CBC or AES-128/192/256-CBC) |
/// | `BEGIN PRIVATE KEY` | `openssl genpkey`: unencrypted PKCS#8 |
/// | `BEGIN RSA PRIVATE KEY` | `openssl genrsa` before OpenSSL 3: unencrypted PKCS#1 |
/// | `BEGIN RSA PRIVATE KEY` + `Proc-Type: 4,ENCRYPTED` | `openssl genrsa -des3` before OpenSSL 3, `openssl rsa -aes256 -traditional`: DES-EDE3-CBC or AES-128/192/256-CBC, key from `EVP_BytesToKey` (MD5) |
///
/// Line endings, surrounding whitespace and text around the PEM do not matter, and a PEM whose
/// newlines are still JSON escapes (`\n`, as copied out of Box's `config.json`) reads too.
///
/// Refused, on purpose: RSA keys under 2048 bits (breakable; aws-lc-rs does not sign with them);
/// scrypt-encrypted PKCS#8 (its memory cost comes from the file, so a hostile file could ask for
/// gigabytes, and neither Box nor `openssl` writes it by default); PBES1 and single DES (broken).
/// Such a key can be re-encrypted with `openssl pkcs8 -topk8 -v2 aes-256-cbc`.
pub struct PrivateKey {
    key_pair: RsaKeyPair,
    bits: usize,
    public_key_spki_der: Vec<u8>,
}

impl PrivateKey {
    /// Reads a PEM in any format listed [above](PrivateKey). `passphrase` decrypts
    /// `BEGIN ENCRYPTED PRIVATE KEY` and `Proc-Type: 4,ENCRYPTED` keys; it is ignored for
    /// unencrypted ones.
    ///
    /// # Errors
    /// [`Error::Key`](crate::Error::Key), whose [`KeyErrorKind`] says what is wrong.
    pub fn from_pem(pem: &str, passphrase: Option<&Passphrase>) -> Result<Self> {
        let pem = Pem::parse(pem)?;
        let no_headers = |pem: &Pem| {
            if pem.headers.is_empty() {
                Ok(())
            } else {
                Err(malformed(format!(
                    "the PEM has header lines ('Name: value'), which a {} PEM never has: copy the key again, unchanged",
                    pem.label
                )))
            }
        };
        match pem.label.as_str() {
            "ENCRYPTED PRIVATE KEY" => {
                no_headers(&pem)?;
                Ok(Self::from_encrypted_pkcs8(&pem.der()?, passphrase)?)
            }
            "PRIVATE KEY" => {
                no_headers(&pem)?;
                Ok(Self::from_pkcs8(&pem.der()?, Source::Plain)?)
            }
            "RSA PRIVATE KEY" => match pem.dek_info()? {
                None => Ok(Self::from_pkcs1(&pem.der()?, Source::Plain)?),
                Some(dek) => {
                    let passphrase = required(passphrase, "Proc-Type: 4,ENCRYPTED")?;
                    let der = decrypt_legacy(&dek, &pem.der()?, passphrase)?;
                    Ok(Self::from_pkcs1(&der, Source::Decrypted)?)
                }
            },
            label => Err(unsupported_label(label).into()),
        }
    }

    /// Reads an unencrypted PKCS#8 `PrivateKeyInfo` in DER.
    ///
    /// # Errors
    /// [`Error::Key`](crate::Error::Key): not DER, not RSA, under 2048 bits.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        Ok(Self::from_pkcs8(der, Source::Plain)?)
    }

    /// The RSASSA-PKCS1-v1_5 signature of `message`, hashed with `algorithm`'s hash. As long as
    /// the modulus (256 bytes for RSA-2048), and the same for the same inputs.
    ///
    /// # Errors
    /// [`Error::Key`](crate::Error::Key) if aws-lc-rs fails to sign, which a key it accepted
    /// does not do.
    pub fn sign(&self, algorithm: JwtAlgorithm, message: &[u8]) -> Result<Vec<u8>> {
        let mut signature = vec![0; self.key_pair.public_modulus_len()];
        self.key_pair
            .sign(
                algorithm.encoding(),
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| {
                KeyError::new(
                    KeyErrorKind::Invalid,
                    "aws-lc-rs could not sign with the private key: load the key again, or generate a new key pair",
                )
            })?;
        Ok(signature)
    }

    /// The public key as a PKCS#1 `RSAPublicKey` in DER.
    pub fn public_key_pkcs1_der(&self) -> Vec<u8> {
        self.key_pair.public_key().as_ref().to_vec()
    }

    /// The public key as an X.509 `SubjectPublicKeyInfo` in DER.
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        self.public_key_spki_der.clone()
    }

    /// The public key as a `-----BEGIN PUBLIC KEY-----` PEM: what you upload to Box's Developer
    /// Console for the app.
    pub fn public_key_pem(&self) -> String {
        let base64 = Base64::encode_string(&self.public_key_spki_der);
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in base64.as_bytes().chunks(64) {
            // Base64 output is ASCII, so every chunk is UTF-8.
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        pem
    }

    /// The modulus size in bits (2048 for a key from Box's console).
    pub fn bits(&self) -> usize {
        self.bits
    }

    fn from_encrypted_pkcs8(der: &[u8], passphrase: Option<&Passphrase>) -> Result<Self, KeyError> {
        let info =
            EncryptedPrivateKeyInfoRef::from_der(der).map_err(|error| match error.kind() {
                ErrorKind::OidUnknown { oid } => unsupported_encryption(&format!(
                    "an algorithm boxauth does not know (OID {oid})"
                )),
                _ => invalid("the encrypted PKCS#8 structure does not parse"),
            })?;
        let scheme = &info.encryption_algorithm;
        let Some(params) = scheme.pbes2() else {
            return Err(unsupported_encryption(&format!(
                "PBES1 (OID {}), an obsolete scheme built on single DES or RC2",
                scheme.oid()
            )));
        };
        if params.kdf.is_scrypt() {
            return Err(unsupported_encryption(
                "scrypt, whose memory cost the file sets",
            ));
        }
        if let Some(pbkdf2) = params.kdf.pbkdf2()
            && pbkdf2.iteration_count > MAX_PBKDF2_ITERATIONS
        {
            return Err(unsupported_encryption(&format!(
                "PBKDF2 with {} iterations, more than the {MAX_PBKDF2_ITERATIONS} boxauth accepts \
                 (decrypting it would keep the process busy for hours; Box's console uses 2,048)",
                pbkdf2.iteration_count
            )));
        }
        // Only now: an encryption boxauth cannot undo is reported even without a passphrase.
        let passphrase = required(passphrase, "BEGIN ENCRYPTED PRIVATE KEY")?;
        let plain = scheme
            .decrypt(passphrase.secret(), info.encrypted_data.as_bytes())
            .map(Zeroizing::new)
            .map_err(|error| match error {
                pkcs5::Error::DecryptFailed => wrong_passphrase(),
                pkcs5::Error::UnsupportedAlgorithm { oid } => {
                    unsupported_encryption(&format!("an unsupported algorithm (OID {oid})"))
                }
                _ => invalid("the PBES2 parameters of the encrypted key are invalid"),
            })?;
        Self::from_pkcs8(&plain, Source::Decrypted)
    }

    fn from_pkcs8(der: &[u8], source: Source) -> Result<Self, KeyError> {
        let info = PrivateKeyInfoRef::try_from(der)
            .map_err(|_| source.unparsable("the PKCS#8 PrivateKeyInfo"))?;
        let oid = info.algorithm.oid;
        if oid == RSASSA_PSS {
            return Err(KeyError::new(
                KeyErrorKind::UnsupportedFormat,
                "the private key is an RSA-PSS key, which cannot make the RSASSA-PKCS1-v1_5 signatures Box's \
                 RS256 needs: generate a plain RSA key pair (openssl genrsa -out private.pem 2048)",
            ));
        }
        if oid != RSA_ENCRYPTION {
            return Err(not_rsa(oid));
        }
        let bits = rsa_private_key_bits(info.private_key.as_bytes())
            .ok_or_else(|| source.unparsable("the RSAPrivateKey inside the PKCS#8"))?;
        check_size(bits)?;
        let key_pair = RsaKeyPair::from_pkcs8(der).map_err(rejected)?;
        Self::new(key_pair, bits)
    }

    fn from_pkcs1(der: &[u8], source: Source) -> Result<Self, KeyError> {
        let bits = rsa_private_key_bits(der)
            .ok_or_else(|| source.unparsable("the PKCS#1 RSAPrivateKey"))?;
        check_size(bits)?;
        let key_pair = RsaKeyPair::from_der(der).map_err(rejected)?;
        Self::new(key_pair, bits)
    }

    fn new(key_pair: RsaKeyPair, bits: usize) -> Result<Self, KeyError> {
        let spki = key_pair
            .public_key()
            .as_der()
            .map_err(|_| invalid("aws-lc-rs could not encode its public key"))?;
        Ok(Self {
            public_key_spki_der: spki.as_ref().to_vec(),
            key_pair,
            bits,
        })
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("bits", &self.bits)
            .finish()
    }
}

/// Where DER came from: after a decryption, DER that does not parse means a wrong passphrase.
#[derive(Clone, Copy)]
enum Source {
    Plain,
    Decrypted,
}

impl Source {
    fn unparsable(self, what: &str) -> KeyError {
        match self {
            Self::Plain => invalid(&format!("{what} does not parse as DER")),
            Self::Decrypted => wrong_passphrase(),
        }
    }
}

/// The modulus size of a PKCS#1 `RSAPrivateKey`, or `None` if the DER is not one.
fn rsa_private_key_bits(der: &[u8]) -> Option<usize> {
    let mut reader = SliceReader::new(der).ok()?;
    let modulus = reader
        .sequence(|seq| {
            let _version = UintRef::decode(seq)?;
            let modulus = UintRef::decode(seq)?;
            // publicExponent, privateExponent, prime1, prime2, exponent1, exponent2, coefficient
            for _ in 0..7 {
                UintRef::decode(seq)?;
            }
            // A multi-prime key (version 1) carries otherPrimeInfos after them.
            let rest = seq.remaining_len();
            seq.drain(rest)?;
            Ok::<_, pkcs8::der::Error>(modulus.as_bytes())
        })
        .ok()?;
    reader.finish().ok()?;
    let first = modulus.first()?;
    Some(modulus.len() * 8 - first.leading_zeros() as usize)
}

fn check_size(bits: usize) -> Result<(), KeyError> {
    if bits < MIN_BITS {
        return Err(KeyError::new(
            KeyErrorKind::KeyTooSmall,
            format!(
                "the RSA private key is {bits} bits, and Box JWT apps need at least {MIN_BITS}: generate a new key pair \
                 (in the Developer Console, or openssl genrsa -out private.pem 2048) and upload its public key"
            ),
        ));
    }
    if bits > MAX_BITS {
        return Err(invalid(&format!(
            "the RSA key is {bits} bits, more than the {MAX_BITS} aws-lc-rs signs with; use a 2048, 3072 or 4096-bit key"
        )));
    }
    Ok(())
}

fn rejected(error: aws_lc_rs::error::KeyRejected) -> KeyError {
    match error.description_() {
        "WrongAlgorithm" => KeyError::new(
            KeyErrorKind::NotRsa,
            "aws-lc-rs says the private key is not an RSA key: Box JWT apps sign with RSA; generate an RSA key pair",
        ),
        reason => invalid(&format!("aws-lc-rs refused the RSA key ({reason})")),
    }
}

fn required<'a>(
    passphrase: Option<&'a Passphrase>,
    what: &str,
) -> Result<&'a Passphrase, KeyError> {
    passphrase
        .filter(|passphrase| !passphrase.secret().is_empty())
        .ok_or_else(|| {
            KeyError::new(
                KeyErrorKind::MissingPassphrase,
                format!(
                    "the private key is encrypted ({what}) and no passphrase was given: pass the passphrase \
                     (boxAppSettings.appAuth.passphrase in Box's config file)"
                ),
            )
        })
}

pub(super) fn wrong_passphrase() -> KeyError {
    KeyError::new(
        KeyErrorKind::WrongPassphrase,
        "the passphrase does not decrypt the private key: check boxAppSettings.appAuth.passphrase in the config \
         file (or the passphrase the key was encrypted with), and that key and passphrase belong together",
    )
}

pub(super) fn malformed(message: impl Into<String>) -> KeyError {
    KeyError::new(KeyErrorKind::MalformedPem, message)
}

pub(super) fn invalid(what: &str) -> KeyError {
    KeyError::new(
        KeyErrorKind::Invalid,
        format!("{what}: the private key is damaged; copy it again, or generate a new key pair"),
    )
}

pub(super) fn unsupported_encryption(what: &str) -> KeyError {
    KeyError::new(
        KeyErrorKind::UnsupportedEncryption,
        format!("the private key is encrypted with {what}: {REENCRYPT}"),
    )
}

fn not_rsa(oid: ObjectIdentifier) -> KeyError {
    let name = match oid.to_string().as_str() {
        "1.2.840.10045.2.1" => "an EC key",
        "1.3.101.112" => "an Ed25519 key",
        "1.3.101.113" => "an Ed448 key",
        "1.2.840.10040.4.1" => "a DSA key",
        _ => "not an RSA key",
    };
    KeyError::new(
        KeyErrorKind::NotRsa,
        format!(
            "the private key is {name} (algorithm OID {oid}); Box JWT apps sign with RSA: generate an RSA key pair \
             of at least 2048 bits and upload its public key"
        ),
    )
}

pub(super) fn unsupported_label(label: &str) -> KeyError {
    let what = match label {
        "CERTIFICATE" | "TRUSTED CERTIFICATE" | "X509 CERTIFICATE" => {
            "a certificate, not a private key".to_owned()
        }
        "PUBLIC KEY" | "RSA PUBLIC KEY" => {
            "a public key (the half you upload to Box); boxauth signs with the private key".to_owned()
        }
        "EC PRIVATE KEY" => "an EC private key; Box JWT apps sign with RSA: generate an RSA key pair".to_owned(),
        "DSA PRIVATE KEY" => "a DSA private key; Box JWT apps sign with RSA: generate an RSA key pair".to_owned(),
        "OPENSSH PRIVATE KEY" => {
            "an OpenSSH private key: if it is RSA, convert it with `ssh-keygen -p -m PKCS8 -f <file>`".to_owned()
        }
        other => format!("a PEM labelled {other}, not a private key"),
    };
    KeyError::new(
        KeyErrorKind::UnsupportedFormat,
        format!("this is {what}; {READABLE}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crafted_iteration_count_is_refused_before_any_work() {
        use pkcs8::der::Encode;
        use pkcs8::der::asn1::OctetStringRef;
        let kdf = pkcs5::pbes2::Pbkdf2Params {
            salt: (&[7u8; 8][..]).try_into().unwrap(),
            iteration_count: i32::MAX as u32,
            key_length: None,
            prf: pkcs5::pbes2::Pbkdf2Prf::HmacWithSha1,
        };
        let scheme = pkcs5::EncryptionScheme::Pbes2(pkcs5::pbes2::Parameters {
            kdf: kdf.into(),
            encryption: pkcs5::pbes2::EncryptionScheme::DesEde3Cbc { iv: [0; 8] },
        });
        let der = pkcs8::EncryptedPrivateKeyInfo {
            encryption_algorithm: scheme,
            encrypted_data: OctetStringRef::new(&[0u8; 1232]).unwrap(),
        }
        .to_der()
        .unwrap();
        // Without the bound this would run PBKDF2 2^31 times: hours of a core.
        let error = PrivateKey::from_encrypted_pkcs8(&der, Some(&Passphrase::from("a passphrase")))
            .unwrap_err();
        assert_eq!(error.kind(), KeyErrorKind::UnsupportedEncryption);
        assert!(
            error.to_string().contains("2147483647 iterations"),
            "{error}"
        );
    }

    #[test]
    fn jwt_algorithm_names_and_default() {
        assert_eq!(JwtAlgorithm::default(), JwtAlgorithm::Rs256);
        let names = [
            JwtAlgorithm::Rs256,
            JwtAlgorithm::Rs384,
            JwtAlgorithm::Rs512,
        ]
        .map(JwtAlgorithm::as_str);
        assert_eq!(names, ["RS256", "RS384", "RS512"]);
    }

    #[test]
    fn garbage_never_panics() {
        for text in [
            "",
            "-----BEGIN ",
            "-----BEGIN X-----",
            "-----BEGIN A-----\n-----END A-----",
            "\u{1F600}-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,é\n-----END RSA PRIVATE KEY-----",
        ] {
            assert!(PrivateKey::from_pem(text, Some(&Passphrase::new("p"))).is_err());
        }
    }
}
