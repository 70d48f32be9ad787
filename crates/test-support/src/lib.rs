//! Test helpers shared by boxauth's crates, so no test file carries its own copy.
//!
//! - [`RecordingServer`]: a loopback HTTP/1.1 server that records requests byte for byte and
//!   answers from a script (a status, or a dropped connection).

#![allow(clippy::unwrap_used)]

mod recording;

pub use recording::{RecordedRequest, RecordingServer, Reply};
