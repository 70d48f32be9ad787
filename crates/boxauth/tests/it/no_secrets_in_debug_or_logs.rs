//! No secret in `Debug` or logs: every auth type and storage (memory, file, Redis) is formatted with `{:?}`, and tracing
//! output is captured at TRACE through full flows of every scheme; none of the secret values used
//! (client secret, private key, passphrase, codes, assertions, access and refresh tokens) appears.

use std::io::Write;
use std::sync::{Arc, Mutex};

use boxauth::{
    AuthOptions, Authentication, AuthorizeOptions, BoxClient, CcgAuth, CcgConfig,
    DeveloperTokenAuth, DeveloperTokenConfig, FileStorage, JwtAuth, JwtConfig, MemoryStorage,
    OAuth, OAuthConfig, RedisStorage, TokenStorage,
};
use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID,
};
use boxauth_test_support::emulator as emu;
use boxauth_test_support::redis::RedisServer;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_reaches_debug_output_or_trace_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    // A global subscriber that takes nothing, so this test's thread-local one below is never
    // the only one registered: with just one, tracing asks the *calling thread's* default
    // whether a new callsite is wanted, so a `debug!` another test reached first (on a thread
    // with no subscriber) would stay disabled here too, and its secrets go unchecked. (The
    // other tests of the binary set no subscriber; setting this one twice is harmless.)
    let _ = tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default());
    // This thread's subscriber (the test's runtime runs every task here): the other tests of
    // the binary log elsewhere.
    let _logging = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    );

    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let exported = emulator.export_config(dir.path()).unwrap();
    let box_config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&exported.box_config).unwrap()).unwrap();
    let mut secrets: Vec<String> = vec![SECRET.to_owned()];
    secrets.push(
        box_config["boxAppSettings"]["appAuth"]["passphrase"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let pem = box_config["boxAppSettings"]["appAuth"]["privateKey"]
        .as_str()
        .unwrap();
    secrets.extend(
        pem.lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::to_owned),
    );

    let mut debug = Vec::new();
    let keep = |token: &boxauth::AccessToken, secrets: &mut Vec<String>| {
        secrets.extend(token.access_token.iter().map(|t| t.secret().to_owned()));
        secrets.extend(token.refresh_token.iter().map(|t| t.secret().to_owned()));
    };
    let session = emu::session(&emulator);

    // OAuth 2.0 with a token file.
    let storage = FileStorage::new(dir.path().join("tokens.json"));
    let oauth = OAuth::with_options(
        OAuthConfig::new(ID, SECRET),
        AuthOptions::default()
            .session(session.clone())
            .storage(storage.clone()),
    )
    .unwrap();
    let login = emu::log_in(&oauth, AuthorizeOptions::default()).await;
    secrets.extend([login.request.state().to_owned(), login.code]);
    let (request, first) = (login.request, login.token);
    keep(&first.to_access_token(), &mut secrets);
    let refreshed = oauth.refresh_token().await.unwrap();
    keep(&refreshed.to_access_token(), &mut secrets);
    keep(
        &oauth
            .downscope_token(&["item_preview"], None, None)
            .await
            .unwrap(),
        &mut secrets,
    );
    secrets.push(
        oauth
            .authorization_header()
            .await
            .unwrap()
            .secret()
            .to_owned(),
    );
    BoxClient::new(oauth.clone()).users_me().await.unwrap();
    debug.push(format!(
        "{oauth:?} {request:?} {storage:?} {:?} {first:?} {:?}",
        storage.load().await,
        oauth.retrieve_token().await
    ));
    oauth.revoke_token().await.unwrap();

    // JWT, with an assertion built by hand too.
    let jwt = JwtAuth::with_options(
        JwtConfig::from_config_file(&exported.box_config).unwrap(),
        AuthOptions::default().session(session.clone()),
    )
    .unwrap();
    secrets.push(jwt.create_assertion().unwrap().secret().to_owned());
    keep(
        &jwt.retrieve_token().await.unwrap().to_access_token(),
        &mut secrets,
    );
    keep(
        &jwt.refresh_token().await.unwrap().to_access_token(),
        &mut secrets,
    );
    keep(
        &jwt.downscope_token(
            &["item_preview"],
            Some("https://api.box.com/2.0/files/400000001"),
            None,
        )
        .await
        .unwrap(),
        &mut secrets,
    );
    debug.push(format!(
        "{jwt:?} {:?} {:?}",
        jwt.config(),
        jwt.retrieve_token().await
    ));
    jwt.revoke_token().await.unwrap();

    // Client credentials with memory storage.
    let memory = MemoryStorage::new();
    let ccg = emu::ccg_auth(&emulator, AuthOptions::default().storage(memory.clone()));
    keep(
        &ccg.retrieve_token().await.unwrap().to_access_token(),
        &mut secrets,
    );
    debug.push(format!(
        "{ccg:?} {:?} {memory:?} {:?}",
        ccg.config(),
        memory.load().await
    ));
    ccg.revoke_token().await.unwrap();

    // Client credentials with Redis storage behind a password: the password is in the URL.
    let redis = RedisServer::start_in_memory();
    let password = "redis-password-not-to-be-shown";
    redis.require_password(password);
    secrets.push(password.to_owned());
    let shared = RedisStorage::new(
        &format!("redis://:{password}@127.0.0.1:{}/0", redis.port()),
        "boxauth:test:secrets",
    )
    .unwrap();
    let fleet = emu::ccg_auth(&emulator, AuthOptions::default().storage(shared.clone()));
    keep(
        &fleet.retrieve_token().await.unwrap().to_access_token(),
        &mut secrets,
    );
    keep(
        &fleet.refresh_token().await.unwrap().to_access_token(),
        &mut secrets,
    );
    let stored = shared.load().await;
    assert!(
        matches!(&stored, Ok(Some(_))),
        "the token went through Redis: {stored:?}"
    );
    debug.push(format!("{fleet:?} {shared:?} {stored:?}"));
    fleet.revoke_token().await.unwrap();

    // A developer token, and what happens when it is refused.
    let developer = emu::service_token(&emulator).await;
    secrets.push(developer.clone());
    let dev = DeveloperTokenAuth::with_options(
        DeveloperTokenConfig::new(developer.as_str()).client_credentials(ID, SECRET),
        AuthOptions::default().session(session.clone()),
    )
    .unwrap();
    BoxClient::new(dev.clone()).users_me().await.unwrap();
    dev.revoke_token().await.unwrap();
    let refused = BoxClient::new(dev.clone()).users_me().await.unwrap_err();
    debug.push(format!("{dev:?} {refused:?} {refused} {session:?}"));

    // The middleware, through which a revoked token is refused and replaced (a 401 and a
    // refresh in the logs), and the auth described as data.
    let behind = emu::ccg_auth(&emulator, AuthOptions::default());
    let behind: std::sync::Arc<dyn Authentication> = std::sync::Arc::new(behind);
    let client = reqwest_middleware::ClientBuilder::new(
        reqwest::Client::builder().no_proxy().build().unwrap(),
    )
    .with(boxauth::BoxAuthMiddleware::new(behind.clone()))
    .build();
    let url = format!("{}/2.0/users/me", emulator.base_url());
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    let revoked = behind.retrieve_token().await.unwrap();
    keep(&revoked.to_access_token(), &mut secrets);
    emu::revoke(&emulator, revoked.access_token.secret()).await;
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    keep(
        &behind.retrieve_token().await.unwrap().to_access_token(),
        &mut secrets,
    );
    let layer = boxauth::BoxAuthLayer::new(behind.clone());
    let config = boxauth::AuthConfig::new(boxauth::AuthMethod::Ccg {
        client_id: ID.into(),
        client_secret: SECRET.into(),
        enterprise_id: Some(DEFAULT_ENTERPRISE_ID.into()),
        user_id: None,
    })
    .token_store(
        format!("redis://:{password}@127.0.0.1:1/0")
            .parse()
            .unwrap(),
    );
    let from_config = config.build().unwrap();
    let json = boxauth::AuthConfig::new(boxauth::AuthMethod::Jwt {
        config_file: None,
        config_json: Some(
            std::fs::read_to_string(&exported.box_config)
                .unwrap()
                .into(),
        ),
        user_id: None,
    });
    debug.push(format!(
        "{client:?} {layer:?} {config:?} {from_config:?} {json:?}"
    ));

    // A refused grant's error, formatted both ways.
    let bad = CcgAuth::with_options(
        CcgConfig::enterprise(ID, "wrong-secret-value", DEFAULT_ENTERPRISE_ID),
        AuthOptions::default().session(session),
    )
    .unwrap();
    let error = bad.retrieve_token().await.unwrap_err();
    secrets.push("wrong-secret-value".into());
    debug.push(format!("{bad:?} {error:?} {error}"));

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("TRACE") || logs.contains("DEBUG"),
        "the capture works: {logs}"
    );
    secrets.retain(|s| s.len() >= 8);
    assert!(
        secrets.len() > 30,
        "the test collected the secrets it used: {}",
        secrets.len()
    );
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret appears in the logs"
        );
        for shown in &debug {
            assert!(
                !shown.contains(secret.as_str()),
                "a secret appears in Debug output: {shown}"
            );
        }
    }
}
