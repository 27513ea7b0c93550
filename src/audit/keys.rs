//! The Ed25519 key that signs audit seals: its own key, not the token
//! key, so that rotating one never touches the other.

use std::fs;
use std::path::Path;

use anyhow::Context;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::auth::keys::new_key_pem;
use crate::config::Environment;
use crate::keyfile::KeyFile;

pub struct SealKey {
    signing: SigningKey,
    key_id: String,
}

impl SealKey {
    /// Loads the key (PKCS#8 PEM). Development: generated once into the
    /// data folder. Production: required.
    pub fn load(
        file: Option<&Path>,
        environment: Environment,
        data_dir: &Path,
    ) -> anyhow::Result<Self> {
        let path = KeyFile {
            configured: file,
            development_name: "audit-seal-key.pem",
            what: "audit seal key",
            required_in_production: "PARCOURS_AUDIT_SIGNING_KEY_FILE is required in production: \
                 the Ed25519 private key (PKCS#8 PEM) that signs audit seals. Generate one with \
                 `openssl genpkey -algorithm ed25519 -out audit-seal-key.pem`",
        }
        .path(environment, data_dir, new_key_pem)?;
        let pem = fs::read_to_string(&path)
            .with_context(|| format!("reading the audit seal key {}", path.display()))?;
        let signing = SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
            anyhow::anyhow!(
                "{} is not an Ed25519 PKCS#8 PEM private key: {e}",
                path.display()
            )
        })?;
        Ok(Self::from_signing(signing))
    }

    pub fn from_signing(signing: SigningKey) -> Self {
        let key_id = key_id_of(&signing.verifying_key());
        Self { signing, key_id }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signing.sign(message).to_bytes().to_vec()
    }

    /// Whether `signature` is this key's over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        verify_with(
            &self.signing.verifying_key(),
            message,
            &Signature::from_bytes(&bytes),
        )
    }
}

fn verify_with(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
    key.verify(message, signature).is_ok()
}

fn key_id_of(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}
