//! `PgPair`: a primary and a streaming standby; each helper shown to do what it says.

use std::process::Stdio;
use std::time::{Duration, Instant};

use boxauth_test_support::postgres::{DATABASE, PgOptions, PgPair, STANDBY_NAME};

fn pair() -> PgPair {
    PgPair::start(PgOptions::fast())
}

fn wait(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(30), "{what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_row_written_on_the_primary_reaches_the_standby() {
    let pair = pair();
    pair.primary.psql(
        "CREATE TABLE tokens (id int PRIMARY KEY, token text); INSERT INTO tokens VALUES (1, 'a')",
    );
    pair.wait_replayed();
    assert_eq!(
        pair.standby.psql("SELECT token FROM tokens WHERE id = 1"),
        "a"
    );
    assert_eq!(pair.standby.psql("SELECT pg_is_in_recovery()"), "t");
    let refused = pair
        .standby
        .try_psql_in(DATABASE, "INSERT INTO tokens VALUES (2, 'b')")
        .unwrap_err();
    assert!(refused.contains("read-only"), "{refused}");
    assert_ne!(pair.standby.url(), pair.primary.url());
    assert_eq!(
        pair.primary.psql(&format!(
            "SELECT sync_state FROM pg_stat_replication WHERE application_name = '{STANDBY_NAME}'"
        )),
        "async"
    );
}

#[test]
fn with_receiving_paused_a_local_commit_is_not_on_the_promoted_standby() {
    let pair = pair();
    pair.set_synchronous_standby_names(STANDBY_NAME);
    pair.primary
        .psql("CREATE TABLE tokens (id int PRIMARY KEY, token text)");
    pair.primary.psql("INSERT INTO tokens VALUES (1, 'before')");
    pair.wait_replayed();
    pair.pause_receiving();
    // Returns at once: a local commit waits for no standby.
    pair.primary
        .psql("SET synchronous_commit = local; INSERT INTO tokens VALUES (2, 'after')");
    pair.promote();
    assert_eq!(pair.standby.psql("SELECT pg_is_in_recovery()"), "f");
    assert_eq!(
        pair.standby
            .psql("SELECT string_agg(token, ',' ORDER BY id) FROM tokens"),
        "before",
        "the row committed while the standby received nothing is lost"
    );
    pair.standby
        .psql("INSERT INTO tokens VALUES (3, 'on the new primary')");
    pair.resume_receiving();
}

#[test]
fn with_remote_apply_a_commit_waits_for_the_standby_and_survives_promotion() {
    let pair = pair();
    pair.set_synchronous_standby_names(STANDBY_NAME);
    pair.primary
        .psql("CREATE TABLE tokens (id int PRIMARY KEY, token text)");
    pair.wait_replayed();
    pair.pause_receiving();
    let mut commit = pair
        .primary
        .psql_command(
            DATABASE,
            "SET synchronous_commit = remote_apply; INSERT INTO tokens VALUES (1, 'rotated')",
        )
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Not a pause of our own making: the commit is seen waiting for the standby, in the server.
    wait("the commit never waited for the standby", || {
        pair.primary.psql(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE wait_event = 'SyncRep' AND query LIKE '%rotated%'",
        ) == "1"
    });
    assert!(
        commit.try_wait().unwrap().is_none(),
        "the commit returned while the standby received nothing"
    );
    assert_eq!(
        pair.standby.psql("SELECT count(*) FROM tokens"),
        "0",
        "nothing reached the standby while paused"
    );
    pair.resume_receiving();
    assert!(commit.wait().unwrap().success());
    // remote_apply: once the commit returned, the standby has applied it; no wait_replayed here.
    pair.promote();
    assert_eq!(pair.standby.psql("SELECT token FROM tokens"), "rotated");
}

#[test]
fn synchronous_standby_names_set_back_to_empty_makes_commits_local_again() {
    let pair = pair();
    pair.set_synchronous_standby_names(STANDBY_NAME);
    pair.set_synchronous_standby_names("");
    pair.primary.psql("CREATE TABLE t (x int)");
    pair.wait_replayed();
    pair.pause_receiving();
    // With no synchronous standby named, even remote_apply returns at once.
    pair.primary
        .psql("SET synchronous_commit = remote_apply; INSERT INTO t VALUES (1)");
    pair.resume_receiving();
    pair.wait_replayed();
    assert_eq!(pair.standby.psql("SELECT x FROM t"), "1");
}
