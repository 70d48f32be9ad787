//! Box's JWT app config JSON (`config.json` from the Developer Console).
#![no_main]

use boxauth::JwtConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Err(error) = JwtConfig::from_config_json(text)
    {
        let _ = (error.to_string(), error.report());
    }
});
