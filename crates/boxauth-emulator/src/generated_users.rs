//! Worlds with many users: `boxauth emulator --users N`, `[settings] generated_users = N` in a
//! config file, [`EmulatorConfig::with_generated_users`](crate::EmulatorConfig::with_generated_users).
//!
//! Generated user #`index` (from 0) is a managed user (role `user`, so it can approve an app on
//! the consent page) of the default app's enterprise, the same in every run:
//!
//! | index | ID | login | name |
//! |---|---|---|---|
//! | 0 | `210000001` | `user-000000@emulated.example` | `Generated User 000000` |
//! | 41 | `210000042` | `user-000041@emulated.example` | `Generated User 000041` |
//!
//! Each costs the emulator about 500 bytes of memory before it holds any token (measured on
//! 2026-12-07: 325 bytes for its record, 200 for the emulator's indexes by ID and login), hence
//! the cap, [`MAX`]: a million users, about half a GiB (and 15 s to start in a debug build).

use crate::config::{ConfigError, EmulatorConfig, Role, User, World};

/// The most users a world may have generated (IDs `210000001` to `211000000`).
pub const MAX: usize = 1_000_000;

/// Generated user #0's ID; #`index` has this plus `index`.
const FIRST_ID: u64 = 210_000_001;

/// Generated user #`index`'s ID.
pub fn id(index: usize) -> String {
    (FIRST_ID + index as u64).to_string()
}

/// Generated user #`index`'s login: `user-000041@emulated.example` for #41.
pub fn login(index: usize) -> String {
    format!("user-{index:06}@emulated.example")
}

/// Generated user #`index`'s display name.
pub fn name(index: usize) -> String {
    format!("Generated User {index:06}")
}

/// The index of a generated user (its ID and login both say so); `None` for any other user.
pub fn index(user: &User) -> Option<usize> {
    user.id
        .parse::<u64>()
        .ok()
        .and_then(|id| id.checked_sub(FIRST_ID))
        .and_then(|index| usize::try_from(index).ok())
        .filter(|&index| index < MAX && user.login == login(index))
}

/// `world` with exactly `count` generated users in `enterprise_id`: those it had are replaced.
pub(crate) fn set(world: &mut World, count: usize, enterprise_id: &str) -> Result<(), ConfigError> {
    if count > MAX {
        return Err(ConfigError::invalid(format!(
            "{count} generated users is more than the emulator makes: at most {MAX} (each costs \
             about 500 bytes of memory before it holds a token)"
        )));
    }
    world.users.retain(|user| index(user).is_none());
    world.users.reserve(count);
    world.users.extend((0..count).map(|index| User {
        id: id(index),
        login: login(index),
        name: name(index),
        role: Role::User,
        enterprise_id: enterprise_id.to_owned(),
        app_client_id: None,
    }));
    Ok(())
}

impl EmulatorConfig {
    /// This configuration with exactly `count` generated users (see
    /// [`generated_users`](crate::generated_users)) in the default app's enterprise, replacing
    /// any it had: `0` removes them. More than [`MAX`] is refused
    /// ([`ConfigErrorKind::Invalid`](crate::ConfigErrorKind::Invalid)), as is a generated ID or
    /// login that another user of the world already has
    /// ([`ConfigErrorKind::Duplicate`](crate::ConfigErrorKind::Duplicate)).
    pub fn with_generated_users(mut self, count: usize) -> Result<Self, ConfigError> {
        let enterprise = self
            .default_app()
            .map(|app| app.enterprise_id.clone())
            .or_else(|| self.world.enterprises.first().map(|e| e.id.clone()))
            .ok_or_else(|| {
                ConfigError::invalid("the world has no enterprise for generated users to join")
            })?;
        set(
            std::sync::Arc::make_mut(&mut self.world),
            count,
            &enterprise,
        )?;
        crate::config::validate(&self.world)?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConfigErrorKind;

    #[test]
    fn users_are_numbered_the_same_way_every_time() {
        assert_eq!(
            (id(0), login(0), name(0)),
            (
                "210000001".to_owned(),
                "user-000000@emulated.example".to_owned(),
                "Generated User 000000".to_owned()
            )
        );
        assert_eq!(id(MAX - 1), "211000000");
        assert_eq!(login(MAX - 1), "user-999999@emulated.example");
    }

    #[test]
    fn generated_users_are_replaced_not_added_twice() {
        let config = EmulatorConfig::default();
        let before = config.world.users.len();
        let config = config.with_generated_users(5).unwrap();
        assert_eq!(config.world.users.len(), before + 5);
        let config = config.with_generated_users(2).unwrap();
        assert_eq!(config.world.users.len(), before + 2);
        assert!(config.world.users.iter().any(|u| u.login == login(1)));
        assert!(!config.world.users.iter().any(|u| u.login == login(2)));
        let config = config.with_generated_users(0).unwrap();
        assert_eq!(config.world.users.len(), before);
    }

    #[test]
    fn absurd_counts_and_clashes_are_typed_errors() {
        let too_many = EmulatorConfig::default().with_generated_users(MAX + 1);
        assert_eq!(too_many.unwrap_err().kind(), ConfigErrorKind::Invalid);
        let mut config = EmulatorConfig::default();
        std::sync::Arc::make_mut(&mut config.world).users[1].id = id(3);
        let clash = config.with_generated_users(10);
        assert_eq!(clash.unwrap_err().kind(), ConfigErrorKind::Duplicate);
    }
}
