//! Random secrets (client secrets, refresh tokens) and their stored digests.
//!
//! These secrets carry 256 bits of randomness, so a plain SHA-256 digest is
//! enough to store them: unlike passwords they cannot be guessed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

/// 32 random bytes, base64url without padding (43 characters), after a prefix
/// saying what it is (`pcs_` client secret, `pcr_` refresh token) so that a
/// leaked one is recognisable by secret scanners.
pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A one-time password: 20 characters of a random secret (about 120 bits).
pub fn one_time_password() -> String {
    random_secret("").chars().take(20).collect()
}

pub fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_prefixed() {
        let a = random_secret("pcs_");
        let b = random_secret("pcs_");
        assert_ne!(a, b);
        assert!(a.starts_with("pcs_") && a.len() == 4 + 43);
        assert_eq!(digest(&a), digest(&a.clone()));
        assert_ne!(digest(&a), digest(&b));
    }
}
