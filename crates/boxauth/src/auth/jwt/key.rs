//! The RSA private key that signs JWT assertions: read from any PEM Box or OpenSSL writes, parsed
//! once, then used for every signature.
//!
//! Read, chosen by the PEM label and headers (never by trying one after another):
//!
//! | PEM | what wrote it |
//! |---|---|
//! | `BEGIN ENCRYPTED PRIVATE KEY` | Box's console (PBES2, PBKDF2-HMAC-SHA1, DES-EDE3-CBC); `openssl pkcs8 -topk8` (PBKDF2 with HMAC-SHA1 or SHA-2, DES-EDE3-CBC or AES-128/192/256-CBC) |
//! | `BEGIN PRIVATE KEY` | `openssl genpkey`: unencrypted PKCS#8 |
//! | `BEGIN RSA PRIVATE KEY` | `openssl genrsa` before OpenSSL 3: unencrypted PKCS#1 |
//! | `BEGIN RSA PRIVATE KEY` + `Proc-Type: 4,ENCRYPTED` | `openssl genrsa -des3` before OpenSSL 3, `openssl rsa -aes256 -traditional`: DES-EDE3-CBC or AES-128/192/256-CBC, key from `EVP_BytesToKey` (MD5) |
//!
//! Line endings, surrounding whitespace and text around the PEM do not matter, and a PEM whose
//! newlines are still JSON escapes (`\n`, as copied out of Box's `config.json`) reads too.
//!
//! Refused, on purpose: RSA keys under 2048 bits (breakable; aws-lc-rs does not sign with them);
//! scrypt-encrypted PKCS#8 (its memory cost comes from the file, so a hostile file could ask for
//! gigabytes, and neither Box nor `openssl` writes it by default); PBES1 and single DES (broken).
//! Such a key can be re-encrypted with `openssl pkcs8 -topk8 -v2 aes-256-cbc`.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, KeyPair, RsaEncoding, RsaKeyPair};
use base64ct::{Base64, Encoding};
use cbc::cipher::{BlockCipherDecrypt, BlockModeDecrypt, KeyInit, KeyIvInit, block_padding::Pkcs7};
use md5::{Digest, Md5};
use pkcs8::der::{Decode, ErrorKind, Reader, SliceReader, asn1::UintRef};
use pkcs8::{EncryptedPrivateKeyInfoRef, ObjectIdentifier, PrivateKeyInfoRef, pkcs5};
use zeroize::Zeroizing;

use crate::error::{KeyError, KeyErrorKind};
use crate::{Passphrase, Result};

/// The smallest RSA modulus boxauth signs with.
const MIN_BITS: usize = 2048;
/// The largest aws-lc-rs signs with.
const MAX_BITS: usize = 8192;

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
pub struct PrivateKey {
    key_pair: RsaKeyPair,
    bits: usize,
    public_key_spki_der: Vec<u8>,
}

impl PrivateKey {
    /// Reads a PEM in any format listed in the [module docs](self). `passphrase` decrypts
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

/// One PEM block: its label, its RFC 1421 headers and its base64 body, not yet decoded.
struct Pem {
    label: String,
    headers: Vec<(String, String)>,
    body: Zeroizing<String>,
}

/// The cipher and IV of a legacy `DEK-Info` header.
struct DekInfo {
    cipher: LegacyCipher,
    iv: Vec<u8>,
}

#[derive(Clone, Copy)]
enum LegacyCipher {
    DesEde3,
    Aes128,
    Aes192,
    Aes256,
}

impl LegacyCipher {
    fn parse(name: &str) -> Result<Self, KeyError> {
        let name = name.to_ascii_uppercase();
        match name.as_str() {
            "DES-EDE3-CBC" => Ok(Self::DesEde3),
            "AES-128-CBC" => Ok(Self::Aes128),
            "AES-192-CBC" => Ok(Self::Aes192),
            "AES-256-CBC" => Ok(Self::Aes256),
            _ if is_token(&name, "-") => Err(unsupported_encryption(&format!(
                "OpenSSL's legacy {name}, which boxauth does not decrypt (it reads DES-EDE3-CBC and AES-128/192/256-CBC)"
            ))),
            _ => Err(malformed(
                "the DEK-Info header does not name a cipher: copy the key again with its header lines",
            )),
        }
    }

    fn key_len(self) -> usize {
        match self {
            Self::Aes128 => 16,
            Self::DesEde3 | Self::Aes192 => 24,
            Self::Aes256 => 32,
        }
    }

    fn block_len(self) -> usize {
        match self {
            Self::DesEde3 => 8,
            Self::Aes128 | Self::Aes192 | Self::Aes256 => 16,
        }
    }
}

impl Pem {
    fn parse(text: &str) -> Result<Self, KeyError> {
        if text.trim().is_empty() {
            return Err(malformed(
                "the private key is empty: pass the PEM text, from -----BEGIN to -----END",
            ));
        }
        let Some(begin) = text.find("-----BEGIN ") else {
            return Err(malformed(
                "no -----BEGIN line: pass the private key's PEM text (the file's contents, not its path)",
            ));
        };
        let after_begin = &text[begin + "-----BEGIN ".len()..];
        let label = after_begin
            .find("-----")
            .map(|end| &after_begin[..end])
            .filter(|label| is_token(label, " "))
            .ok_or_else(|| {
                malformed("the BEGIN line is damaged: it must read -----BEGIN <LABEL>----- on a line of its own")
            })?;
        let content = &after_begin[label.len() + "-----".len()..];
        let end_line = format!("-----END {label}-----");
        let Some(end) = content.find(&end_line) else {
            return Err(malformed(if content.contains("-----END ") {
                format!("the END line does not match -----BEGIN {label}-----: copy one whole key")
            } else {
                format!(
                    "the PEM has no END line ({end_line}): the key was cut off; copy all of it, up to and including that line"
                )
            }));
        };
        let mut headers = Vec::new();
        let mut body = Zeroizing::new(String::with_capacity(end));
        // Lines end in "\n" or "\r\n", or in JSON's escaped "\n" when the PEM was copied out of a
        // config file as it is written there.
        for (index, line) in content[..end]
            .split('\n')
            .flat_map(|l| l.split("\\n"))
            .enumerate()
        {
            let line = line.trim().trim_end_matches("\\r").trim_end();
            if line.is_empty() {
                continue;
            }
            if body.is_empty() && line.contains(':') {
                let (name, value) = line.split_once(':').unwrap_or((line, ""));
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
                continue;
            }
            if !line
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/= \t".contains(&b))
            {
                return Err(malformed(format!(
                    "line {} of the PEM (counting the BEGIN line as 1) is not base64: the key is damaged; copy it again, unchanged",
                    index + 1
                )));
            }
            body.extend(line.chars().filter(|c| !c.is_ascii_whitespace()));
        }
        Ok(Self {
            label: label.to_owned(),
            headers,
            body,
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The legacy encryption of a `BEGIN RSA PRIVATE KEY`, if its headers say it has one.
    fn dek_info(&self) -> Result<Option<DekInfo>, KeyError> {
        let encrypted = match self.header("Proc-Type") {
            None if self.headers.is_empty() => return Ok(None),
            Some(value) if value.replace(' ', "").eq_ignore_ascii_case("4,ENCRYPTED") => true,
            _ => false,
        };
        let dek_info = self
            .header("DEK-Info")
            .filter(|_| encrypted)
            .ok_or_else(|| {
                malformed(
                    "a BEGIN RSA PRIVATE KEY's header lines must be 'Proc-Type: 4,ENCRYPTED' and \
                 'DEK-Info: <cipher>,<iv>': copy the key again with its header lines, unchanged",
                )
            })?;
        let (cipher, iv) = dek_info.split_once(',').unwrap_or((dek_info, ""));
        let cipher = LegacyCipher::parse(cipher.trim())?;
        let iv = decode_hex(iv.trim())
            .filter(|iv| iv.len() == cipher.block_len())
            .ok_or_else(|| {
                malformed(format!(
                    "the DEK-Info IV must be {} hex digits: copy the key again with its header lines",
                    cipher.block_len() * 2
                ))
            })?;
        Ok(Some(DekInfo { cipher, iv }))
    }

    fn der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        Base64::decode_vec(&self.body).map(Zeroizing::new).map_err(|_| {
            malformed(
                "the base64 between the BEGIN and END lines is incomplete or damaged: copy the key again, whole and unchanged",
            )
        })
    }
}

/// Decrypts OpenSSL's legacy PEM encryption: the key is `EVP_BytesToKey(MD5, salt = IV[..8],
/// passphrase, count = 1)`, then CBC with PKCS#7 padding.
fn decrypt_legacy(
    dek: &DekInfo,
    ciphertext: &[u8],
    passphrase: &Passphrase,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let block = dek.cipher.block_len();
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(block) {
        return Err(invalid(
            "the encrypted key is not a whole number of cipher blocks",
        ));
    }
    let key = evp_bytes_to_key_md5(
        passphrase.secret().as_bytes(),
        &dek.iv[..8],
        dek.cipher.key_len(),
    );
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    let plain_len = match dek.cipher {
        LegacyCipher::DesEde3 => cbc_decrypt::<des::TdesEde3>(&key, &dek.iv, &mut buffer),
        LegacyCipher::Aes128 => cbc_decrypt::<aes::Aes128Dec>(&key, &dek.iv, &mut buffer),
        LegacyCipher::Aes192 => cbc_decrypt::<aes::Aes192Dec>(&key, &dek.iv, &mut buffer),
        LegacyCipher::Aes256 => cbc_decrypt::<aes::Aes256Dec>(&key, &dek.iv, &mut buffer),
    }
    .ok_or_else(wrong_passphrase)?;
    buffer.truncate(plain_len);
    Ok(buffer)
}

/// Decrypts in place; `None` when the padding is wrong, which means a wrong key.
fn cbc_decrypt<C: BlockCipherDecrypt + KeyInit>(
    key: &[u8],
    iv: &[u8],
    buffer: &mut [u8],
) -> Option<usize> {
    let decryptor = cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?;
    decryptor
        .decrypt_padded::<Pkcs7>(buffer)
        .ok()
        .map(<[u8]>::len)
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one iteration: `D_i = MD5(D_{i-1} || passphrase ||
/// salt)`, concatenated until `len` bytes.
fn evp_bytes_to_key_md5(passphrase: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::with_capacity(len + 16));
    while key.len() < len {
        let mut md5 = Md5::new();
        if let Some(previous) = key.len().checked_sub(16) {
            md5.update(&key[previous..]);
        }
        md5.update(passphrase);
        md5.update(salt);
        key.extend_from_slice(&md5.finalize());
    }
    key.truncate(len);
    key
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

fn wrong_passphrase() -> KeyError {
    KeyError::new(
        KeyErrorKind::WrongPassphrase,
        "the passphrase does not decrypt the private key: check boxAppSettings.appAuth.passphrase in the config \
         file (or the passphrase the key was encrypted with), and that key and passphrase belong together",
    )
}

fn malformed(message: impl Into<String>) -> KeyError {
    KeyError::new(KeyErrorKind::MalformedPem, message)
}

fn invalid(what: &str) -> KeyError {
    KeyError::new(
        KeyErrorKind::Invalid,
        format!("{what}: the private key is damaged; copy it again, or generate a new key pair"),
    )
}

fn unsupported_encryption(what: &str) -> KeyError {
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

fn unsupported_label(label: &str) -> KeyError {
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

/// Whether `text` is a short word of capitals and digits joined by `separator`, safe to quote in
/// a message (a label or a cipher name, never part of the key).
fn is_token(text: &str, separator: &str) -> bool {
    !text.is_empty()
        && text.len() <= 40
        && text.bytes().all(|b| {
            b.is_ascii_uppercase() || b.is_ascii_digit() || separator.as_bytes().contains(&b)
        })
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // openssl enc -aes-256-cbc -P -md md5 -S 0102030405060708 -pass pass:secret
        //   key=C9E5A1BD216DBE1317E230CEF48F38EE7F0E17AD64022144BCCEC4A1AA2879AB
        //   iv =E24B32BBBC4EF02ECBCB6576523AD893
        let salt = [1, 2, 3, 4, 5, 6, 7, 8];
        let derived = evp_bytes_to_key_md5(b"secret", &salt, 48);
        let expected = decode_hex(
            "C9E5A1BD216DBE1317E230CEF48F38EE7F0E17AD64022144BCCEC4A1AA2879AB\
             E24B32BBBC4EF02ECBCB6576523AD893",
        )
        .unwrap();
        assert_eq!(derived.as_slice(), expected.as_slice());
        assert_eq!(
            evp_bytes_to_key_md5(b"secret", &salt, 24).as_slice(),
            &expected[..24]
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
    fn a_label_with_key_material_is_never_quoted() {
        // A damaged BEGIN line: the "label" runs into the base64 body.
        let damaged = "-----BEGIN MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nhkiG9w0BAQEFAASC-----END PRIVATE KEY-----";
        let error = Pem::parse(damaged).map(|_| ()).unwrap_err();
        assert_eq!(error.kind(), KeyErrorKind::MalformedPem);
        assert!(!error.message().contains("MIIE"), "{error}");
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
