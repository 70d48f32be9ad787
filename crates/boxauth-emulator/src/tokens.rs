//! Random values: tokens, codes, CSRF nonces, request ids.
//!
//! Bytes come from the system's secure generator (aws-lc's DRBG) in 4 KiB blocks kept per thread,
//! so issuing a token costs a copy, not a call into the generator. Kept because it is measured to
//! matter (bench/emulator/README.md, "Simpler inside"): a call into aws-lc for a token and a
//! request ID costs ~730 ns, the pool ~30 ns (`cargo bench -p boxauth-emulator --bench
//! token_parts`), and without it the emulator fell below 80 % of the bare-axum ceiling.

use std::cell::RefCell;

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BLOCK: usize = 4096;

struct Pool {
    bytes: [u8; BLOCK],
    used: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const { RefCell::new(Pool { bytes: [0; BLOCK], used: BLOCK }) };
}

/// Random bytes from the system's secure generator.
pub(crate) fn fill(out: &mut [u8]) {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let mut written = 0;
        while written < out.len() {
            if pool.used == BLOCK {
                // aws-lc's generator only fails if the OS gives no entropy at all: the process
                // cannot go on issuing secrets.
                aws_lc_rs::rand::fill(&mut pool.bytes).expect("the system random generator failed");
                pool.used = 0;
            }
            let take = (out.len() - written).min(BLOCK - pool.used);
            let start = pool.used;
            out[written..written + take].copy_from_slice(&pool.bytes[start..start + take]);
            // Handed out once: wipe it from the pool.
            pool.bytes[start..start + take].fill(0);
            pool.used += take;
            written += take;
        }
    });
}

/// A random token of `len` (at most 64) characters from `[A-Za-z0-9]` after `prefix`, the shape of
/// Box's tokens (about 5.95 bits a character: 32 carry 190 bits); built on the stack, allocated once.
pub(crate) fn random_key(prefix: &str, len: usize) -> std::sync::Arc<str> {
    random_key_around(prefix, len, "")
}

/// [`random_key`] followed by `suffix` (at most 16 bytes, as is `prefix`).
pub(crate) fn random_key_around(prefix: &str, len: usize, suffix: &str) -> std::sync::Arc<str> {
    let mut text = [0u8; 96];
    let len = len.min(64);
    text[..prefix.len()].copy_from_slice(prefix.as_bytes());
    let mut at = prefix.len();
    let mut chunk = [0u8; 48];
    while at < prefix.len() + len {
        fill(&mut chunk);
        for &byte in &chunk {
            // 248 = 4 × 62: rejecting the rest keeps every character equally likely.
            if byte < 248 && at < prefix.len() + len {
                text[at] = ALPHABET[usize::from(byte % 62)];
                at += 1;
            }
        }
    }
    text[at..at + suffix.len()].copy_from_slice(suffix.as_bytes());
    at += suffix.len();
    // `prefix` and `suffix` are text and the rest is ASCII.
    std::sync::Arc::from(std::str::from_utf8(&text[..at]).unwrap_or_default())
}

/// `value` in base 62 (the token alphabet), most significant digit first, in exactly `out.len()`
/// characters: the value is taken modulo `62^out.len()`.
pub(crate) fn base62_into(mut value: u64, out: &mut [u8]) {
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
}

/// The value of base-62 `text` (as [`base62_into`] writes it); `None` for any other character.
pub(crate) fn base62_value(text: &[u8]) -> Option<u64> {
    text.iter().try_fold(0u64, |value, &c| {
        let digit = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            _ => return None,
        };
        value.checked_mul(62)?.checked_add(u64::from(digit))
    })
}

/// `N` random bytes.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    fill(&mut bytes);
    bytes
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    hex_into(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Lower-case hex of `bytes` into `out` (twice as long).
pub(crate) fn hex_into(bytes: &[u8], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, &b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 15)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_length_and_alphabet_and_differ() {
        let a = random_key("", 32);
        let b = random_key("", 32);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        let key = random_key("1!", 43);
        assert_eq!(key.len(), 45);
        let around = random_key_around("1!", 37, "AbC123");
        assert_eq!(around.len(), 45);
        assert!(around.starts_with("1!") && around.ends_with("AbC123"));
        assert!(key.starts_with("1!") && key[2..].bytes().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn the_pool_refills_across_blocks_and_never_repeats() {
        let mut big = vec![0u8; BLOCK * 2 + 100];
        fill(&mut big);
        assert!(
            big.chunks(16)
                .collect::<std::collections::HashSet<_>>()
                .len()
                > (BLOCK * 2) / 16
        );
        assert_eq!(hex(&[0x0a, 0xff]), "0aff");
    }

    #[test]
    fn base62_round_trips_and_refuses_other_characters() {
        let mut out = [0u8; 6];
        for value in [0, 1, 61, 62, 3_843, 56_800_235_583, 123_456_789] {
            base62_into(value, &mut out);
            assert!(out.iter().all(u8::is_ascii_alphanumeric));
            assert_eq!(base62_value(&out), Some(value));
        }
        base62_into(56_800_235_584, &mut out);
        assert_eq!(base62_value(&out), Some(0), "modulo 62^6");
        assert_eq!(base62_value(b"AAAAAA"), Some(0));
        assert_eq!(base62_value(b"AAA!AA"), None);
    }
}
