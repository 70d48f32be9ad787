//! `boxauth`: Box authentication from the command line. A thin shell over the `boxauth` library.

#![forbid(unsafe_code)]

mod api;
mod connection;
mod emulator;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Authenticate to Box: call Box's OAuth 2.0 endpoints, get and manage tokens.
#[derive(Debug, Parser)]
#[command(name = "boxauth", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Call the four operations of Box's AuthorizationManager directly.
    Api(api::ApiCommand),
    /// Run a local Box authorization server for offline development and tests.
    Emulator(emulator::EmulatorCommand),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Api(command) => command.run().await,
        Command::Emulator(command) => command.run().await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::print_error(&error);
            ExitCode::FAILURE
        }
    }
}
