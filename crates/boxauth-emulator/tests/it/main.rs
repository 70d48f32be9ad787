//! boxauth-emulator's integration tests: one test binary, a module per behaviour (one link step
//! for the crate, not one per file).

mod app_tokens;
mod authorization_code_rules;
mod authorization_manager_against_emulator;
mod client_credentials_rules;
mod config_and_export;
mod consent_in_chromium;
mod consent_page;
mod control_api;
mod control_refused_from_remote_peers;
mod control_world_edits;
mod cors;
mod faults;
mod form_encodings;
mod hostile_input;
mod jwt_bearer_rules;
mod many_users;
mod memory_is_bounded;
mod refresh_token_rules;
mod request_log;
mod revoke_rules;
mod server_limits;
mod token_exchange_rules;
mod users_me;
