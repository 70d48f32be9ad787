//! A real Secret Service (the OS keychain on Linux): Debian's `gnome-keyring-daemon` with only its
//! secrets component, on a session bus of its own (`dbus-run-session`), its login keyring created
//! and unlocked with a password fed on stdin, every file it keeps in a temporary HOME/XDG tree.
//! Dropping it ends the daemon; `dbus-run-session` then ends its bus, and every process is reaped.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const INSTALL: &str =
    "install Debian's gnome-keyring, dbus-daemon and dbus-bin (scripts/test installs them)";

/// A running Secret Service; `bus_address` is its session bus, for `DBUS_SESSION_BUS_ADDRESS`.
pub struct SecretService {
    child: Child,
    /// gnome-keyring-daemon's process ID.
    daemon: libc::pid_t,
    /// The session bus's address.
    pub bus_address: String,
    dir: tempfile::TempDir,
}

impl SecretService {
    /// Starts it and waits until the service is on the bus and its login keyring exists
    /// (conditions, not a sleep); panics after a minute, or saying what to install.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| {
            let p = dir.path().join(name);
            std::fs::create_dir_all(&p).unwrap();
            std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .unwrap();
            p
        };
        let (home, data, runtime) = (path("home"), path("data"), path("runtime"));
        let mut child = Command::new("dbus-run-session")
            .args([
                "--",
                "sh",
                "-c",
                // In the background so that ending it lets dbus-run-session end its bus and
                // exit (a background job's stdin is /dev/null unless given: fd 3 is ours).
                "echo \"$DBUS_SESSION_BUS_ADDRESS\"; exec 3<&0; \
                 gnome-keyring-daemon --foreground --unlock --components=secrets <&3 3<&- & \
                 exec 3<&-; echo $!; wait",
            ])
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("DISPLAY")
            .env("HOME", &home)
            .env("XDG_DATA_HOME", &data)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.path().join("daemon.log")).unwrap())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run dbus-run-session ({e}): {INSTALL}"));
        // The login keyring's password, then end of input: the daemon creates and unlocks it.
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"test-keyring-password").unwrap();
        drop(stdin);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut line = || lines.next().and_then(Result::ok).unwrap_or_default();
        let (line, daemon) = (line(), line());
        let bus_address = line.trim().to_owned();
        assert!(
            bus_address.starts_with("unix:"),
            "dbus-run-session gave no session bus ({line:?}): {INSTALL}"
        );
        let mut service = Self {
            daemon: daemon.trim().parse().unwrap_or_else(|_| {
                panic!("no gnome-keyring-daemon process ID ({daemon:?}): {INSTALL}")
            }),
            child,
            bus_address,
            dir,
        };
        let login = data.join("keyrings/login.keyring");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !(login.exists() && service.on_the_bus()) {
            if let Ok(Some(status)) = service.child.try_wait() {
                panic!(
                    "gnome-keyring-daemon ended ({status}; it said {:?}): {INSTALL}",
                    service.log()
                );
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited a minute for gnome-keyring-daemon's Secret Service on the bus (it said \
                 {:?})",
                service.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        service
    }

    /// Whether `org.freedesktop.secrets` has an owner on the bus.
    fn on_the_bus(&self) -> bool {
        let output = Command::new("dbus-send")
            .args([
                "--session",
                "--dest=org.freedesktop.DBus",
                "--type=method_call",
                "--print-reply",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .output()
            .unwrap_or_else(|e| panic!("cannot run dbus-send ({e}): {INSTALL}"));
        String::from_utf8_lossy(&output.stdout).contains("boolean true")
    }

    /// What dbus-run-session and the daemon wrote on stderr.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// The directory the daemon keeps its files in (its encrypted keyrings among them).
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        // SAFETY: a signal to the gnome-keyring-daemon this helper started, by its id.
        unsafe {
            libc::kill(self.daemon, libc::SIGTERM);
        }
        // dbus-run-session sees its command end, ends the bus, reaps both and exits.
        let _ = self.child.wait();
    }
}
