//! Tokens sealed at rest: AES-256-GCM (aws-lc-rs) under a key set with one primary key and older
//! keys kept for opening, in a versioned format that names its key.
//!
//! A sealed value is `0x01 | key-id length (1 byte) | key id | nonce (12 bytes) | ciphertext+tag`.
//! The associated data binds it to its identity: `boxauth-vault/1`, the identity's kind and its
//! user key, so a sealed value copied to another row does not open. Nonces are random (96 bits);
//! a key seals far fewer than the 2^32 values that would make a repeat likely.
//!
//! A key is written as one line, `boxauth-vault-key:1:<key id>:<base64url of 32 bytes>`; a key
//! set is such lines, the primary first. Rotation: put a new key first (it seals every write
//! from then on), reseal the rest ([`Vault::reseal`](super::Vault::reseal)), then drop the old
//! line.

use std::fmt;
use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64ct::{Base64UrlUnpadded, Encoding};
use zeroize::Zeroizing;

use crate::error::{Error, Result, VaultError, VaultErrorKind};
use crate::future::BoxFuture;
use crate::secret::CodeVerifier;

/// The format version of a sealed value.
const VERSION: u8 = 1;
/// The prefix of a key line.
const KEY_PREFIX: &str = "boxauth-vault-key:1:";
/// The associated data's prefix.
const AAD_PREFIX: &[u8] = b"boxauth-vault/1";
/// The signed part of a connection `state`: its expiry (ms, 8 bytes), a nonce (16) and whether
/// the URL carried a PKCE challenge (1); the HMAC-SHA256 tag (32) follows.
const STATE_SIGNED: usize = 8 + 16 + 1;

/// One AES-256 key and its ID. `Debug` shows the ID only.
pub struct VaultKey {
    id: String,
    key: LessSafeKey,
    /// Signs connection `state`s: HMAC-SHA256 under a key derived from the same material.
    state_key: hmac::Key,
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultKey").field("id", &self.id).finish()
    }
}

fn bad_key(message: impl Into<String>) -> Error {
    VaultError::new(VaultErrorKind::BadKey, message).into()
}

fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(bad_key(format!(
            "{id:?} is not a key ID: use 1 to 64 letters, digits, '-', '_' or '.'"
        )))
    }
}

impl VaultKey {
    /// A key from 32 bytes of key material, named `id` (letters, digits, `-`, `_`, `.`).
    pub fn from_bytes(id: impl Into<String>, material: &[u8]) -> Result<Self> {
        let id = id.into();
        check_id(&id)?;
        let unbound = UnboundKey::new(&AES_256_GCM, material).map_err(|_| {
            bad_key(format!(
                "key {id}: AES-256 keys are 32 bytes, not {}",
                material.len()
            ))
        })?;
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, material),
            b"boxauth-vault/state-key",
        );
        Ok(Self {
            id,
            key: LessSafeKey::new(unbound),
            state_key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        })
    }

    /// A new random key named `id`, and its line (`boxauth-vault-key:1:…`) to keep in a key file
    /// or `BOXAUTH_VAULT_KEY`.
    pub fn generate(id: impl Into<String>) -> Result<(Self, Zeroizing<String>)> {
        let id = id.into();
        check_id(&id)?;
        let mut material = Zeroizing::new([0u8; 32]);
        aws_lc_rs::rand::fill(&mut material[..])
            .map_err(|_| bad_key("the system random generator failed"))?;
        let line = Zeroizing::new(format!(
            "{KEY_PREFIX}{id}:{}",
            Base64UrlUnpadded::encode_string(&material[..])
        ));
        Ok((Self::from_bytes(id, &material[..])?, line))
    }

    /// The key's ID, written into every value it seals.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The keys a vault seals and opens with: the primary seals every write; every key opens what
/// it sealed. `Debug` shows the key IDs only.
#[derive(Debug)]
pub struct KeySet {
    keys: Vec<VaultKey>,
}

impl KeySet {
    /// `primary` seals; `older` only open.
    pub fn new(primary: VaultKey, older: impl IntoIterator<Item = VaultKey>) -> Result<Self> {
        let mut keys = vec![primary];
        for key in older {
            if keys.iter().any(|k| k.id == key.id) {
                return Err(bad_key(format!(
                    "two keys share the ID {}: give each key its own ID",
                    key.id
                )));
            }
            keys.push(key);
        }
        Ok(Self { keys })
    }

    /// Key lines (`boxauth-vault-key:1:<id>:<base64url>`), one per line or separated by commas,
    /// the primary first; blank lines and `#` comments are skipped. The error never quotes key
    /// material.
    pub fn parse(text: &str) -> Result<Self> {
        let mut keys = Vec::new();
        for (index, line) in text
            .split(['\n', ','])
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .enumerate()
        {
            let rest = line.strip_prefix(KEY_PREFIX).ok_or_else(|| {
                bad_key(format!(
                    "key line {} does not start with {KEY_PREFIX} (make a key with `boxauth vault keygen`)",
                    index + 1
                ))
            })?;
            let (id, encoded) = rest.split_once(':').ok_or_else(|| {
                bad_key(format!(
                    "key line {} has no ':' between the key ID and the key",
                    index + 1
                ))
            })?;
            let material =
                Zeroizing::new(Base64UrlUnpadded::decode_vec(encoded).map_err(|_| {
                    bad_key(format!("key {id} (line {}) is not base64url", index + 1))
                })?);
            keys.push(VaultKey::from_bytes(id, &material)?);
        }
        let mut keys = keys.into_iter();
        let primary = keys
            .next()
            .ok_or_else(|| bad_key("no vault key given (make one with `boxauth vault keygen`)"))?;
        Self::new(primary, keys)
    }

    /// The keys in a file (as [`parse`](Self::parse) reads them): a regular file of at most
    /// 64 KiB.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = crate::internal::private_file::read_text(path, 64 * 1024).map_err(|e| {
            Error::from(
                VaultError::new(
                    VaultErrorKind::BadKey,
                    format!("cannot read the vault key file {}", path.display()),
                )
                .with_source(e),
            )
        })?;
        Self::parse(&text)
    }

    /// The key that seals.
    pub fn primary(&self) -> &VaultKey {
        &self.keys[0]
    }

    /// The IDs of every key, the primary first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.id.as_str())
    }

    /// `plaintext` sealed with the primary key for the identity `user_key` of `kind`.
    pub(crate) fn seal(&self, kind: &str, user_key: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        let key = self.primary();
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce)
            .map_err(|_| bad_key("the system random generator failed"))?;
        let mut sealed = Vec::with_capacity(2 + key.id.len() + NONCE_LEN + plaintext.len() + 16);
        sealed.push(VERSION);
        sealed.push(u8::try_from(key.id.len()).unwrap_or(u8::MAX));
        sealed.extend_from_slice(key.id.as_bytes());
        sealed.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        key.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(kind, user_key)),
                &mut body,
            )
            .map_err(|_| bad_key("sealing failed"))?;
        sealed.extend_from_slice(&body);
        zeroize::Zeroize::zeroize(&mut body);
        Ok(sealed)
    }

    /// The plaintext of a value sealed for `user_key` of `kind`.
    pub(crate) fn open(
        &self,
        kind: &str,
        user_key: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let broken = |why: &str| -> Error {
            VaultError::new(
                VaultErrorKind::SealBroken,
                format!("the sealed tokens of identity {user_key:?} {why}"),
            )
            .into()
        };
        let (&version, rest) = sealed.split_first().ok_or_else(|| broken("are empty"))?;
        if version != VERSION {
            return Err(broken(&format!(
                "are in format {version}, which this boxauth does not know"
            )));
        }
        let (&id_len, rest) = rest.split_first().ok_or_else(|| broken("are cut short"))?;
        let id_len = usize::from(id_len);
        if rest.len() < id_len + NONCE_LEN + 16 {
            return Err(broken("are cut short"));
        }
        let (id, rest) = rest.split_at(id_len);
        let id = std::str::from_utf8(id).map_err(|_| broken("name no readable key"))?;
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let key = self.keys.iter().find(|k| k.id == id).ok_or_else(|| {
            Error::from(VaultError::new(
                VaultErrorKind::KeyMissing,
                format!(
                    "the sealed tokens of identity {user_key:?} were sealed with key {id}, which \
                     the key set ({}) does not hold: add that key",
                    self.ids().collect::<Vec<_>>().join(", ")
                ),
            ))
        })?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| broken("are cut short"))?;
        let mut body = Zeroizing::new(body.to_vec());
        let plain_len = key
            .key
            .open_in_place(nonce, Aad::from(aad(kind, user_key)), &mut body)
            .map_err(|_| {
                broken(&format!(
                    "do not open with key {id}: the key material is wrong, the value was altered, \
                     or it was sealed for another identity"
                ))
            })?
            .len();
        body.truncate(plain_len);
        Ok(body)
    }

    /// A connection `state` for `user_key`, good until `expires` (ms since the epoch): the
    /// primary key's ID, then base64url of the expiry, a random nonce and their HMAC with the
    /// user key. The user key itself is not in it (it goes to Box in the URL).
    ///
    /// With `pkce`, also the `code_verifier` whose challenge the authorization URL carries.
    pub(crate) fn sign_state(
        &self,
        user_key: &str,
        expires: i64,
        pkce: bool,
    ) -> Result<(String, Option<CodeVerifier>)> {
        let key = self.primary();
        let mut nonce = [0u8; 16];
        aws_lc_rs::rand::fill(&mut nonce)
            .map_err(|_| bad_key("the system random generator failed"))?;
        let mut payload = Vec::with_capacity(STATE_SIGNED + 32);
        payload.extend_from_slice(&expires.to_be_bytes());
        payload.extend_from_slice(&nonce);
        payload.push(u8::from(pkce));
        let tag = hmac::sign(&key.state_key, &state_message(&key.id, user_key, &payload));
        payload.extend_from_slice(tag.as_ref());
        let state = format!("{}.{}", key.id, Base64UrlUnpadded::encode_string(&payload));
        let verifier = pkce.then(|| Self::code_verifier(key, &state));
        Ok((state, verifier))
    }

    /// The PKCE `code_verifier` of a connection `state` signed with PKCE: the HMAC of the state
    /// under its key, so any host holding the key set finds it again on the callback, and nobody
    /// without the key (the browser, the redirect's logs) can. 43 base64url characters, RFC
    /// 7636's shortest.
    fn code_verifier(key: &VaultKey, state: &str) -> CodeVerifier {
        let mut message = b"boxauth-vault/pkce/1\0".to_vec();
        message.extend_from_slice(state.as_bytes());
        let tag = hmac::sign(&key.state_key, &message);
        CodeVerifier::new(Base64UrlUnpadded::encode_string(tag.as_ref()))
    }

    /// Checks a connection `state` for `user_key` at `now` (ms since the epoch); the PKCE
    /// verifier the code exchange must send when the state was signed with PKCE.
    pub(crate) fn verify_state(
        &self,
        state: &str,
        user_key: &str,
        now: i64,
    ) -> Result<Option<CodeVerifier>> {
        let mismatch = || -> Error {
            VaultError::new(
                VaultErrorKind::StateMismatch,
                format!(
                    "the callback's state was not issued by this vault for {user_key:?}: the \
                     callback may be forged (CSRF) or meant for another user; start the connection again"
                ),
            )
            .into()
        };
        let (id, encoded) = state.split_once('.').ok_or_else(mismatch)?;
        let key = self.keys.iter().find(|k| k.id == id).ok_or_else(mismatch)?;
        let payload = Base64UrlUnpadded::decode_vec(encoded).map_err(|_| mismatch())?;
        if payload.len() != STATE_SIGNED + 32 {
            return Err(mismatch());
        }
        let (signed, tag) = payload.split_at(STATE_SIGNED);
        hmac::verify(&key.state_key, &state_message(id, user_key, signed), tag)
            .map_err(|_| mismatch())?;
        let expires = i64::from_be_bytes(signed[..8].try_into().map_err(|_| mismatch())?);
        if now > expires {
            return Err(VaultError::new(
                VaultErrorKind::StateExpired,
                format!("the connection of {user_key:?} was started too long ago: start it again"),
            )
            .into());
        }
        Ok((signed[STATE_SIGNED - 1] == 1).then(|| Self::code_verifier(key, state)))
    }

    /// The ID of the key `sealed` names, if readable.
    pub(crate) fn sealed_with(sealed: &[u8]) -> Option<&str> {
        let id_len = usize::from(*sealed.get(1)?);
        std::str::from_utf8(sealed.get(2..2 + id_len)?).ok()
    }
}

fn state_message(key_id: &str, user_key: &str, payload: &[u8]) -> Vec<u8> {
    let mut message = b"boxauth-vault/state/1\0".to_vec();
    message.extend_from_slice(key_id.as_bytes());
    message.push(0);
    message.extend_from_slice(user_key.as_bytes());
    message.push(0);
    message.extend_from_slice(payload);
    message
}

fn aad(kind: &str, user_key: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_PREFIX.len() + kind.len() + user_key.len() + 2);
    aad.extend_from_slice(AAD_PREFIX);
    aad.push(0);
    aad.extend_from_slice(kind.as_bytes());
    aad.push(0);
    aad.extend_from_slice(user_key.as_bytes());
    aad
}

/// Where a vault's keys come from: a file, an environment variable, or your own (a KMS that
/// unwraps a data key). Loaded when the vault starts.
pub trait KeyProvider: Send + Sync + fmt::Debug {
    /// The key set.
    fn keys(&self) -> BoxFuture<'_, Result<KeySet>>;
}

/// Keys from a file ([`KeySet::from_file`]).
#[derive(Debug, Clone)]
pub struct KeyFile(pub PathBuf);

impl KeyProvider for KeyFile {
    fn keys(&self) -> BoxFuture<'_, Result<KeySet>> {
        Box::pin(async move { KeySet::from_file(&self.0) })
    }
}

/// Keys from an environment variable (`BOXAUTH_VAULT_KEY` by convention), as
/// [`KeySet::parse`] reads them.
#[derive(Debug, Clone)]
pub struct KeyEnv(pub String);

impl KeyProvider for KeyEnv {
    fn keys(&self) -> BoxFuture<'_, Result<KeySet>> {
        Box::pin(async move {
            let text = Zeroizing::new(std::env::var(&self.0).map_err(|_| {
                bad_key(format!(
                    "{} is not set (or not UTF-8): give the vault's key there, or a key file",
                    self.0
                ))
            })?);
            KeySet::parse(&text)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (KeySet, String) {
        let (key, line) = VaultKey::generate("k1").unwrap();
        (KeySet::new(key, []).unwrap(), line.to_string())
    }

    #[test]
    fn a_sealed_value_opens_only_for_its_identity_and_kind() {
        let (set, _) = keys();
        let sealed = set.seal("oauth", "user-1", b"the tokens").unwrap();
        assert!(!sealed.windows(10).any(|w| w == b"the tokens"));
        assert_eq!(KeySet::sealed_with(&sealed), Some("k1"));
        assert_eq!(
            &*set.open("oauth", "user-1", &sealed).unwrap(),
            b"the tokens"
        );
        for (kind, user) in [("oauth", "user-2"), ("jwt", "user-1")] {
            let error = set.open(kind, user, &sealed).unwrap_err();
            assert_eq!(error.vault_error_kind(), Some(VaultErrorKind::SealBroken));
        }
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(
            set.open("oauth", "user-1", &altered)
                .unwrap_err()
                .vault_error_kind(),
            Some(VaultErrorKind::SealBroken)
        );
        for cut in [0, 1, 5, sealed.len() - 1] {
            assert!(set.open("oauth", "user-1", &sealed[..cut]).is_err());
        }
    }

    #[test]
    fn rotation_seals_with_the_new_key_and_opens_with_both() {
        let (old_set, old_line) = keys();
        let sealed_old = old_set.seal("oauth", "u", b"x").unwrap();
        let (_, new_line) = VaultKey::generate("k2").unwrap();
        let new_line = new_line.to_string();
        let both = KeySet::parse(&format!("{new_line}\n# the old one\n{old_line}\n")).unwrap();
        assert_eq!(both.ids().collect::<Vec<_>>(), ["k2", "k1"]);
        assert_eq!(&*both.open("oauth", "u", &sealed_old).unwrap(), b"x");
        let sealed_new = both.seal("oauth", "u", b"x").unwrap();
        assert_eq!(KeySet::sealed_with(&sealed_new), Some("k2"));
        let new_only = KeySet::parse(&new_line).unwrap();
        assert_eq!(
            new_only
                .open("oauth", "u", &sealed_old)
                .unwrap_err()
                .vault_error_kind(),
            Some(VaultErrorKind::KeyMissing)
        );
    }

    #[test]
    fn a_state_is_good_for_its_user_until_it_expires() {
        let (set, _) = keys();
        let (state, verifier) = set.sign_state("alice", 1_000, false).unwrap();
        assert!(verifier.is_none());
        assert!(!state.contains("alice"));
        assert!(set.verify_state(&state, "alice", 1_000).unwrap().is_none());
        let kind = |r: Result<Option<CodeVerifier>>| r.unwrap_err().vault_error_kind();
        assert_eq!(
            kind(set.verify_state(&state, "alice", 1_001)),
            Some(VaultErrorKind::StateExpired)
        );
        assert_eq!(
            kind(set.verify_state(&state, "bob", 0)),
            Some(VaultErrorKind::StateMismatch)
        );
        let (other, _) = keys();
        assert_eq!(
            kind(other.verify_state(&state, "alice", 0)),
            Some(VaultErrorKind::StateMismatch)
        );
        let mut altered = state.clone();
        altered.push('A');
        assert_eq!(
            kind(set.verify_state(&altered, "alice", 0)),
            Some(VaultErrorKind::StateMismatch)
        );
        assert_eq!(
            kind(set.verify_state("", "alice", 0)),
            Some(VaultErrorKind::StateMismatch)
        );
    }

    #[test]
    fn a_pkce_state_gives_back_the_same_secret_verifier_and_a_plain_one_none() {
        let (set, _) = keys();
        let (state, verifier) = set.sign_state("alice", 1_000, true).unwrap();
        let verifier = verifier.unwrap();
        assert_eq!(
            verifier.secret().len(),
            43,
            "RFC 7636: 43 to 128 characters"
        );
        assert!(!state.contains(verifier.secret()));
        // Any host with the key set derives the same verifier; another state gets another.
        let again = set.verify_state(&state, "alice", 0).unwrap().unwrap();
        assert_eq!(again.secret(), verifier.secret());
        let (other, _) = set.sign_state("alice", 1_000, true).unwrap();
        let other = set.verify_state(&other, "alice", 0).unwrap().unwrap();
        assert_ne!(other.secret(), verifier.secret());
        // The flag is signed: a plain state cannot be turned into a PKCE one, nor back.
        let (plain, _) = set.sign_state("alice", 1_000, false).unwrap();
        let (id, encoded) = plain.split_once('.').unwrap();
        let mut payload = Base64UrlUnpadded::decode_vec(encoded).unwrap();
        payload[STATE_SIGNED - 1] = 1;
        let flipped = format!("{id}.{}", Base64UrlUnpadded::encode_string(&payload));
        assert_eq!(
            set.verify_state(&flipped, "alice", 0)
                .unwrap_err()
                .vault_error_kind(),
            Some(VaultErrorKind::StateMismatch)
        );
    }

    #[test]
    fn bad_key_lines_say_what_is_wrong_without_quoting_key_material() {
        let (_, line) = keys();
        let material = line.rsplit(':').next().unwrap().to_owned();
        for text in [
            String::new(),
            "not a key".to_owned(),
            format!("boxauth-vault-key:1:k1{material}"),
            format!("boxauth-vault-key:1:k 1:{material}"),
            format!("boxauth-vault-key:1:k1:{}", &material[..20]),
            format!("{line}\n{line}"),
        ] {
            let error = KeySet::parse(&text).unwrap_err();
            assert_eq!(
                error.vault_error_kind(),
                Some(VaultErrorKind::BadKey),
                "{text}"
            );
            assert!(!error.to_string().contains(&material[..20]), "{error}");
        }
        assert!(!format!("{:?}", KeySet::parse(&line).unwrap()).contains(&material));
    }
}
