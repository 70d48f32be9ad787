//! The emulator's form parsers (urlencoded, and multipart with the boundary the first line names):
//! token, revoke and consent-page bodies.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| boxauth_emulator::fuzzing::form(data));
