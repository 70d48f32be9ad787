//! `boxauth emulator`: run the Box emulator as a server, or around a command
//! (`boxauth emulator exec -- CMD…`).

mod exec;
mod health;
mod ready;
mod send_webhook;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use boxauth::ConfigErrorKind::{Invalid, Unreadable};
use boxauth_emulator::{AppKey, Emulator, EmulatorConfig, EmulatorHandle, Fault, generated_users};
use clap::{Args, Subcommand};

use crate::output::caused_by;

/// Run a local Box authorization server (consent page, /oauth2/token, /oauth2/revoke, /2.0/users/me).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  boxauth emulator                                   # the default world on 127.0.0.1:8080
  boxauth emulator --addr 127.0.0.1:0 --export-config ./emu    # writes emu/box_config.json
  boxauth emulator --config crates/boxauth-emulator/examples/emulator.toml
  boxauth emulator --users 10000                     # user-000000@emulated.example and 9999 more
  boxauth emulator --fault-rate 0.2 --faults 429,503,drop      # misbehave on 20% of requests
  boxauth emulator --ready-json --addr 127.0.0.1:0             # one JSON line when ready
  boxauth emulator exec -- mvn test                  # BOX_* variables for the command's tests

Control API (loopback peers only unless --allow-remote-control), under /__emulator/:
  GET health, stats, requests, clock, world, box-config
  POST clock/advance {\"seconds\": N}, clock/offset {\"seconds\": N}, reset,
       faults/script {\"faults\": [\"503\"]}, faults/rate {\"rate\": R, \"faults\": [..]}, faults/clear,
       users, apps, items (config-file entries as JSON), users/ID/revoke-tokens,
       apps/CLIENT_ID/app-tokens/{primary|secondary}/{rotate|revoke},
       webhooks/send {\"url\": U, \"primary_key\": K, \"secondary_key\": K}")]
#[command(args_conflicts_with_subcommands = false)]
pub struct EmulatorCommand {
    #[command(subcommand)]
    action: Option<Action>,
    /// Address to listen on (port 0 picks a free port) [default: 127.0.0.1:8080; with exec,
    /// 127.0.0.1:0].
    #[arg(long)]
    addr: Option<SocketAddr>,
    /// A TOML file describing enterprises, users, apps and items (default: the built-in world).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Add N generated users to the default app's enterprise (user-000000@emulated.example,
    /// ID 210000001, and on; at most 1000000), replacing those a --config file generates.
    #[arg(long, value_name = "N")]
    users: Option<usize>,
    /// Write DIR/box_config.json (Box's JWT app config) and DIR/emulator.json, then serve.
    #[arg(long, value_name = "DIR")]
    export_config: Option<PathBuf>,
    /// Share of requests (0 to 1) that get a fault picked from --faults.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    fault_rate: f64,
    /// Faults to pick from: 429, 429:SECS, 500, 502, 503, drop, latency:250ms.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "429,500,503,drop",
        value_name = "LIST"
    )]
    faults: Vec<Fault>,
    /// Access token lifetime in seconds (Box: 3600).
    #[arg(long, value_name = "SECS")]
    access_token_ttl: Option<u64>,
    /// Serve https with a certificate for 127.0.0.1, ::1 and localhost, signed by a CA made for
    /// this run (written to DIR/emulator-ca.pem with --export-config; clients take it with
    /// --ca-file, curl with --cacert).
    #[arg(long)]
    tls: bool,
    /// Print each exchange on stderr (method, path, grant type, client ID, the Box user a grant
    /// issued or refused a token for, status, Box's error, duration; secrets masked) as text or
    /// JSON lines; --verbose prints text.
    #[arg(long, value_name = "FORMAT", value_parser = ["text", "json"])]
    log_format: Option<String>,
    /// How many recent exchanges GET /__emulator/requests returns [default: 500 when logging, else 0].
    #[arg(long, value_name = "N")]
    keep_requests: Option<usize>,
    /// Close a connection that sends no complete request head within this many seconds (idle
    /// and slow clients alike).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    header_timeout: u64,
    /// Answer 408 and close when a request's body and answer take longer than this.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    request_timeout: u64,
    /// Serve at most this many connections at once (more wait in the listen queue).
    #[arg(long, value_name = "N", default_value_t = 1024)]
    max_connections: usize,
    /// Print one JSON line on stdout when ready (base_url, oauth2_url, control_url, client_id,
    /// client_secret, enterprise_id, admin_user_id, box_config, emulator_json, ca_file) instead
    /// of the banner.
    #[arg(long)]
    ready_json: bool,
    /// The URL clients reach the emulator at, when not its listening address (a container's
    /// published port, a proxy): printed, exported and answered by the control API.
    #[arg(long, value_name = "URL", env = "BOX_EMULATOR_PUBLIC_URL")]
    public_url: Option<String>,
    /// A DNS name or IP address the --tls certificate carries besides 127.0.0.1, ::1 and
    /// localhost (repeatable).
    #[arg(long = "tls-name", value_name = "NAME")]
    tls_names: Vec<String>,
    /// The default app's RSA key (unencrypted PKCS#8 PEM): read when the file exists (no key
    /// generation at start), else generated and written there (mode 0600) for the next start.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Answer the control API (/__emulator/…) to non-loopback peers too (a container's
    /// published port). Whoever reaches the port can then reset the emulator and read its
    /// credentials.
    #[arg(long)]
    allow_remote_control: bool,
    /// Start with the clock this many seconds ahead of the system's (negative: behind).
    #[arg(
        long,
        value_name = "SECS",
        allow_hyphen_values = true,
        default_value_t = 0
    )]
    clock_offset: i64,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Start the emulator on a free port, run CMD with BOX_BASE_URL, BOX_OAUTH2_URL,
    /// BOX_CLIENT_ID, BOX_CLIENT_SECRET, BOX_ENTERPRISE_ID, BOX_JWT_CONFIG, BOX_EMULATOR_URL (and
    /// BOX_CA_FILE with --tls) set, stop the emulator and exit with CMD's exit code.
    #[command(after_help = "Examples:
  boxauth emulator exec -- mvn test
  boxauth emulator --tls exec -- dotnet test
  boxauth emulator exec -- sh -c 'curl -s \"$BOX_EMULATOR_URL/__emulator/health\"'")]
    Exec {
        /// The command and its arguments.
        #[arg(
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "CMD"
        )]
        command: Vec<std::ffi::OsString>,
    },
    /// Ask the running emulator at --url to POST a signed webhook delivery to --to, as Box
    /// delivers events (POST /__emulator/webhooks/send), and print what the receiver answered.
    #[command(after_help = "Example:
  boxauth emulator send-webhook --to http://127.0.0.1:3000/box/webhook --primary-key \"$PRIMARY\"")]
    SendWebhook(send_webhook::SendWebhook),
    /// Exit 0 when the emulator at URL answers GET /__emulator/health with 200, else 1 (a
    /// container's HEALTHCHECK: the image has no curl).
    Health {
        /// The emulator's base URL (http only).
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
    },
}

impl EmulatorCommand {
    pub async fn run(self, verbose: bool) -> boxauth::Result<()> {
        let exec = match &self.action {
            Some(Action::Health { url }) => return health::check(url),
            Some(Action::SendWebhook(send)) => return send.run().await,
            Some(Action::Exec { command }) => Some(command.clone()),
            None => None,
        };
        let emulator = self.start(verbose, exec.is_some()).await?;
        let exported = match (&self.export_config, &exec) {
            (Some(dir), _) => Some(export(&emulator, dir)?),
            (None, Some(_)) => None, // exec exports into a directory of its own
            (None, None) => None,
        };
        if let Some(command) = exec {
            return exec::run(emulator, exported, &command).await;
        }
        let ca_file = match emulator.ca_pem() {
            Some(pem) => Some(match exported.as_ref().and_then(|e| e.ca.clone()) {
                Some(path) => path,
                None => write_ca(pem)?,
            }),
            None => None,
        };
        let ready = if self.ready_json {
            ready::json(&emulator, exported.as_ref(), ca_file.as_deref()).to_string()
        } else {
            self.banner(&emulator, exported.as_ref(), ca_file.as_deref())
        };
        // A server goes on serving when nobody reads its banner any more (`| head -1`).
        let _ = crate::output::stdout_line(&ready);
        wait_for_stop().await;
        crate::output::stderr_line("stopping…");
        emulator.shutdown().await;
        crate::output::stderr_line("stopped");
        Ok(())
    }

    /// The configuration the flags describe, started.
    async fn start(&self, verbose: bool, exec: bool) -> boxauth::Result<EmulatorHandle> {
        if !(0.0..=1.0).contains(&self.fault_rate) {
            return Err(boxauth::Error::config(
                "--fault-rate must be between 0 and 1",
            ));
        }
        let mut config = match (&self.config, &self.key_file) {
            (Some(_), Some(_)) => {
                return Err(boxauth::Error::config(
                    "--key-file sets the default world's key; a --config file names its own keys",
                ));
            }
            (Some(path), None) => EmulatorConfig::from_toml_file(path)
                .map_err(|e| caused_by(Invalid, "the --config file cannot be used", e))?,
            (None, Some(path)) => EmulatorConfig::default_with_key(key_from_file(path)?),
            (None, None) => EmulatorConfig::default(),
        };
        if let Some(count) = self.users {
            config = config
                .with_generated_users(count)
                .map_err(|e| caused_by(Invalid, "--users cannot be used", e))?;
        }
        let default_addr = if exec {
            "127.0.0.1:0"
        } else {
            "127.0.0.1:8080"
        };
        config.addr = self
            .addr
            .unwrap_or_else(|| default_addr.parse().expect("a valid address"));
        config.tls = self.tls;
        config.tls_names.extend(self.tls_names.iter().cloned());
        config.public_url = self.public_url.clone();
        config.allow_remote_control = self.allow_remote_control;
        config.clock.set_offset_seconds(self.clock_offset);
        config.limits.header_read_timeout = Duration::from_secs(self.header_timeout);
        config.limits.request_timeout = Duration::from_secs(self.request_timeout);
        config.limits.max_connections = self.max_connections;
        config.log_format = match (self.log_format.as_deref(), verbose) {
            (Some("json"), _) => Some(boxauth_emulator::LogFormat::Json),
            (Some(_), _) | (None, true) => Some(boxauth_emulator::LogFormat::Text),
            (None, false) => None,
        };
        config.keep_requests =
            self.keep_requests
                .unwrap_or(if config.log_format.is_some() || exec {
                    500
                } else {
                    0
                });
        if let Some(ttl) = self.access_token_ttl {
            config.lifetimes.access_token = Duration::from_secs(ttl);
        }
        let emulator = Emulator::start(config)
            .await
            .map_err(|e| caused_by(Invalid, "the emulator could not start", e))?;
        emulator
            .faults()
            .set_rate(self.fault_rate, self.faults.clone());
        Ok(emulator)
    }

    fn banner(
        &self,
        emulator: &EmulatorHandle,
        exported: Option<&boxauth_emulator::ExportedConfig>,
        ca_file: Option<&std::path::Path>,
    ) -> String {
        let mut lines = Vec::new();
        let app = emulator.default_app();
        lines.push(format!("Box emulator listening on {}", emulator.base_url()));
        if self.public_url.is_some() {
            lines.push(format!(
                "(bound to {}; --public-url is what clients use)",
                emulator.addr()
            ));
        }
        lines.push(String::new());
        lines.push(format!("  export BOX_BASE_URL={}", emulator.base_url()));
        lines.push(format!("  export BOX_OAUTH2_URL={}", emulator.oauth2_url()));
        lines.push(String::new());
        lines.push(format!("  app            {}", app.name));
        lines.push(format!("  client ID      {}", app.client_id));
        lines.push(format!("  client secret  {}", app.client_secret));
        lines.push(format!("  enterprise ID  {}", app.enterprise_id));
        if let Some(admin) = ready::admin(emulator) {
            lines.push(format!(
                "  admin login    {} (user {})",
                admin.login, admin.id
            ));
        }
        let generated = emulator
            .world()
            .users
            .iter()
            .filter(|u| generated_users::index(u).is_some())
            .count();
        if generated > 0 {
            lines.push(format!(
                "  users          {generated} generated: {} (user {}) … {} (user {})",
                generated_users::login(0),
                generated_users::id(0),
                generated_users::login(generated - 1),
                generated_users::id(generated - 1)
            ));
        }
        for uri in &app.redirect_uris {
            lines.push(format!("  redirect URI   {uri} (any port on localhost)"));
        }
        if let Some(exported) = exported {
            lines.push(format!(
                "  JWT config     {}",
                exported.box_config.display()
            ));
            lines.push(format!(
                "  world          {}",
                exported.emulator_json.display()
            ));
        }
        if let Some(path) = ca_file {
            lines.push(format!(
                "  TLS CA         {} (boxauth --ca-file, curl --cacert)",
                path.display()
            ));
        }
        if self.fault_rate > 0.0 {
            lines.push(format!(
                "  faults         {:.0}% of requests: {:?}",
                self.fault_rate * 100.0,
                self.faults
            ));
        }
        lines.push(format!(
            "  control API    {}/__emulator/ (boxauth emulator --help)",
            emulator.base_url()
        ));
        lines.push(String::new());
        lines.push("Press Ctrl-C to stop.".to_owned());
        lines.join("\n")
    }
}

/// Writes DIR/box_config.json, DIR/emulator.json (and the CA with TLS).
fn export(
    emulator: &EmulatorHandle,
    dir: &std::path::Path,
) -> boxauth::Result<boxauth_emulator::ExportedConfig> {
    emulator.export_config(dir).map_err(|e| {
        caused_by(
            Unreadable,
            format!("could not export to {}", dir.display()),
            e,
        )
    })
}

/// The key in `path`, or a new one written there (0600) when the file does not exist.
fn key_from_file(path: &std::path::Path) -> boxauth::Result<AppKey> {
    let id = boxauth_emulator::DEFAULT_KEY_ID.to_owned();
    match boxauth::internal::private_file::read_text(path, 64 * 1024) {
        Ok(pem) => AppKey::from_private_pem(id, &pem).map_err(|e| {
            caused_by(
                Invalid,
                format!("--key-file {} holds no usable key", path.display()),
                e,
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = AppKey::generate(id)
                .map_err(|e| caused_by(Invalid, "could not make a key for --key-file", e))?;
            let pem = key.private_pem().unwrap_or_default();
            boxauth::internal::private_file::write_private(path, pem.as_bytes()).map_err(|e| {
                caused_by(
                    Unreadable,
                    format!("could not write --key-file {}", path.display()),
                    e,
                )
            })?;
            Ok(key)
        }
        Err(e) => Err(caused_by(
            Unreadable,
            format!("cannot read --key-file {}", path.display()),
            e,
        )),
    }
}

/// The CA of a run without --export-config: a new file in the temporary directory (created
/// exclusively, so a file planted there is never written through).
fn write_ca(pem: &str) -> boxauth::Result<PathBuf> {
    let failed = |e: std::io::Error| {
        boxauth::Error::from(
            boxauth::ConfigError::new(
                boxauth::ConfigErrorKind::Unreadable,
                "could not write the emulator's CA to the temporary directory",
            )
            .with_source(e),
        )
    };
    let mut file = tempfile::Builder::new()
        .prefix("boxauth-emulator-ca-")
        .suffix(".pem")
        .tempfile()
        .map_err(failed)?;
    std::io::Write::write_all(&mut file, pem.as_bytes()).map_err(failed)?;
    let (_, path) = file.keep().map_err(|e| failed(e.error))?;
    Ok(path)
}

/// Ctrl-C, or SIGTERM on Unix.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
