//! The CLI's integration tests, one binary (new tests go here, one module per behaviour).

#[path = "../common/mod.rs"]
mod common;

mod emulator_exec;
mod emulator_ready_json;
