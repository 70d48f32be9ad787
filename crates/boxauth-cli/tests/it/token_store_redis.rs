//! `--token-store redis://…` on `token` commands and environments.

use crate::common;
use boxauth_emulator::{
    DEFAULT_CLIENT_ID as ID, DEFAULT_CLIENT_SECRET as SECRET, DEFAULT_ENTERPRISE_ID, Grant,
};
use boxauth_test_support::emulator as emu;
use boxauth_test_support::redis::{RedisServer, tls_fixture};
use boxauth_test_support::redis_fleet::{RedisCluster, RedisSentinel};

async fn boxauth(config: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let run = common::run(
        common::boxauth(Some(config))
            .args(args)
            .env("BOX_CLIENT_SECRET", SECRET),
    )
    .await;
    (run.code, run.stdout.trim().to_owned(), run.stderr)
}

/// `env add NAME --ccg … --token-store STORE`, with the emulator's URLs when given; the exit
/// code and stderr.
async fn env_add(
    dir: &std::path::Path,
    name: &str,
    store: &str,
    emulator: Option<&boxauth_emulator::EmulatorHandle>,
) -> (i32, String) {
    let mut args = vec![
        "env",
        "add",
        name,
        "--ccg",
        "--client-id",
        ID,
        "--enterprise-id",
        DEFAULT_ENTERPRISE_ID,
        "--token-store",
        store,
    ];
    let oauth2_url = emulator.map(|e| e.oauth2_url());
    if let (Some(emulator), Some(oauth2_url)) = (emulator, &oauth2_url) {
        args.extend([
            "--base-url",
            emulator.base_url(),
            "--oauth2-url",
            oauth2_url,
        ]);
    }
    let (code, _, err) = boxauth(dir, &args).await;
    (code, err)
}

/// `token get` by flags with `--token-store url`, twice: the second process takes the token the
/// first stored, and Box is asked once.
async fn token_shared_through(
    url: &str,
    emulator: &boxauth_emulator::EmulatorHandle,
    dir: &std::path::Path,
) {
    let args = [
        "token",
        "get",
        "--ccg",
        "--client-id",
        ID,
        "--enterprise-id",
        DEFAULT_ENTERPRISE_ID,
        "--token-store",
        url,
        "--base-url",
        emulator.base_url(),
    ];
    let (code, first, err) = boxauth(dir, &args).await;
    assert_eq!(code, 0, "{err}");
    let (_, second, _) = boxauth(dir, &args).await;
    assert_eq!(
        first, second,
        "the second process took the token from Redis"
    );
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 1);
}

#[tokio::test]
async fn processes_share_a_token_through_redis() {
    let redis = RedisServer::start();
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    token_shared_through(&redis.url(), &emulator, dir.path()).await;
    let key = format!("EXISTS {{boxauth:{ID}:enterprise:{DEFAULT_ENTERPRISE_ID}}}:token");
    assert_eq!(
        redis.command(&key).as_deref(),
        Some(":1"),
        "one namespace per identity"
    );
}

#[tokio::test]
async fn an_environment_can_keep_its_tokens_in_redis() {
    let redis = RedisServer::start();
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = env_add(dir.path(), "fleet", &redis.url(), Some(&emulator)).await;
    assert_eq!(code, 0, "{err}");
    let (code, token, err) = boxauth(dir.path(), &["token", "get"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(emu::users_me(&emulator, &token, None).await.0, 200);
    assert_eq!(
        redis.command("EXISTS {boxauth:env:fleet}:token").as_deref(),
        Some(":1")
    );
    assert!(
        !dir.path().join("tokens/fleet.json").exists(),
        "no token file when the store is Redis"
    );
    let (_, listed, _) = boxauth(dir.path(), &["env", "list", "--json"]).await;
    assert!(listed.contains(&redis.url()), "{listed}");
    let (code, _, err) = boxauth(
        dir.path(),
        &[
            "env",
            "add",
            "bad",
            "--ccg",
            "--client-id",
            ID,
            "--enterprise-id",
            "1",
            "--token-store",
            "memcached://x",
        ],
    )
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("must be `file` or a Redis URL"), "{err}");
}

#[tokio::test]
async fn a_redis_password_is_never_shown() {
    for (name, store, shown) in [
        (
            "single",
            "redis://:s3cr3t-redis-pass@127.0.0.1:1/0",
            "redis://:***@127.0.0.1:1/0",
        ),
        (
            "cluster",
            "redis-cluster://:s3cr3t-redis-pass@127.0.0.1:1,127.0.0.1:2",
            "redis-cluster://:***@127.0.0.1:1,127.0.0.1:2",
        ),
        (
            "sentinel",
            "rediss-sentinel://app:s3cr3t-redis-pass@127.0.0.1:1,127.0.0.1:2/mymaster",
            "rediss-sentinel://app:***@127.0.0.1:1,127.0.0.1:2/mymaster",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (code, err) = env_add(dir.path(), "secured", store, None).await;
        assert_eq!(code, 0, "{name}: {err}");
        for args in [&["env", "list"][..], &["env", "list", "--json"][..]] {
            let (code, listed, err) = boxauth(dir.path(), args).await;
            assert_eq!(code, 0, "{err}");
            assert!(listed.contains(shown), "{name}: {listed}");
            assert!(!listed.contains("s3cr3t"), "{name}: {listed}");
        }
        // Nothing listens on ports 1 and 2: the error names the store, without its password.
        let (code, _, err) = boxauth(dir.path(), &["token", "get", "--env", "secured"]).await;
        assert_eq!(code, 1);
        assert!(err.contains(shown), "{name}: {err}");
        assert!(!err.contains("s3cr3t"), "{name}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_store_may_be_a_redis_cluster_or_sentinel() {
    let cluster = RedisCluster::start();
    let sentinel = RedisSentinel::start();
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A cluster, by flags.
    token_shared_through(&cluster.url(), &emulator, dir.path()).await;
    let key = format!("{{boxauth:{ID}:enterprise:{DEFAULT_ENTERPRISE_ID}}}:token");
    let slot = cluster.slot(&key);
    let held: Option<String> = cluster.nodes[cluster.primary_of(slot)]
        .query(redis::cmd("GET").arg(&key))
        .unwrap();
    assert!(held.is_some(), "the token is on the slot's primary");

    // Sentinel, saved with an environment.
    let (code, err) = env_add(dir.path(), "ha", &sentinel.url(), Some(&emulator)).await;
    assert_eq!(code, 0, "{err}");
    let (code, token, err) = boxauth(dir.path(), &["token", "get", "--env", "ha"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(emu::users_me(&emulator, &token, None).await.0, 200);
    let held: Option<String> = sentinel.data[sentinel.primary()]
        .query(redis::cmd("GET").arg("{boxauth:env:ha}:token"))
        .unwrap();
    assert!(held.is_some(), "the token is on the primary Sentinel names");
}

/// `BOX_TOKEN_STORE` with a cluster or Sentinel URL, with no flag and no saved environment: the
/// CLI takes everything from `boxauth::AuthConfig::from_env()`, and the token lands on the
/// primary under the identity's namespace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn box_token_store_may_name_a_redis_cluster_or_sentinel() {
    let cluster = RedisCluster::start();
    let sentinel = RedisSentinel::start();
    let emulator = emu::start().await;
    let key = format!("{{boxauth:{ID}:enterprise:{DEFAULT_ENTERPRISE_ID}}}:token");
    for (store, primary) in [
        (
            cluster.url(),
            &cluster.nodes[cluster.primary_of(cluster.slot(&key))],
        ),
        (sentinel.url(), &sentinel.data[sentinel.primary()]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let run = common::run(
            common::boxauth(Some(dir.path()))
                .args(["token", "get"])
                .env("BOX_CLIENT_ID", ID)
                .env("BOX_CLIENT_SECRET", SECRET)
                .env("BOX_ENTERPRISE_ID", DEFAULT_ENTERPRISE_ID)
                .env("BOX_BASE_URL", emulator.base_url())
                .env("BOX_TOKEN_STORE", &store),
        )
        .await;
        assert_eq!(run.code, 0, "{store}: {}", run.stderr);
        let held: Option<String> = primary.query(redis::cmd("GET").arg(&key)).unwrap();
        let held: serde_json::Value = serde_json::from_str(&held.expect("stored")).unwrap();
        assert_eq!(held["access_token"], run.stdout.trim(), "{store}");
    }
}

#[tokio::test]
async fn a_tls_redis_is_used_with_the_ca_that_signed_it() {
    let redis = RedisServer::start_tls();
    let emulator = emu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = redis.tls_url("localhost");
    let ca = tls_fixture("ca.pem");
    let ca = ca.to_str().unwrap();
    let ccg = [
        "--ccg",
        "--client-id",
        ID,
        "--enterprise-id",
        DEFAULT_ENTERPRISE_ID,
        "--base-url",
        emulator.base_url(),
        "--token-store",
        &url,
    ];

    // Without the CA the certificate is not trusted, and the message says what to give.
    let (code, _, err) = boxauth(dir.path(), &[&["token", "get"][..], &ccg].concat()).await;
    assert_eq!(code, 1);
    assert!(
        err.contains("could not be trusted") && err.contains("--redis-ca-file"),
        "{err}"
    );
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 0);

    let with_ca = [&["token", "get"][..], &ccg, &["--redis-ca-file", ca]].concat();
    let (code, first, err) = boxauth(dir.path(), &with_ca).await;
    assert_eq!(code, 0, "{err}");
    let (_, second, _) = boxauth(dir.path(), &with_ca).await;
    assert_eq!(first, second, "the second process took it from Redis");
    assert_eq!(emulator.stats().requests(Grant::ClientCredentials), 1);
    assert_eq!(
        redis
            .command(&format!(
                "EXISTS {{boxauth:{ID}:enterprise:{DEFAULT_ENTERPRISE_ID}}}:token"
            ))
            .as_deref(),
        Some(":1")
    );

    // Saved with an environment, the CA is used by every command of it.
    let (code, _, err) = boxauth(
        dir.path(),
        &[&["env", "add", "tls"][..], &ccg, &["--redis-ca-file", ca]].concat(),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let (code, token, err) = boxauth(dir.path(), &["token", "get", "--env", "tls"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(emu::users_me(&emulator, &token, None).await.0, 200);
    assert_eq!(
        redis.command("EXISTS {boxauth:env:tls}:token").as_deref(),
        Some(":1")
    );
    let (_, listed, _) = boxauth(dir.path(), &["env", "list", "--json"]).await;
    assert!(listed.contains("ca.pem"), "{listed}");

    // A CA with a file store, or a file that is no certificate, is refused when saved.
    let (code, _, err) = boxauth(
        dir.path(),
        &[
            &["env", "add", "nofile", "--token-store", "file"][..],
            &ccg[..ccg.len() - 2],
            &["--redis-ca-file", ca],
        ]
        .concat(),
    )
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("goes with --token-store rediss://"), "{err}");
    let key = tls_fixture("server.key");
    let (code, _, err) = boxauth(
        dir.path(),
        &[
            &["env", "add", "nocert"][..],
            &ccg,
            &["--redis-ca-file", key.to_str().unwrap()],
        ]
        .concat(),
    )
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("holds no certificate"), "{err}");
}
