//! What boxauth's sibling crates (the `boxauth` CLI and the emulator) share with the library:
//! one masker for secrets in anything shown, and one reader and writer of files that hold
//! secrets. Not part of the public API: no stability promise, hidden from the docs.

pub mod box_clock;
pub mod mask;
pub mod private_file;

/// RFC 3339 date-times (`BOX-DELIVERY-TIMESTAMP`): the emulator writes them, webhook checks
/// read them.
pub mod rfc3339 {
    pub use crate::webhook::rfc3339::{format, parse};
}
