//! boxauth-cli's integration tests: one test binary, a module per behaviour (one link step
//! for the crate, not one per file).

mod api_commands;
mod app_tokens;
mod closed_pipe;
mod common;
mod demo_and_polish;
mod developer_tokens;
mod doctor;
mod emulator_exec;
mod emulator_many_users;
mod emulator_ready_json;
mod emulator_request_log;
mod emulator_tls;
mod env_commands;
mod hints;
mod hostile_input;
mod identity_precedence;
mod keychain;
mod login_environment;
mod login_in_chromium;
mod login_pkce;
mod readme_walkthrough;
mod token_commands;
mod token_file_shared_by_processes;
mod token_store_confirm;
mod token_store_redis;
mod vault_commands;
mod webhook_commands;
