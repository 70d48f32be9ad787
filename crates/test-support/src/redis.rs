//! A real `redis-server` on a free loopback port, started and stopped by the test. Not optional:
//! if Debian's `redis-server` is missing the test fails and says how to install it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::free_port;

/// The server. Dropping it stops it and removes its directory.
pub struct RedisServer {
    port: u16,
    /// The TLS port, for a server started with [`RedisServer::start_tls`].
    tls_port: Option<u16>,
    dir: PathBuf,
    durable: bool,
    child: Option<Child>,
}

/// The test CA, the server's certificate (for `127.0.0.1` and `localhost`) and its key: see
/// `fixtures/redis-tls/README.md`.
pub fn tls_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/redis-tls")
        .join(name)
}

impl RedisServer {
    /// Starts a server with an append-only file fsynced on every write, so a restart keeps data.
    pub fn start() -> Self {
        Self::start_with(true, false)
    }

    /// Starts a server that keeps everything in memory only (no fsync on writes).
    pub fn start_in_memory() -> Self {
        Self::start_with(false, false)
    }

    /// Starts a server that also listens with TLS ([`tls_url`](Self::tls_url)), its certificate
    /// signed by the test CA ([`tls_fixture`]`("ca.pem")`). The plain port stays, for
    /// [`command`](Self::command).
    pub fn start_tls() -> Self {
        Self::start_with(false, true)
    }

    fn start_with(durable: bool, tls: bool) -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("boxauth-redis-{port}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = Self {
            port,
            tls_port: tls.then(free_port),
            dir,
            durable,
            child: None,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--save", ""])
            // A TLS server is also reachable as 127.0.0.2, a name its certificate does not carry.
            .args(if self.tls_port.is_some() {
                &["--bind", "127.0.0.1", "127.0.0.2"][..]
            } else {
                &["--bind", "127.0.0.1"][..]
            })
            .args(if self.durable {
                ["--appendonly", "yes", "--appendfsync", "always"]
            } else {
                ["--appendonly", "no", "--appendfsync", "no"]
            })
            .arg("--dir")
            .arg(&self.dir)
            .args(self.tls_port.into_iter().flat_map(|port| {
                [
                    "--tls-port".to_owned(),
                    port.to_string(),
                    "--tls-cert-file".to_owned(),
                    tls_fixture("server.pem").display().to_string(),
                    "--tls-key-file".to_owned(),
                    tls_fixture("server.key").display().to_string(),
                    "--tls-ca-cert-file".to_owned(),
                    tls_fixture("ca.pem").display().to_string(),
                    "--tls-auth-clients".to_owned(),
                    "no".to_owned(),
                ]
            }))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server ({e}): install Debian's redis-server (scripts/test does)")
            });
        self.child = Some(child);
        let started = Instant::now();
        while self.command("PING").as_deref() != Some("+PONG") {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `redis://127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// `rediss://<host>:<TLS port>/0`, for a server started with [`start_tls`](Self::start_tls).
    pub fn tls_url(&self, host: &str) -> String {
        let port = self.tls_port.expect("started with RedisServer::start_tls");
        format!("rediss://{host}:{port}/0")
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Sends one inline command; its first reply line (e.g. `+PONG`, `:12`).
    pub fn command(&self, command: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        stream.write_all(format!("{command}\r\n").as_bytes()).ok()?;
        let mut reply = vec![0u8; 64 * 1024];
        let read = stream.read(&mut reply).ok()?;
        let text = String::from_utf8_lossy(&reply[..read]).into_owned();
        Some(text.lines().next().unwrap_or_default().to_owned())
    }

    /// Makes the server require `password` from every client from now on (`CONFIG SET
    /// requirepass`; the test's own [`Self::command`]s too).
    pub fn require_password(&self, password: &str) {
        assert_eq!(
            self.command(&format!("CONFIG SET requirepass {password}"))
                .as_deref(),
            Some("+OK"),
            "Redis took no password"
        );
    }

    /// The full reply of an inline command (for `INFO`).
    pub fn reply(&self, command: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        stream
            .write_all(format!("{command}\r\n").as_bytes())
            .unwrap();
        let mut reply = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        while let Ok(read) = stream.read(&mut chunk) {
            if read == 0 {
                break;
            }
            reply.extend_from_slice(&chunk[..read]);
        }
        String::from_utf8_lossy(&reply).into_owned()
    }

    /// How many clients are subscribed to `channel` (`PUBSUB NUMSUB`).
    pub fn subscribers(&self, channel: &str) -> i64 {
        let client = ::redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).unwrap();
        let mut connection = client
            .get_connection_with_timeout(Duration::from_secs(5))
            .unwrap();
        let (_, count): (String, i64) = ::redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query(&mut connection)
            .unwrap();
        count
    }

    /// Commands the server has processed so far (`INFO stats`), this query excluded.
    pub fn commands_processed(&self) -> u64 {
        self.reply("INFO stats")
            .lines()
            .find_map(|l| l.strip_prefix("total_commands_processed:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Stops the server (SIGKILL) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops it and starts it again on the same port and data.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
