//! `--export-config DIR`: the default app as Box's JWT app config file (`box_config.json`, its key
//! encrypted the way Box's console does), and the world as `emulator.json`.

use std::path::{Path, PathBuf};

use pkcs8::pkcs5::pbes2::{EncryptionScheme, Kdf, Parameters, Pbkdf2Params, Pbkdf2Prf};
use serde_json::{Value, json};

use boxauth::internal::private_file::write_private;

use crate::config::App;
use crate::control::Live;
use crate::server::EmulatorHandle;
use crate::tokens::random_bytes;

/// The files written by [`EmulatorHandle::export_config`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedConfig {
    /// `DIR/box_config.json`: Box's JWT app config format.
    pub box_config: PathBuf,
    /// `DIR/emulator.json`: the enterprise, users and app credentials.
    pub emulator_json: PathBuf,
    /// `DIR/emulator-ca.pem`: the CA to trust for `https://` (only when the emulator serves TLS).
    pub ca: Option<PathBuf>,
}

/// Box's console: PBES2, PBKDF2 with HMAC-SHA1 and 2048 iterations, an 8-byte salt, DES-EDE3-CBC.
fn encrypt_like_box_console(pkcs8_der: &[u8], passphrase: &str) -> Result<String, String> {
    let salt = random_bytes::<8>();
    let parameters = Parameters {
        kdf: Kdf::Pbkdf2(Pbkdf2Params {
            salt: salt.as_slice().try_into().map_err(|_| "salt")?,
            iteration_count: 2048,
            key_length: None,
            prf: Pbkdf2Prf::HmacWithSha1,
        }),
        encryption: EncryptionScheme::DesEde3Cbc {
            iv: random_bytes::<8>(),
        },
    };
    let info = pkcs8::PrivateKeyInfoRef::try_from(pkcs8_der).map_err(|e| e.to_string())?;
    let encrypted = info
        .encrypt_with_params(parameters, passphrase)
        .map_err(|e| e.to_string())?;
    let pem = encrypted
        .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
        .map_err(|e| e.to_string())?;
    Ok(pem.to_string())
}

impl EmulatorHandle {
    /// The default app's JWT config in Box's format, with a fresh passphrase.
    pub fn box_config_json(&self) -> Result<String, std::io::Error> {
        let config = self.live.box_config_json()?;
        Ok(serde_json::to_string_pretty(&config).unwrap_or_default())
    }

    /// The world as `emulator.json`: URLs, enterprise, users, items (files and folders a token
    /// may be downscoped to, with their shared links), and the default app's credentials. The
    /// world as it is now, edits included.
    pub fn emulator_json(&self) -> String {
        serde_json::to_string_pretty(&self.live.emulator_json()).unwrap_or_default()
    }
}

impl Live {
    fn default_app(&self) -> &App {
        // An emulator starts only with a world that has an app.
        self.config
            .world
            .apps
            .first()
            .expect("the world has an app")
    }

    /// `{base_url}/api/oauth2`.
    pub(crate) fn oauth2_url(&self) -> String {
        format!("{}/api/oauth2", self.base_url)
    }

    /// The default app's JWT config in Box's format, with a fresh passphrase.
    pub(crate) fn box_config_json(&self) -> Result<Value, std::io::Error> {
        let app = self.default_app();
        let key = app.keys.iter().find(|k| k.private_pkcs8.is_some()).ok_or_else(|| {
            std::io::Error::other(format!(
                "app {} has no private key the emulator knows (only public keys were configured), \
                 so no Box config file can be written for it",
                app.client_id
            ))
        })?;
        let passphrase: String = crate::tokens::hex(&random_bytes::<16>());
        let der = key
            .private_pkcs8
            .as_deref()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let private_key = encrypt_like_box_console(der, &passphrase).map_err(|e| {
            std::io::Error::other(format!("could not encrypt the private key: {e}"))
        })?;
        let config = json!({
            "boxAppSettings": {
                "clientID": app.client_id,
                "clientSecret": app.client_secret,
                "appAuth": {
                    "publicKeyID": key.id,
                    "privateKey": private_key,
                    "passphrase": passphrase,
                },
            },
            "enterpriseID": app.enterprise_id,
        });
        Ok(config)
    }

    /// The world as `emulator.json`, edits included.
    pub(crate) fn emulator_json(&self) -> Value {
        let world = self.world();
        let app = self.default_app();
        let users: Vec<_> = world
            .users
            .iter()
            .map(|u| json!({"id": u.id, "login": u.login, "name": u.name, "role": u.role.as_str()}))
            .collect();
        let items: Vec<_> = world
            .items
            .iter()
            .map(|item| {
                json!({
                    "type": item.kind.as_str(),
                    "id": item.id,
                    "name": item.name,
                    "owner_id": item.owner_id,
                    "collaborators": item.collaborators,
                    "shared_link": item.shared_link,
                    "url": format!("https://api.box.com/2.0/{}s/{}", item.kind.as_str(), item.id),
                })
            })
            .collect();
        let shared_links: Vec<_> = world
            .items
            .iter()
            .filter_map(|item| {
                item.shared_link
                    .as_ref()
                    .map(|link| json!({"url": link, "type": item.kind.as_str(), "id": item.id}))
            })
            .collect();
        json!({
            "base_url": self.base_url,
            "oauth2_url": self.oauth2_url(),
            "enterprise_id": app.enterprise_id,
            "users": users,
            "items": items,
            "shared_links": shared_links,
            "app": {
                "name": app.name,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "redirect_uris": app.redirect_uris,
                "public_key_ids": app.keys.iter().map(|k| k.id.clone()).collect::<Vec<_>>(),
            },
        })
    }
}

impl EmulatorHandle {
    /// Writes `DIR/box_config.json` and `DIR/emulator.json` (mode 0600: they hold secrets), and
    /// with TLS `DIR/emulator-ca.pem`, creating `DIR` if needed.
    pub fn export_config(&self, dir: &Path) -> Result<ExportedConfig, std::io::Error> {
        std::fs::create_dir_all(dir)?;
        let exported = ExportedConfig {
            box_config: dir.join("box_config.json"),
            emulator_json: dir.join("emulator.json"),
            ca: self.ca_pem().map(|_| dir.join("emulator-ca.pem")),
        };
        write_private(&exported.box_config, self.box_config_json()?.as_bytes())?;
        write_private(&exported.emulator_json, self.emulator_json().as_bytes())?;
        if let (Some(path), Some(pem)) = (&exported.ca, self.ca_pem()) {
            write_private(path, pem.as_bytes())?;
        }
        Ok(exported)
    }
}
