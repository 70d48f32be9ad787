//! What boxauth's sibling crates (the `boxauth` CLI and the emulator) share with the library:
//! one masker for secrets in anything shown, and one reader and writer of files that hold
//! secrets. Not part of the public API: no stability promise, hidden from the docs.

pub mod mask;
pub mod private_file;
