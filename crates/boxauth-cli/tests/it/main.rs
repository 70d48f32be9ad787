//! boxauth-cli's integration tests: one test binary, a module per behaviour (one link step
//! for the crate, not one per file).

mod api_commands;
mod common;
mod demo_and_polish;
mod emulator_exec;
mod emulator_many_users;
mod emulator_ready_json;
mod emulator_request_log;
mod emulator_tls;
mod env_commands;
mod hostile_input;
mod login_in_chromium;
mod token_commands;
mod token_file_shared_by_processes;
mod token_store_redis;
