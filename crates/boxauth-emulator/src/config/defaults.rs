//! The default world: what `Emulator::start(EmulatorConfig::default())` and `boxauth emulator` serve.
//! The values have Box's shapes (32-character client ID and secret, 8-character key ID, numeric IDs)
//! and are fixed, so examples and documentation can quote them.

use super::{AccessLevel, App, Enterprise, Grant, Item, ItemKind, Role, User, World};
use crate::keys::AppKey;

/// The enterprise's ID.
pub const DEFAULT_ENTERPRISE_ID: &str = "100000001";
/// The admin's user ID.
pub const DEFAULT_ADMIN_ID: &str = "200000001";
/// The admin's login, prefilled on the consent page.
pub const DEFAULT_ADMIN_LOGIN: &str = "admin@emulated.example";
/// A managed user's ID.
pub const DEFAULT_MANAGED_USER_ID: &str = "200000002";
/// The app user's ID.
pub const DEFAULT_APP_USER_ID: &str = "200000003";
/// The app's service account user ID.
pub const DEFAULT_SERVICE_ACCOUNT_ID: &str = "200000004";
/// The app's client ID.
pub const DEFAULT_CLIENT_ID: &str = "boxauthemulatorclientid000000001";
/// The app's client secret.
pub const DEFAULT_CLIENT_SECRET: &str = "BoxAuthEmulatorClientSecret00001";
/// The app's registered key ID (`publicKeyID`).
pub const DEFAULT_KEY_ID: &str = "emu1key1";
/// The app's registered redirect URI (any port on localhost matches it, as at Box).
pub const DEFAULT_REDIRECT_URI: &str = "http://localhost:3000/callback";

fn user(id: &str, login: &str, name: &str, role: Role) -> User {
    User {
        id: id.into(),
        login: login.into(),
        name: name.into(),
        role,
        enterprise_id: DEFAULT_ENTERPRISE_ID.into(),
        app_client_id: matches!(role, Role::AppUser | Role::ServiceAccount)
            .then(|| DEFAULT_CLIENT_ID.into()),
    }
}

/// The default world.
pub(crate) fn world() -> World {
    // Generating an RSA key only fails if the system's random source does: nothing to recover.
    world_with_key(AppKey::default_key(DEFAULT_KEY_ID).expect("generate the default RSA key"))
}

/// The default world with `key` as the app's registered key (its ID becomes [`DEFAULT_KEY_ID`]).
pub(crate) fn world_with_key(mut key: AppKey) -> World {
    key.id = DEFAULT_KEY_ID.into();
    World {
        enterprises: vec![Enterprise {
            id: DEFAULT_ENTERPRISE_ID.into(),
            name: "Emulated Enterprise".into(),
        }],
        users: vec![
            user(
                DEFAULT_ADMIN_ID,
                DEFAULT_ADMIN_LOGIN,
                "Ada Admin",
                Role::Admin,
            ),
            user(
                DEFAULT_MANAGED_USER_ID,
                "managed@emulated.example",
                "Manny Managed",
                Role::User,
            ),
            user(
                DEFAULT_APP_USER_ID,
                "AppUser_1000001_Kq3xT0pLm9@boxdevedition.com",
                "Appy App User",
                Role::AppUser,
            ),
            user(
                DEFAULT_SERVICE_ACCOUNT_ID,
                "AutomationUser_1000001_Zr8wQ2nVb4@boxdevedition.com",
                "boxauth emulator app",
                Role::ServiceAccount,
            ),
        ],
        apps: vec![App {
            name: "boxauth emulator app".into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            enterprise_id: DEFAULT_ENTERPRISE_ID.into(),
            grants: Grant::ALL.to_vec(),
            redirect_uris: vec![DEFAULT_REDIRECT_URI.into()],
            scopes: vec![
                "root_readwrite".into(),
                "manage_users".into(),
                "manage_app_users".into(),
                "manage_webhook".into(),
            ],
            keys: vec![key],
            access_level: AccessLevel::AppAndEnterprise,
            generate_user_tokens: true,
            as_user: true,
            authorized: true,
            service_account_id: DEFAULT_SERVICE_ACCOUNT_ID.into(),
            cors_origins: vec!["http://localhost:3000".into()],
            app_tokens: super::AppTokens::default(),
        }],
        items: vec![
            Item {
                kind: ItemKind::Folder,
                id: "300000001".into(),
                name: "Contracts".into(),
                owner_id: DEFAULT_ADMIN_ID.into(),
                collaborators: vec![DEFAULT_SERVICE_ACCOUNT_ID.into()],
                shared_link: Some("https://app.box.com/s/emulatedcontractsfolder0001".into()),
                sha1: None,
            },
            Item {
                kind: ItemKind::File,
                id: "400000001".into(),
                name: "Contract.pdf".into(),
                owner_id: DEFAULT_ADMIN_ID.into(),
                collaborators: vec![
                    DEFAULT_SERVICE_ACCOUNT_ID.into(),
                    DEFAULT_APP_USER_ID.into(),
                ],
                shared_link: Some("https://app.box.com/s/emulatedcontractpdf000001".into()),
                sha1: Some("85136c79cbf9fe36bb9d05d0639c70c265c18d37".into()),
            },
            Item {
                kind: ItemKind::File,
                id: "400000002".into(),
                name: "Private notes.txt".into(),
                owner_id: DEFAULT_MANAGED_USER_ID.into(),
                collaborators: Vec::new(),
                shared_link: None,
                sha1: Some("134b65991ed521fcfe4724b7d814ab8ded5185dc".into()),
            },
        ],
    }
}
