//! Codes, tokens, refresh-token families and seen `jti`s, with Box's lifetimes and single-use rules.
//!
//! Everything lives behind one mutex held for microseconds: each operation below is atomic, which
//! is what serialises concurrent refreshes of one family. Expired entries are swept (access tokens
//! by whole generations, see [`access`]; the rest from time-ordered queues), so memory stays
//! bounded by the lifetimes, not by the uptime.

mod access;
mod by_user;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::errors::BoxError;
use crate::tokens::random_key;
use access::{AccessTokens, DOWNSCOPED_PREFIX};

/// Milliseconds since the Unix epoch, on the emulator's clock.
pub(crate) type Millis = i64;

/// How long an expired refresh token is remembered as expired (one hour) before it is forgotten.
const EXPIRED_REFRESH_KEPT_MS: Millis = 3_600_000;

/// How long an expired authorization code is remembered as expired (ten minutes), so that it is
/// answered "The authorization code has expired" whenever the sweep ran.
const EXPIRED_CODE_KEPT_MS: Millis = 600_000;

/// A code or token, shared by its map entry and its place in the expiry queue.
type Key = Arc<str>;

type TokenMap<V> = HashMap<Key, V>;

/// A (scope, item) pair of a downscoped token; `item` indexes `World::items`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Restriction {
    pub(crate) scope: String,
    pub(crate) item: usize,
}

/// What a token was issued to: one shared allocation, so a stored token is one cache line.
#[derive(Debug, Clone)]
pub(crate) struct Grantee(Arc<GranteeFields>);

/// The fields of a [`Grantee`].
#[derive(Debug)]
pub(crate) struct GranteeFields {
    pub(crate) client_id: Arc<str>,
    pub(crate) user_id: Arc<str>,
    pub(crate) scopes: Arc<[String]>,
}

impl Grantee {
    pub(crate) fn new(client_id: Arc<str>, user_id: Arc<str>, scopes: Arc<[String]>) -> Self {
        Self(Arc::new(GranteeFields {
            client_id,
            user_id,
            scopes,
        }))
    }
}

impl std::ops::Deref for Grantee {
    type Target = GranteeFields;

    fn deref(&self) -> &GranteeFields {
        &self.0
    }
}

/// A live access token.
#[derive(Debug, Clone)]
pub(crate) struct AccessRecord {
    pub(crate) grantee: Grantee,
    pub(crate) expires_at: Millis,
    pub(crate) family: Option<u64>,
    /// `Some` for a downscoped token.
    pub(crate) restricted_to: Option<Arc<[Restriction]>>,
}

struct CodeRecord {
    grantee: Grantee,
    expires_at: Millis,
    used: bool,
    family: Option<u64>,
    /// The PKCE challenge the authorization request sent (RFC 7636), if any.
    challenge: Option<Box<Challenge>>,
}

/// A PKCE `code_challenge` and its method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub(crate) value: String,
    /// `S256` (else `plain`).
    pub(crate) s256: bool,
}

impl Challenge {
    /// Whether `verifier` answers this challenge (RFC 7636 §4.6), in constant time.
    fn answered_by(&self, verifier: &str) -> bool {
        use base64::Engine;
        use subtle::ConstantTimeEq;
        let expected = if self.s256 {
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
        } else {
            verifier.to_owned()
        };
        expected.len() == self.value.len()
            && bool::from(expected.as_bytes().ct_eq(self.value.as_bytes()))
    }
}

struct RefreshRecord {
    family: u64,
    client_id: Arc<str>,
    expires_at: Millis,
    spent: bool,
}

struct Family {
    grantee: Grantee,
    access: Vec<Key>,
    live_refresh_records: usize,
    revoked: bool,
}

/// An access and refresh token pair.
pub(crate) struct Pair {
    pub(crate) access_token: Key,
    pub(crate) refresh_token: Key,
}

/// How long each kind of thing lives, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ttls {
    pub(crate) code: Millis,
    pub(crate) access: Millis,
    pub(crate) refresh: Millis,
}

#[derive(Default)]
pub(crate) struct Store {
    codes: TokenMap<CodeRecord>,
    access: AccessTokens,
    /// Downscoped tokens by parent: they die with it. Kept apart so the common record stays small.
    children: TokenMap<Vec<Key>>,
    refresh: TokenMap<RefreshRecord>,
    families: HashMap<u64, Family>,
    next_family: u64,
    jti: HashMap<(Arc<str>, String), Millis>,
    code_queue: VecDeque<(Millis, Key)>,
    refresh_queue: VecDeque<(Millis, Key)>,
    jti_queue: VecDeque<(Millis, (Arc<str>, String))>,
}

/// Counts of what the store holds, to show memory stays bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreSizes {
    /// Authorization codes.
    pub codes: usize,
    /// Access tokens (downscoped ones included).
    pub access_tokens: usize,
    /// Refresh tokens, spent ones included until they expire.
    pub refresh_tokens: usize,
    /// Refresh-token families.
    pub families: usize,
    /// Remembered JWT IDs.
    pub jtis: usize,
}

impl Store {
    /// A new authorization code for `grantee`.
    pub(crate) fn issue_code(&mut self, grantee: Grantee, now: Millis, ttls: Ttls) -> Key {
        self.issue_code_with(grantee, None, now, ttls)
    }

    /// A new authorization code for `grantee`, bound to a PKCE `challenge` when one was sent.
    pub(crate) fn issue_code_with(
        &mut self,
        grantee: Grantee,
        challenge: Option<Challenge>,
        now: Millis,
        ttls: Ttls,
    ) -> Key {
        let code = random_key("", 32);
        let expires_at = now + ttls.code;
        self.codes.insert(
            code.clone(),
            CodeRecord {
                grantee,
                expires_at,
                used: false,
                family: None,
                challenge: challenge.map(Box::new),
            },
        );
        self.code_queue.push_back((expires_at, code.clone()));
        code
    }

    /// Spends a code of `client_id` and issues its token pair. A code presented twice is refused
    /// and every token issued from it is revoked.
    pub(crate) fn redeem_code(
        &mut self,
        code: &str,
        client_id: &str,
        verifier: Option<&str>,
        now: Millis,
        ttls: Ttls,
        replayed: &mut bool,
    ) -> Result<Pair, BoxError> {
        let record = self.codes.get_mut(code).ok_or(BoxError::CodeUnknown)?;
        if &*record.grantee.client_id != client_id {
            return Err(BoxError::CodeUnknown);
        }
        if record.used {
            *replayed = true;
            if let Some(family) = record.family {
                self.revoke_family(family);
            }
            return Err(BoxError::CodeExpired);
        }
        if record.expires_at <= now {
            return Err(BoxError::CodeExpired);
        }
        // Checked before the code is spent: a wrong verifier does not burn it (RFC 7636 says
        // nothing; the emulator's choice).
        if let Some(challenge) = &record.challenge {
            match verifier {
                None => return Err(BoxError::CodeVerifierMissing),
                Some(verifier) if !challenge.answered_by(verifier) => {
                    return Err(BoxError::CodeVerifierInvalid);
                }
                Some(_) => {}
            }
        }
        record.used = true;
        let grantee = record.grantee.clone();
        let (family, pair) = self.new_family(grantee, now, ttls);
        if let Some(record) = self.codes.get_mut(code) {
            record.family = Some(family);
        }
        Ok(pair)
    }

    fn new_family(&mut self, grantee: Grantee, now: Millis, ttls: Ttls) -> (u64, Pair) {
        self.next_family += 1;
        let id = self.next_family;
        self.families.insert(
            id,
            Family {
                grantee,
                access: Vec::new(),
                live_refresh_records: 0,
                revoked: false,
            },
        );
        let pair = self.add_pair(id, now, ttls);
        (id, pair)
    }

    fn add_pair(&mut self, family_id: u64, now: Millis, ttls: Ttls) -> Pair {
        let family = self
            .families
            .get_mut(&family_id)
            .expect("the family exists");
        let grantee = family.grantee.clone();
        family.live_refresh_records += 1;
        let access_expiry = now + ttls.access;
        let access_token = self.access.issue(
            "",
            32,
            AccessRecord {
                grantee: grantee.clone(),
                expires_at: access_expiry,
                family: Some(family_id),
                restricted_to: None,
            },
        );
        let refresh_token = random_key("", 64);
        family.access.push(access_token.clone());
        let refresh_expiry = now + ttls.refresh;
        self.refresh.insert(
            refresh_token.clone(),
            RefreshRecord {
                family: family_id,
                client_id: grantee.client_id.clone(),
                expires_at: refresh_expiry,
                spent: false,
            },
        );
        self.refresh_queue
            .push_back((refresh_expiry, refresh_token.clone()));
        Pair {
            access_token,
            refresh_token,
        }
    }

    /// Spends `refresh_token` and rotates the pair. A spent token presented again revokes its
    /// whole family; `reused` is set so the caller can count it.
    pub(crate) fn refresh(
        &mut self,
        refresh_token: &str,
        client_id: &str,
        now: Millis,
        ttls: Ttls,
        reused: &mut bool,
    ) -> Result<Pair, BoxError> {
        let record = self
            .refresh
            .get_mut(refresh_token)
            .ok_or(BoxError::RefreshTokenInvalid)?;
        if &*record.client_id != client_id {
            return Err(BoxError::RefreshTokenInvalid);
        }
        let family_id = record.family;
        if record.spent {
            *reused = true;
            self.revoke_family(family_id);
            return Err(BoxError::RefreshTokenExpired);
        }
        if record.expires_at <= now {
            return Err(BoxError::RefreshTokenExpired);
        }
        if self.families.get(&family_id).is_none_or(|f| f.revoked) {
            return Err(BoxError::RefreshTokenInvalid);
        }
        record.spent = true;
        // Forget access tokens of this family that have already expired and been swept.
        let access = &self.access;
        if let Some(family) = self.families.get_mut(&family_id) {
            family.access.retain(|token| access.contains_key(token));
        }
        Ok(self.add_pair(family_id, now, ttls))
    }

    /// A server token (JWT, CCG): an access token with no refresh token.
    pub(crate) fn issue_access(&mut self, grantee: Grantee, now: Millis, ttls: Ttls) -> Key {
        self.access.issue(
            "",
            32,
            AccessRecord {
                grantee,
                expires_at: now + ttls.access,
                family: None,
                restricted_to: None,
            },
        )
    }

    /// A downscoped child of `parent`: it dies with its parent and cannot outlive it.
    pub(crate) fn issue_downscoped(
        &mut self,
        parent: &str,
        subject: &AccessRecord,
        scopes: Arc<[String]>,
        restricted_to: Arc<[Restriction]>,
        now: Millis,
        ttls: Ttls,
    ) -> Option<(Key, Millis)> {
        // The parent is a live access token of the store, or an App Token (not in the store:
        // its children are revoked with it, `revoke_children`).
        let (parent_key, parent_record) = match self.access.get_key_value(parent) {
            Some((key, record)) => (key.clone(), record),
            None if subject.expires_at == Millis::MAX => (Key::from(parent), subject),
            None => return None,
        };
        let expires_at = (now + ttls.access).min(parent_record.expires_at);
        let record = AccessRecord {
            grantee: Grantee::new(
                parent_record.grantee.client_id.clone(),
                parent_record.grantee.user_id.clone(),
                scopes,
            ),
            expires_at,
            family: parent_record.family,
            restricted_to: Some(restricted_to),
        };
        let family = record.family;
        let token = self.access.issue(DOWNSCOPED_PREFIX, 43, record);
        if let Some(family) = family.and_then(|id| self.families.get_mut(&id)) {
            family.access.push(token.clone());
        }
        let children = self.children.entry(parent_key).or_default();
        // An App Token never expires, so the sweep never forgets its list: the children
        // swept since are dropped from it whenever it doubles, which keeps it bounded by the
        // live ones.
        if children.len() >= 64 && children.len().is_power_of_two() {
            let access = &self.access;
            children.retain(|child| access.get(child).is_some());
        }
        children.push(token.clone());
        Some((token, expires_at))
    }

    /// Revokes the downscoped tokens made from `parent` (an App Token revoked or rotated).
    pub(crate) fn revoke_children(&mut self, parent: &str) {
        self.remove_access(parent);
    }

    /// The record of a live access token.
    pub(crate) fn access(&self, token: &str, now: Millis) -> Option<&AccessRecord> {
        self.access.get(token).filter(|r| r.expires_at > now)
    }

    /// Revokes `token` (access or refresh) if `client_id` owns it: the whole pair, its family and
    /// its downscoped children. Returns whether anything was revoked.
    pub(crate) fn revoke(&mut self, token: &str, client_id: &str) -> bool {
        if let Some(record) = self.access.get(token) {
            if &*record.grantee.client_id != client_id {
                return false;
            }
            match record.family {
                Some(family) if record.restricted_to.is_none() => self.revoke_family(family),
                _ => self.remove_access(token),
            }
            return true;
        }
        if let Some(record) = self.refresh.get(token) {
            if &*record.client_id != client_id {
                return false;
            }
            let family = record.family;
            self.revoke_family(family);
            return true;
        }
        false
    }

    fn revoke_family(&mut self, family_id: u64) {
        let Some(family) = self.families.get_mut(&family_id) else {
            return;
        };
        family.revoked = true;
        let tokens = std::mem::take(&mut family.access);
        for token in tokens {
            self.remove_access(&token);
        }
    }

    fn remove_access(&mut self, token: &str) {
        let mut pending: Vec<Key> = vec![Key::from(token)];
        while let Some(next) = pending.pop() {
            self.access.remove(&next);
            if let Some(children) = self.children.remove(&*next) {
                pending.extend(children);
            }
        }
    }

    /// Records a JWT ID until `expires_at`; false if it was seen before.
    pub(crate) fn remember_jti(
        &mut self,
        client_id: Arc<str>,
        jti: &str,
        expires_at: Millis,
        now: Millis,
    ) -> bool {
        let key = (client_id, jti.to_owned());
        if let Some(&until) = self.jti.get(&key)
            && until > now
        {
            return false;
        }
        self.jti.insert(key.clone(), expires_at);
        self.jti_queue.push_back((expires_at, key));
        true
    }

    /// Drops every code, token and `jti` that has expired.
    pub(crate) fn sweep(&mut self, now: Millis) {
        while let Some((at, _)) = self.code_queue.front() {
            if at.saturating_add(EXPIRED_CODE_KEPT_MS) > now {
                break;
            }
            let (_, code) = self.code_queue.pop_front().expect("front exists");
            if self
                .codes
                .get(&code)
                .is_some_and(|r| r.expires_at.saturating_add(EXPIRED_CODE_KEPT_MS) <= now)
            {
                self.codes.remove(&code);
            }
        }
        let children = &mut self.children;
        // Children expire no later than their parent: forget them with it.
        self.access.sweep(now, !children.is_empty(), |token| {
            children.remove(token);
        });
        while let Some((at, _)) = self.refresh_queue.front() {
            // An expired refresh token is kept a while, so that it is answered "Refresh token has
            // expired" (as Box does) rather than "Invalid refresh token", whenever the sweep ran.
            if at.saturating_add(EXPIRED_REFRESH_KEPT_MS) > now {
                break;
            }
            let (_, token) = self.refresh_queue.pop_front().expect("front exists");
            if let Some(record) = self.refresh.remove(&token) {
                let family_id = record.family;
                let empty = self.families.get_mut(&family_id).is_some_and(|f| {
                    f.live_refresh_records -= 1;
                    f.live_refresh_records == 0
                });
                if empty && let Some(family) = self.families.remove(&family_id) {
                    for token in family.access {
                        self.remove_access(&token);
                    }
                }
            }
        }
        while let Some((at, _)) = self.jti_queue.front() {
            if *at > now {
                break;
            }
            let (_, key) = self.jti_queue.pop_front().expect("front exists");
            if self.jti.get(&key).is_some_and(|&until| until <= now) {
                self.jti.remove(&key);
            }
        }
    }

    /// What the store holds now.
    pub(crate) fn sizes(&self) -> StoreSizes {
        StoreSizes {
            codes: self.codes.len(),
            access_tokens: self.access.len(),
            refresh_tokens: self.refresh.len(),
            families: self.families.len(),
            jtis: self.jti.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTLS: Ttls = Ttls {
        code: 30_000,
        access: 3_600_000,
        refresh: 5_184_000_000,
    };

    fn grantee() -> Grantee {
        Grantee::new(
            "c".into(),
            "u".into(),
            Arc::from(vec!["root_readwrite".to_owned()]),
        )
    }

    #[test]
    fn a_stored_token_fits_in_a_cache_line() {
        assert!(std::mem::size_of::<(Key, AccessRecord)>() <= 64);
    }

    #[test]
    fn a_replayed_code_revokes_what_it_issued() {
        let mut store = Store::default();
        let code = store.issue_code(grantee(), 0, TTLS);
        let first = store
            .redeem_code(&code, "c", None, 1, TTLS, &mut false)
            .ok()
            .unwrap();
        assert!(store.access(&first.access_token, 2).is_some());
        assert_eq!(
            store
                .redeem_code(&code, "c", None, 2, TTLS, &mut false)
                .err(),
            Some(BoxError::CodeExpired)
        );
        assert!(store.access(&first.access_token, 3).is_none());
        let mut reused = false;
        assert!(
            store
                .refresh(&first.refresh_token, "c", 3, TTLS, &mut reused)
                .is_err()
        );
    }

    #[test]
    fn sweeping_empties_the_store_after_every_lifetime() {
        let mut store = Store::default();
        let code = store.issue_code(grantee(), 0, TTLS);
        let pair = store
            .redeem_code(&code, "c", None, 1, TTLS, &mut false)
            .ok()
            .unwrap();
        let mut reused = false;
        let pair = store
            .refresh(&pair.refresh_token, "c", 2, TTLS, &mut reused)
            .ok()
            .unwrap();
        let subject = store.access(&pair.access_token, 2).cloned().unwrap();
        store.issue_downscoped(
            &pair.access_token,
            &subject,
            Arc::from(vec![]),
            Arc::from(vec![]),
            3,
            TTLS,
        );
        store.issue_access(grantee(), 3, TTLS);
        assert!(store.remember_jti("c".into(), "j", 60_000, 3));
        assert!(!store.remember_jti("c".into(), "j", 60_000, 4));
        // Just past its lifetime a swept refresh token is still known, as expired.
        store.sweep(TTLS.refresh + 10);
        assert!(matches!(
            store.refresh(
                &pair.refresh_token,
                "c",
                TTLS.refresh + 10,
                TTLS,
                &mut reused
            ),
            Err(BoxError::RefreshTokenExpired)
        ));
        store.sweep(TTLS.refresh + EXPIRED_REFRESH_KEPT_MS + 10);
        assert_eq!(store.sizes(), StoreSizes::default());
        assert!(
            store.children.is_empty(),
            "downscoped children are forgotten with their parent"
        );
    }
}
