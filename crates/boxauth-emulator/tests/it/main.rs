//! The emulator's integration tests, one binary (new tests go here, one module per behaviour).

mod control_api;
mod control_refused_from_remote_peers;
mod control_world_edits;
