//! A token endpoint's answer: the first byte picks the status (200, 400, 401, 429, 503, 302),
//! the rest is the body, decoded as a token or a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let status = [200, 400, 401, 429, 503, 302][usize::from(selector) % 6];
    boxauth::fuzzing::token_answer(status, body);
});
