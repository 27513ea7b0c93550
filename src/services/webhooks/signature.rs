//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): the
//! secret is `whsec_` + base64 of random bytes; each request carries
//! `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64>`,
//! the HMAC-SHA256 of `{id}.{timestamp}.{body}`. During a secret rotation
//! both secrets sign, space-separated.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

const PREFIX: &str = "whsec_";
const SECRET_LEN: usize = 32;

/// Fresh random secret bytes.
pub fn generate_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_LEN];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

/// The secret as shown to the partner, once: `whsec_…`.
pub fn display_secret(secret: &[u8]) -> String {
    format!("{PREFIX}{}", STANDARD.encode(secret))
}

/// The bytes of a `whsec_…` secret.
pub fn parse_secret(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text.strip_prefix(PREFIX)?).ok()
}

fn mac(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// `v1,<base64>` for one secret.
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, id, timestamp, body).finalize().into_bytes();
    format!("v1,{}", STANDARD.encode(digest))
}

/// The `webhook-signature` header: one signature per secret in use.
pub fn header(secrets: &[Vec<u8>], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|secret| sign(secret, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether any `v1` signature of `header` was made with `secret` (what a
/// receiver checks, besides the timestamp's freshness).
pub fn verify(secret: &[u8], id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let expected = mac(secret, id, timestamp, body).finalize().into_bytes();
    header.split(' ').any(|candidate| {
        candidate
            .strip_prefix("v1,")
            .and_then(|b64| STANDARD.decode(b64).ok())
            .is_some_and(|given| bool::from(given.as_slice().ct_eq(&expected[..])))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn matches_the_specification_example() {
        let secret = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signed = sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn verifies_each_secret_of_a_rotation_and_nothing_else() {
        let (old, new) = (generate_secret(), generate_secret());
        let both = header(&[new.clone(), old.clone()], "id", 7, b"{}");
        assert!(verify(&old, "id", 7, b"{}", &both));
        assert!(verify(&new, "id", 7, b"{}", &both));
        assert!(!verify(&generate_secret(), "id", 7, b"{}", &both));
        assert!(!verify(&new, "id", 8, b"{}", &both));
        assert!(!verify(&new, "id", 7, b"{ }", &both));
        assert_eq!(parse_secret(&display_secret(&old)), Some(old));
    }
}
