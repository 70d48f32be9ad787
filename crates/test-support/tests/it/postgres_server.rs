//! `PgServer`: a real PostgreSQL server on a free port, stopped, crashed and dropped as its
//! docs say, leaving no process behind.

use std::process::Command;

use boxauth_test_support::postgres::{DATABASE, PSQL_SCRIPTED, PgOptions, PgServer, USER};

/// psql as a client connecting by URL (the way the library's engine connects).
fn psql_url(url: &str, sql: &str) -> Result<String, String> {
    let output = Command::new("/usr/lib/postgresql/15/bin/psql")
        .args(PSQL_SCRIPTED)
        .args([url, "-c", sql])
        .env_remove("PGPASSWORD")
        .output()
        .unwrap();
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// Every process of the server: the postmaster and its children (by their parent, in /proc).
fn processes(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        if stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            == Some(pid.to_string().as_str())
        {
            all.push(child);
        }
    }
    all
}

/// Whether `pid` runs (a zombie has exited).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
        })
        == Some(false)
}

fn wait_until_gone(pids: &[u32]) {
    let started = std::time::Instant::now();
    while pids.iter().any(|&pid| alive(pid)) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "still running: {:?}",
            pids.iter().filter(|&&p| alive(p)).collect::<Vec<_>>()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn the_url_connects_as_the_databases_owner_with_its_password() {
    let server = PgServer::start_with(PgOptions::fast());
    let url = server.url();
    assert_eq!(
        url,
        format!(
            "postgres://{USER}:{}@127.0.0.1:{}/{DATABASE}",
            server.password(),
            server.port()
        )
    );
    assert_eq!(
        psql_url(&url, "SELECT current_user, current_database()").unwrap(),
        format!("{USER}|{DATABASE}")
    );
    assert_eq!(
        psql_url(
            &url,
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        .unwrap(),
        "f",
        "the app's role is not a superuser"
    );
    psql_url(&url, "CREATE TABLE mine (x int)").expect("the role owns its database");
    let wrong = url.replace(server.password(), "not-the-password");
    let refused = psql_url(&wrong, "SELECT 1").unwrap_err();
    assert!(
        refused.contains("password authentication failed"),
        "{refused}"
    );
    // The superuser's psql goes over the private socket.
    assert_eq!(server.psql("SELECT current_user"), "postgres");
    assert_eq!(
        server.psql("SHOW fsync"),
        "off",
        "PgOptions::fast turns fsync off"
    );
    let other = server.create_database("second");
    assert_eq!(
        psql_url(&other, "SELECT current_database()").unwrap(),
        "second"
    );
}

#[test]
fn the_server_runs_as_the_postgres_user_with_safe_defaults() {
    let server = PgServer::start();
    assert_eq!(server.psql("SHOW fsync"), "on");
    assert_eq!(server.psql("SHOW synchronous_commit"), "on");
    let pid = server.pid().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let postgres_uid = passwd
        .lines()
        .find(|l| l.starts_with("postgres:"))
        .map(|l| l.split(':').nth(2).unwrap().to_owned());
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        assert_eq!(Some(uid), postgres_uid, "initdb and postgres refuse root");
    }
}

#[test]
fn stopped_and_started_again_it_keeps_its_data_and_port() {
    let mut server = PgServer::start_with(PgOptions::fast());
    let (port, url) = (server.port(), server.url());
    psql_url(&url, "CREATE TABLE t (x int); INSERT INTO t VALUES (7)").unwrap();
    let processes = processes(server.pid().unwrap());
    assert!(
        processes.len() > 3,
        "a postmaster and its helpers: {processes:?}"
    );
    server.stop();
    assert!(!server.is_running());
    wait_until_gone(&processes);
    assert!(psql_url(&url, "SELECT 1").is_err(), "stopped means stopped");
    assert!(server.try_psql_in(DATABASE, "SELECT 1").is_err());
    server.start_again();
    assert_eq!(server.port(), port);
    assert_eq!(psql_url(&url, "SELECT x FROM t").unwrap(), "7");
}

#[test]
fn killed_it_leaves_no_process_and_recovers_what_was_committed() {
    let mut server = PgServer::start();
    server.psql("CREATE TABLE t (x int)");
    // Open sessions are processes too: a client connected while the crash happens.
    let mut client = server
        .psql_command(DATABASE, "SELECT pg_sleep(600)")
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while server.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'")
        != "1"
    {
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    server.psql("INSERT INTO t VALUES (1)");
    let before = processes(server.pid().unwrap());
    server.kill();
    assert!(!server.is_running());
    assert!(
        before.iter().all(|&pid| !alive(pid)),
        "kill returns once every process is gone: {before:?}"
    );
    assert!(!client.wait().unwrap().success(), "the session was cut");
    server.start_again();
    assert_eq!(
        server.psql("SELECT x FROM t"),
        "1",
        "crash recovery kept the commit"
    );
}

#[test]
fn dropped_even_by_a_panic_it_leaves_no_process_and_no_directory() {
    let (sender, receiver) = std::sync::mpsc::channel();
    let panicked = std::thread::spawn(move || {
        let server = PgServer::start_with(PgOptions::fast());
        sender
            .send((processes(server.pid().unwrap()), server.data_dir()))
            .unwrap();
        panic!("a failing test");
    })
    .join();
    assert!(panicked.is_err());
    let (pids, data_dir) = receiver.recv().unwrap();
    assert!(pids.iter().all(|&pid| !alive(pid)), "{pids:?}");
    assert!(!data_dir.exists());
}

/// When this variable is set, the test below is the child: it starts a server, prints its
/// PID and dies without dropping anything.
const CHILD: &str = "BOXAUTH_TEST_PG_ORPHAN_CHILD";

#[test]
fn a_server_dies_with_the_test_process_that_never_dropped_it() {
    if std::env::var_os(CHILD).is_some() {
        let server = Box::leak(Box::new(PgServer::start_with(PgOptions::fast())));
        println!("POSTMASTER {}", server.pid().unwrap());
        println!("DIR {}", server.data_dir().parent().unwrap().display());
        // SAFETY: kill and getpid have no preconditions; SIGKILL ends this process here.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        unreachable!();
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "postgres_server::a_server_dies_with_the_test_process_that_never_dropped_it",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let pid: u32 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("POSTMASTER "))
        .unwrap_or_else(|| {
            panic!(
                "the child printed no PID: {stdout} {}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
        .parse()
        .unwrap();
    wait_until_gone(&[pid]);
    // Nothing dropped it: its directory is left for the test to remove.
    let dir = stdout.lines().find_map(|l| l.strip_prefix("DIR ")).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}
