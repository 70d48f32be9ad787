//! The consent page's CSRF tokens, kept by the server: each is bound to the authorize request it
//! was shown for (client, redirect URI, state, scopes), used once, and good for ten minutes. A
//! cookie alone is not enough: cookies are not isolated by port, so any page on another localhost
//! port could set one, and a double-submitted value of its choosing would pass.
//!
//! At most [`MAX_LIVE`] tokens are kept; beyond that the oldest is forgotten (its page must be
//! reloaded), so a client opening pages in a loop cannot grow the emulator's memory.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::store::Millis;

/// How long a consent page's token is good for.
pub(crate) const LIFETIME_MS: Millis = 10 * 60 * 1000;
/// The most tokens kept at once.
pub(crate) const MAX_LIVE: usize = 10_000;

/// What a token is bound to: a digest of the request it was shown for.
pub(crate) type Binding = [u8; 32];

/// The live tokens.
#[derive(Default)]
pub(crate) struct ConsentTokens {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    live: HashMap<String, (Binding, Millis)>,
    /// Tokens in the order they were issued, with their expiry (some may be used already).
    order: VecDeque<(Millis, String)>,
}

/// The binding of a request: SHA-256 over its parts, each length-prefixed.
pub(crate) fn binding(parts: &[&str]) -> Binding {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for part in parts {
        context.update(&(part.len() as u64).to_be_bytes());
        context.update(part.as_bytes());
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

impl ConsentTokens {
    /// Remembers `token` for `binding` until `now` + [`LIFETIME_MS`].
    pub(crate) fn issue(&self, token: String, binding: Binding, now: Millis) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        while let Some((expires_at, _)) = inner.order.front() {
            if *expires_at > now && inner.order.len() < MAX_LIVE {
                break;
            }
            if let Some((_, old)) = inner.order.pop_front() {
                inner.live.remove(&old);
            }
        }
        let expires_at = now + LIFETIME_MS;
        inner.live.insert(token.clone(), (binding, expires_at));
        inner.order.push_back((expires_at, token));
    }

    /// Whether `token` is live and bound to `binding` (it stays live: a form re-shown after a
    /// mistyped login posts it again).
    pub(crate) fn check(&self, token: &str, binding: &Binding, now: Millis) -> bool {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        matches!(inner.live.get(token), Some((bound, expires_at))
            if *expires_at > now && bool::from(subtle::ConstantTimeEq::ct_eq(&bound[..], &binding[..])))
    }

    /// Takes `token` if it is live and bound to `binding`: it cannot be used again.
    pub(crate) fn take(&self, token: &str, binding: &Binding, now: Millis) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let ok = matches!(inner.live.get(token), Some((bound, expires_at))
            if *expires_at > now && bool::from(subtle::ConstantTimeEq::ct_eq(&bound[..], &binding[..])));
        if ok {
            inner.live.remove(token);
        }
        ok
    }

    /// How many tokens are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .live
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_bound_single_use_short_lived_and_bounded() {
        let tokens = ConsentTokens::default();
        let a = binding(&["client-a", "http://localhost/cb", "s1", "root_readwrite"]);
        let b = binding(&["client-b", "http://localhost/cb", "s1", "root_readwrite"]);
        assert_ne!(
            a,
            binding(&["client-a", "http://localhost/cbs1", "", "root_readwrite"])
        );
        tokens.issue("t1".into(), a, 0);
        assert!(!tokens.check("t1", &b, 1), "another request's token");
        assert!(!tokens.check("t2", &a, 1), "an unknown token");
        assert!(tokens.check("t1", &a, 1));
        assert!(tokens.take("t1", &a, 1));
        assert!(!tokens.take("t1", &a, 2), "used once");
        tokens.issue("t3".into(), a, 0);
        assert!(!tokens.check("t3", &a, LIFETIME_MS), "expired");
        for i in 0..MAX_LIVE + 50 {
            tokens.issue(format!("n{i}"), a, 10);
        }
        assert!(tokens.len() <= MAX_LIVE);
        assert!(!tokens.check("n0", &a, 11), "the oldest forgotten");
        assert!(tokens.check(&format!("n{}", MAX_LIVE + 49), &a, 11));
    }
}
