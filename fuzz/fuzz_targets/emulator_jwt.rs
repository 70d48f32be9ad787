//! The emulator's JWT parser (assertions and annotator actor tokens).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        boxauth_emulator::fuzzing::jwt(text);
    }
});
