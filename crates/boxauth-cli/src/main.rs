//! `boxauth`: Box authentication from the command line. A thin shell over the `boxauth` library
//! and the `boxauth-emulator`.

#![forbid(unsafe_code)]

mod api;
mod auth_source;
mod box_cli_import;
mod confirm;
mod connection;
mod demo;
mod doctor;
mod emulator;
mod env_cmd;
mod environments;
mod identity;
mod keychain_tokens;
mod login;
mod output;
mod secrets;
mod style;
mod token;
mod vault_cmd;
mod webhook_cmd;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Authenticate to Box: log in, get, refresh, downscope and revoke tokens, call Box's OAuth 2.0
/// endpoints directly, and run a local Box authorization server.
#[derive(Debug, Parser)]
#[command(name = "boxauth", version, propagate_version = true)]
#[command(after_help = "Examples:
  boxauth demo                                   # every part of Box auth, against a built-in emulator
  boxauth login --client-id ID --client-secret S
  boxauth token get                              # with the current environment
  boxauth env add prod --jwt-config config.json
  boxauth emulator --export-config ./emu")]
struct Cli {
    /// Print notes only for errors.
    #[arg(long, short, global = true, help_heading = "Global options")]
    quiet: bool,
    /// Show each HTTP exchange on stderr, with every secret masked.
    #[arg(
        long,
        short,
        global = true,
        conflicts_with = "quiet",
        help_heading = "Global options"
    )]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Walk through every part of Box authentication against an in-process emulator.
    Demo(demo::DemoCommand),
    /// Log in to Box in a browser (OAuth 2.0) and save the tokens in an environment.
    Login(login::LoginCommand),
    /// Get, refresh, revoke and downscope tokens with any auth method.
    Token(token::TokenCommand),
    /// Save auth methods as named environments.
    Env(env_cmd::EnvCommand),
    /// Call the four operations of Box's AuthorizationManager directly.
    Api(api::ApiCommand),
    /// Run a local Box authorization server for offline development and tests.
    Emulator(emulator::EmulatorCommand),
    /// Keep the Box tokens of many users (your app's), sealed in PostgreSQL.
    Vault(vault_cmd::VaultCommand),
    /// Check Box webhook deliveries' signatures.
    Webhook(webhook_cmd::WebhookCommand),
    /// Check a setup (config, key, clock, tokens, enterprise, As-User, redirect URI, token
    /// store) and print a checklist with the fix for each failure.
    Doctor(doctor::DoctorCommand),
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  boxauth completions bash > ~/.local/share/bash-completion/completions/boxauth"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// A URL argument that may carry a password (a Redis or PostgreSQL URL): `Debug` masks it.
#[derive(Clone, PartialEq, Eq)]
pub struct UrlArg(pub String);

impl std::fmt::Debug for UrlArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&boxauth::internal::mask::url_password(&self.0))
    }
}

impl std::str::FromStr for UrlArg {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_owned()))
    }
}

/// Parses a secret argument into its newtype, so the value never shows in `Debug`.
pub fn secret<T: From<String>>(value: &str) -> Result<T, std::convert::Infallible> {
    Ok(T::from(value.to_owned()))
}

fn init_logging(verbose: bool) {
    if !verbose {
        return;
    }
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("boxauth", tracing::Level::DEBUG)
        .with_target("boxauth_emulator", tracing::Level::INFO);
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .without_time()
                .with_target(false),
        )
        .with(filter)
        .init();
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let out = output::Output { quiet: cli.quiet };
    let result = match cli.command {
        Command::Demo(command) => command.run().await,
        Command::Login(command) => command.run(&out).await,
        Command::Token(command) => command.run(&out).await,
        Command::Env(command) => command.run(&out).await,
        Command::Api(command) => command.run(&out).await,
        Command::Emulator(command) => command.run(cli.verbose).await,
        Command::Vault(command) => command.run(&out).await,
        Command::Webhook(command) => command.run(),
        Command::Doctor(command) => command.run(&out).await,
        Command::Completions { shell } => {
            // Written whole by stdout_line: clap_complete panics when its writer fails.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "boxauth", &mut script);
            let script = String::from_utf8_lossy(&script);
            output::stdout_line(script.strip_suffix('\n').unwrap_or(&script))
        }
    };
    match result {
        // A reader that went away (`boxauth demo | head -1`) took what it wanted.
        _ if output::stdout_closed() => ExitCode::SUCCESS,
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::print_error(&error);
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Cli;

    /// Every command line that takes a secret, parsed and printed with `{:?}`: no secret shows.
    #[test]
    fn no_secret_of_a_command_line_shows_in_debug() {
        let secrets = [
            "client-secret-value-1",
            "developer-token-value-2",
            "redis-password-value-3",
            "code-value-4",
            "refresh-token-value-5",
            "assertion-value-6",
            "subject-token-value-7",
            "actor-token-value-8",
            "revoke-token-value-9",
            "header-credential-10",
            "postgres-password-value-11",
            "vault-refresh-token-value-12",
        ];
        let lines: Vec<Vec<&str>> = vec![
            vec![
                "boxauth",
                "vault",
                "import",
                "alice",
                "--store",
                "postgres://app:postgres-password-value-11@db/app",
                "--client-id",
                "id",
                "--client-secret",
                secrets[0],
                "--refresh-token",
                secrets[11],
            ],
            vec![
                "boxauth",
                "token",
                "get",
                "--ccg",
                "--client-id",
                "id",
                "--client-secret",
                secrets[0],
                "--enterprise-id",
                "1",
                "--token-store",
                "redis://:redis-password-value-3@h:6379/0",
                "--header",
                "X-Proxy-Auth: header-credential-10",
            ],
            vec![
                "boxauth",
                "token",
                "revoke",
                "--developer-token",
                secrets[1],
                "--client-id",
                "id",
                "--client-secret",
                secrets[0],
            ],
            vec![
                "boxauth",
                "login",
                "--client-id",
                "id",
                "--client-secret",
                secrets[0],
            ],
            vec![
                "boxauth",
                "env",
                "add",
                "x",
                "--ccg",
                "--client-id",
                "id",
                "--client-secret",
                secrets[0],
                "--user-id",
                "2",
            ],
            vec![
                "boxauth",
                "api",
                "request-access-token",
                "--grant-type",
                "authorization_code",
                "--client-secret",
                secrets[0],
                "--code",
                secrets[3],
                "--refresh-token",
                secrets[4],
                "--assertion",
                secrets[5],
                "--subject-token",
                secrets[6],
                "--actor-token",
                secrets[7],
            ],
            vec![
                "boxauth",
                "api",
                "refresh-access-token",
                "--client-id",
                "id",
                "--client-secret",
                secrets[0],
                "--refresh-token",
                secrets[4],
            ],
            vec![
                "boxauth",
                "api",
                "revoke-access-token",
                "--client-secret",
                secrets[0],
                "--token",
                secrets[8],
            ],
        ];
        for line in lines {
            let parsed = Cli::try_parse_from(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            let shown = format!("{parsed:?}");
            for secret in secrets {
                assert!(!shown.contains(secret), "{secret} shows in {shown}");
            }
        }
    }
}
