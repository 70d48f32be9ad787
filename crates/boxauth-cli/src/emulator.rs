//! `boxauth emulator`: run the Box emulator as a server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use boxauth_emulator::{Emulator, EmulatorConfig, Fault};
use clap::Args;

/// Run a local Box authorization server (consent page, /oauth2/token, /oauth2/revoke, /2.0/users/me).
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  boxauth emulator                                   # the default world on 127.0.0.1:8080
  boxauth emulator --addr 127.0.0.1:0 --export-config ./emu    # writes emu/box_config.json
  boxauth emulator --config crates/boxauth-emulator/examples/emulator.toml
  boxauth emulator --fault-rate 0.2 --faults 429,503,drop      # misbehave on 20% of requests")]
pub struct EmulatorCommand {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// A TOML file describing enterprises, users, apps and items (default: the built-in world).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
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
    /// Print each exchange on stderr (method, path, grant type, client ID, status, Box's error,
    /// duration; secrets masked) as text or JSON lines; --verbose prints text.
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
}

impl EmulatorCommand {
    pub async fn run(self, verbose: bool) -> boxauth::Result<()> {
        if !(0.0..=1.0).contains(&self.fault_rate) {
            return Err(boxauth::Error::config(
                "--fault-rate must be between 0 and 1",
            ));
        }
        let mut config = match &self.config {
            Some(path) => EmulatorConfig::from_toml_file(path)
                .map_err(|e| boxauth::Error::config(e.to_string()))?,
            None => EmulatorConfig::default(),
        };
        config.addr = self.addr;
        config.tls = self.tls;
        config.limits.header_read_timeout = Duration::from_secs(self.header_timeout);
        config.limits.request_timeout = Duration::from_secs(self.request_timeout);
        config.limits.max_connections = self.max_connections;
        config.log_format = match (self.log_format.as_deref(), verbose) {
            (Some("json"), _) => Some(boxauth_emulator::LogFormat::Json),
            (Some(_), _) | (None, true) => Some(boxauth_emulator::LogFormat::Text),
            (None, false) => None,
        };
        config.keep_requests = self
            .keep_requests
            .unwrap_or(if config.log_format.is_some() { 500 } else { 0 });
        if let Some(ttl) = self.access_token_ttl {
            config.lifetimes.access_token = Duration::from_secs(ttl);
        }
        let emulator = Emulator::start(config)
            .await
            .map_err(|e| boxauth::Error::config(e.to_string()))?;
        emulator
            .faults()
            .set_rate(self.fault_rate, self.faults.clone());
        let exported = match &self.export_config {
            Some(dir) => Some(emulator.export_config(dir).map_err(|e| {
                boxauth::Error::config(format!("could not export to {}: {e}", dir.display()))
            })?),
            None => None,
        };
        let app = emulator.default_app();
        let admin = emulator.config().world.users.iter().find(|u| {
            u.role == boxauth_emulator::Role::Admin && u.enterprise_id == app.enterprise_id
        });
        println!("Box emulator listening on {}", emulator.base_url());
        println!();
        println!("  export BOX_BASE_URL={}", emulator.base_url());
        println!("  export BOX_OAUTH2_URL={}", emulator.oauth2_url());
        println!();
        println!("  app            {}", app.name);
        println!("  client ID      {}", app.client_id);
        println!("  client secret  {}", app.client_secret);
        println!("  enterprise ID  {}", app.enterprise_id);
        if let Some(admin) = admin {
            println!("  admin login    {} (user {})", admin.login, admin.id);
        }
        for uri in &app.redirect_uris {
            println!("  redirect URI   {uri} (any port on localhost)");
        }
        if let Some(exported) = &exported {
            println!("  JWT config     {}", exported.box_config.display());
            println!("  world          {}", exported.emulator_json.display());
        }
        if let Some(pem) = emulator.ca_pem() {
            let path = match exported.as_ref().and_then(|e| e.ca.clone()) {
                Some(path) => path,
                None => write_ca(pem)?,
            };
            println!(
                "  TLS CA         {} (boxauth --ca-file, curl --cacert)",
                path.display()
            );
        }
        if self.fault_rate > 0.0 {
            println!(
                "  faults         {:.0}% of requests: {:?}",
                self.fault_rate * 100.0,
                self.faults
            );
        }
        println!();
        println!("Press Ctrl-C to stop.");
        wait_for_stop().await;
        eprintln!("stopping…");
        emulator.shutdown().await;
        eprintln!("stopped");
        Ok(())
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
