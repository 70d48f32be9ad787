//! The demo's vault section: many users of one app, on the in-memory engine (nothing to install).

use std::sync::Arc;
use std::time::Duration;

use boxauth::{
    AuthOptions, Authentication, AuthorizeOptions, BoxClient, IdentityStatus, KeySet,
    NetworkSession, OAuthConfig, Vault, VaultKey, VaultStore,
};
use boxauth_emulator::headless::{self, Decision};
use boxauth_emulator::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI, EmulatorHandle, Grant,
};

use super::{Demo, masked, text};

/// The app's users; the emulator's generated Box users #0, #1 and #2 sign in as them.
pub(super) const USERS: [&str; 3] = ["alice", "bob", "carol"];

pub(super) async fn run(demo: &mut Demo, emulator: &EmulatorHandle, session: &NetworkSession) {
    demo.section("Many users: the token vault");
    let vault = demo
        .step(
            "Vault: one app, a sealing key, the in-memory engine",
            async {
                let (key, _) = VaultKey::generate("demo").map_err(text)?;
                let vault =
                    Vault::builder(OAuthConfig::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
                        .store(VaultStore::memory())
                        .keys(KeySet::new(key, []).map_err(text)?)
                        .options(
                            AuthOptions::default()
                                .session(session.clone())
                                .time_source(emulator.clock().clone()),
                        )
                        .build()
                        .map_err(text)?;
                Ok((
                vault,
                "tokens sealed with AES-256-GCM (key \"demo\"); PostgreSQL with --features postgres"
                    .to_owned(),
            ))
            },
        )
        .await;
    let Some(vault) = vault else { return };
    let connected = demo
        .step(
            "Vault: three users connect through the consent page",
            async {
                let mut lines = Vec::new();
                for (index, user) in USERS.into_iter().enumerate() {
                    let request = vault
                        .authorize_url(
                            user,
                            AuthorizeOptions::default().redirect_uri(DEFAULT_REDIRECT_URI),
                        )
                        .map_err(text)?;
                    let login = boxauth_emulator::generated_users::login(index);
                    let callback = headless::answer(&request.url, &login, Decision::Approve)
                        .await
                        .map_err(text)?;
                    let auth = vault
                        .complete_authorization(user, &callback)
                        .await
                        .map_err(text)?;
                    let me = BoxClient::from_shared(auth)
                        .users_me()
                        .await
                        .map_err(text)?;
                    lines.push(format!("{user} → Box user {} ({login})", me.id));
                }
                Ok(((), lines.join("\n")))
            },
        )
        .await;
    if connected.is_none() {
        return;
    }
    demo.step(
        "Vault: an hour later, 50 tasks per user ask at once; one refresh each",
        async {
            emulator.clock().advance(Duration::from_secs(3601));
            let before = emulator.stats().requests(Grant::RefreshToken);
            let mut tasks = Vec::new();
            for user in USERS {
                let auth: Arc<dyn Authentication> = vault.auth(user).map_err(text)?;
                for _ in 0..50 {
                    let auth = auth.clone();
                    tasks.push(tokio::spawn(async move { auth.retrieve_token().await }));
                }
            }
            for task in tasks {
                task.await.map_err(text)?.map_err(text)?;
            }
            let sent = emulator.stats().requests(Grant::RefreshToken) - before;
            if sent != 3 {
                return Err(format!("{sent} refresh requests were sent"));
            }
            Ok((
                (),
                "150 callers, 3 refresh requests, each new refresh token stored sealed before use"
                    .to_owned(),
            ))
        },
    )
    .await;
    demo.step("Vault: bob disconnects; Box refuses his token", async {
        let token = vault
            .auth("bob")
            .map_err(text)?
            .retrieve_token()
            .await
            .map_err(text)?;
        vault.disconnect("bob").await.map_err(text)?;
        let refused = BoxClient::new(
            boxauth::DeveloperTokenAuth::with_options(
                boxauth::DeveloperTokenConfig::new(token.access_token.clone()),
                AuthOptions::default().session(session.clone()),
            )
            .map_err(text)?,
        )
        .users_me()
        .await;
        if refused.is_ok() {
            return Err("Box still took bob's token".into());
        }
        if vault.status("bob").await.map_err(text)? != IdentityStatus::NotConnected {
            return Err("bob is still in the vault".into());
        }
        let counts = vault.counts().await.map_err(text)?;
        Ok((
            (),
            format!(
                "token {} revoked at Box · {} users still connected",
                masked(&token.access_token),
                counts.active
            ),
        ))
    })
    .await;
}
