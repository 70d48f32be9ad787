//! boxauth's integration tests: one test binary, a module per behaviour (one link step
//! for the crate, not one per file).

mod access_token_parsing;
mod app_token;
mod auth_config_and_from_env;
mod common;
mod custom_scheme;
mod error_shapes;
mod examples_run_against_the_emulator;
mod fleet;
mod hostile_input;
mod jwt_clock_skew;
mod jwt_config_errors;
mod middleware;
mod no_secrets_in_debug_or_logs;
mod one_clock_for_box_and_boxauth;
mod private_key_formats;
mod redis_cluster;
mod redis_errors;
mod redis_fleet;
mod redis_flush;
mod redis_hosts;
mod redis_sentinel;
mod redis_storage;
mod redis_tls;
mod refresh_flights;
mod refresh_single_flight;
mod refresh_when_box_fails;
mod retry_policy;
mod schemes_end_to_end;
mod schemes_match_python_sdk;
mod tls_trust;
mod token_manager_rules;
mod vault;
mod vault_postgres;
mod webhooks;
mod wire_matches_python_sdk;
