//! A private key PEM as a config file may hold it: PKCS#1, PKCS#8, encrypted PKCS#8 (PBES2) and
//! OpenSSL's legacy encrypted PEM, with the fixtures' passphrase (tests/fixtures/keys/passphrase.txt) and without one.
#![no_main]

use boxauth::{Passphrase, PrivateKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let passphrase = Passphrase::from("5f0d4a1c7e2b9386a4c1d0e7f2b39a68");
        let _ = PrivateKey::from_pem(text, Some(&passphrase));
        let _ = PrivateKey::from_pem(text, None);
    }
});
