//! `boxauth env move-secrets --to keychain|file`: every environment's secrets, and its cached
//! token, into the OS keychain or back into the files, leaving no copy behind.

use crate::environments::Store;
use crate::output::Output;
use crate::secrets::{self, Home};

/// Moves every environment whose secrets are not in `to` there.
pub async fn run(store: &Store, to: Home, out: &Output) -> boxauth::Result<()> {
    if to == Home::Keychain {
        secrets::choose(Some(Home::Keychain), "")?;
    }
    let mut all = store.load()?;
    if let Some((name, saved)) = all.locked.iter().next() {
        return Err(store.unreadable(name, saved));
    }
    let mut moved = Vec::new();
    for (name, environment) in &mut all.environments {
        if environment.secrets == to {
            continue;
        }
        // Its cached token first: copied, then the old copy removed.
        if environment.own_file() {
            let file = environment.config.storage()?;
            let keychain: std::sync::Arc<dyn boxauth::TokenStorage> =
                std::sync::Arc::new(crate::keychain_tokens::KeychainTokens::new(
                    store.token_account(name),
                    &store.token_file(name),
                ));
            if let Some(file) = file {
                let (from, into) = match to {
                    Home::Keychain => (file, keychain),
                    Home::File => (keychain, file),
                };
                if let Some(token) = from.load().await? {
                    into.store(&token).await?;
                }
                from.clear().await?;
            }
        }
        environment.set_secrets(store, name, to);
        moved.push(name.clone());
    }
    // Into the keychain: the items are written before the file loses the secrets.
    // Into the file: the file has them before the items are deleted.
    store.save(&all)?;
    if to == Home::File {
        for name in &moved {
            secrets::delete(&store.account(name))?;
        }
    }
    out.note(&format!(
        "{} environment(s) now keep their secrets in the {}{}",
        moved.len(),
        to.name(),
        if moved.is_empty() {
            String::new()
        } else {
            format!(": {}", moved.join(", "))
        }
    ));
    Ok(())
}
