//! Revoking everything one user holds: what an admin's "log out of all sessions" does at Box; and
//! whose a token or code is, for the request log.

use std::sync::Arc;

use super::{Key, Store};

impl Store {
    /// The user an access or refresh token (live, spent, or expired and still remembered) was
    /// issued to act as.
    pub(crate) fn token_user(&self, token: &str) -> Option<Arc<str>> {
        if let Some(record) = self.access.get(token) {
            return Some(record.grantee.user_id.clone());
        }
        let family = self.refresh.get(token)?.family;
        Some(self.families.get(&family)?.grantee.user_id.clone())
    }

    /// The user who approved the app for an authorization code (used or not, until forgotten).
    pub(crate) fn code_user(&self, code: &str) -> Option<Arc<str>> {
        Some(self.codes.get(code)?.grantee.user_id.clone())
    }

    /// Revokes every code, access token and refresh-token family issued to act as `user_id`,
    /// whichever app holds them. Returns how many families and lone access tokens (server and
    /// downscoped tokens) were revoked, and how many unused codes were forgotten.
    pub(crate) fn revoke_user(&mut self, user_id: &str) -> usize {
        let families: Vec<u64> = self
            .families
            .iter()
            .filter(|(_, family)| !family.revoked && &*family.grantee.user_id == user_id)
            .map(|(&id, _)| id)
            .collect();
        for &id in &families {
            self.revoke_family(id);
        }
        let lone: Vec<Key> = self
            .access
            .keys_where(|record| &*record.grantee.user_id == user_id);
        for token in &lone {
            self.remove_access(token);
        }
        let codes_before = self.codes.len();
        self.codes
            .retain(|_, code| code.used || &*code.grantee.user_id != user_id);
        families.len() + lone.len() + (codes_before - self.codes.len())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::{Grantee, Store, Ttls};

    const TTLS: Ttls = Ttls {
        code: 30_000,
        access: 3_600_000,
        refresh: 5_184_000_000,
    };

    fn grantee(user: &str) -> Grantee {
        Grantee::new("c".into(), user.into(), Arc::from(Vec::<String>::new()))
    }

    #[test]
    fn a_users_codes_pairs_and_server_tokens_die_and_no_one_elses() {
        let mut store = Store::default();
        let code = store.issue_code(grantee("u"), 0, TTLS);
        let pair = store
            .redeem_code(&code, "c", None, 1, TTLS, &mut false)
            .ok()
            .unwrap();
        let server = store.issue_access(grantee("u"), 1, TTLS);
        let unused = store.issue_code(grantee("u"), 1, TTLS);
        let other = store.issue_access(grantee("v"), 1, TTLS);
        assert_eq!(store.revoke_user("u"), 3);
        assert!(store.access(&pair.access_token, 2).is_none());
        assert!(store.access(&server, 2).is_none());
        assert!(store.access(&other, 2).is_some());
        assert!(
            store
                .refresh(&pair.refresh_token, "c", 2, TTLS, &mut false)
                .is_err()
        );
        assert!(
            store
                .redeem_code(&unused, "c", None, 2, TTLS, &mut false)
                .is_err()
        );
        assert_eq!(store.revoke_user("u"), 0, "nothing is left to revoke");
    }
}
