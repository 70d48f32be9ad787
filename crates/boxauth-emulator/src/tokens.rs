//! Random values: tokens, codes, CSRF nonces.

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` random characters from `[A-Za-z0-9]`, the shape of Box's tokens (about 5.95 bits each:
/// 32 characters carry 190 bits).
pub(crate) fn random_token(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut pool = [0u8; 64];
    while out.len() < len {
        fill(&mut pool);
        for &byte in &pool {
            // 248 = 4 × 62: rejecting the rest keeps every character equally likely.
            if byte < 248 && out.len() < len {
                out.push(char::from(ALPHABET[usize::from(byte % 62)]));
            }
        }
    }
    out
}

/// Random bytes from the system's secure generator.
pub(crate) fn fill(bytes: &mut [u8]) {
    // aws-lc's generator only fails if the OS gives no entropy at all: the process cannot go on.
    aws_lc_rs::rand::fill(bytes).expect("the system random generator failed");
}

/// `N` random bytes.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    fill(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_length_and_alphabet_and_differ() {
        let a = random_token(32);
        let b = random_token(32);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
