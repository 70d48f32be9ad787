//! PEM text: the block, its RFC 1421 headers, and OpenSSL's legacy encryption of
//! `BEGIN RSA PRIVATE KEY` (`Proc-Type: 4,ENCRYPTED`, `DEK-Info`).

use base64ct::{Base64, Encoding};
use cbc::cipher::{BlockCipherDecrypt, BlockModeDecrypt, KeyInit, KeyIvInit, block_padding::Pkcs7};
use md5::{Digest, Md5};
use zeroize::Zeroizing;

use super::key::{invalid, malformed, unsupported_encryption, wrong_passphrase};
use crate::Passphrase;
use crate::error::KeyError;

/// One PEM block: its label, its RFC 1421 headers and its base64 body, not yet decoded.
pub(super) struct Pem {
    pub(super) label: String,
    pub(super) headers: Vec<(String, String)>,
    body: Zeroizing<String>,
}

/// The cipher and IV of a legacy `DEK-Info` header.
pub(super) struct DekInfo {
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
    pub(super) fn parse(text: &str) -> Result<Self, KeyError> {
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
    pub(super) fn dek_info(&self) -> Result<Option<DekInfo>, KeyError> {
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

    pub(super) fn der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        Base64::decode_vec(&self.body).map(Zeroizing::new).map_err(|_| {
            malformed(
                "the base64 between the BEGIN and END lines is incomplete or damaged: copy the key again, whole and unchanged",
            )
        })
    }
}

/// Decrypts OpenSSL's legacy PEM encryption: the key is `EVP_BytesToKey(MD5, salt = IV[..8],
/// passphrase, count = 1)`, then CBC with PKCS#7 padding.
pub(super) fn decrypt_legacy(
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

/// Whether `text` is a short word of capitals and digits joined by `separator`, safe to quote in
/// a message (a label or a cipher name, never part of the key).
pub(super) fn is_token(text: &str, separator: &str) -> bool {
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
    use crate::error::KeyErrorKind;

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
    fn a_label_with_key_material_is_never_quoted() {
        // A damaged BEGIN line: the "label" runs into the base64 body.
        let damaged = "-----BEGIN MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nhkiG9w0BAQEFAASC-----END PRIVATE KEY-----";
        let error = Pem::parse(damaged).map(|_| ()).unwrap_err();
        assert_eq!(error.kind(), KeyErrorKind::MalformedPem);
        assert!(!error.message().contains("MIIE"), "{error}");
    }
}
