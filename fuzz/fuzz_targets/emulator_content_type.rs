//! The emulator's reading of a request's Content-Type (is it multipart, with which boundary).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| boxauth_emulator::fuzzing::content_type(data));
