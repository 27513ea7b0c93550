//! Ed25519 keys that sign and verify access tokens, and their JWKS.
//!
//! One signing key; any number of verification keys (the signing key's
//! public half plus older ones still accepted), so that keys rotate without
//! logging everyone out. Each key is named by its `kid`: the first 16 hex
//! digits of the SHA-256 of its public key.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::config::{AuthSettings, Environment};
use crate::keyfile::{KeyFile, write_new};

pub struct KeySet {
    signing: EncodingKey,
    signing_kid: String,
    verifying: HashMap<String, DecodingKey>,
    jwks: Jwks,
}

/// A JSON Web Key Set (RFC 7517) of Ed25519 public keys.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// One public key (RFC 8037: `OKP`, curve `Ed25519`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Jwk {
    #[schema(example = "OKP")]
    pub kty: &'static str,
    #[schema(example = "Ed25519")]
    pub crv: &'static str,
    /// The public key, base64url.
    pub x: String,
    /// Key id, as in the `kid` header of the tokens it verifies.
    pub kid: String,
    #[schema(example = "EdDSA")]
    pub alg: &'static str,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub use_: &'static str,
}

impl KeySet {
    /// Loads the configured keys. In development a missing signing key is
    /// generated once into the data folder; in production it stops start-up.
    pub fn load(
        settings: &AuthSettings,
        environment: Environment,
        data_dir: &Path,
    ) -> anyhow::Result<Self> {
        let signing_path = KeyFile {
            configured: settings.signing_key_file.as_deref(),
            development_name: "jwt-signing-key.pem",
            what: "token signing key",
            required_in_production: "PARCOURS_JWT_SIGNING_KEY_FILE is required in production: the \
                 Ed25519 private key (PKCS#8 PEM) that signs access tokens. Generate one with \
                 `openssl genpkey -algorithm ed25519 -out signing-key.pem`",
        }
        .path(environment, data_dir, new_key_pem)?;
        let pem = fs::read_to_string(&signing_path)
            .with_context(|| format!("reading the signing key {}", signing_path.display()))?;
        let signing_key = SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
            anyhow::anyhow!(
                "{} is not an Ed25519 PKCS#8 PEM private key: {e}",
                signing_path.display()
            )
        })?;
        let signing = EncodingKey::from_ed_pem(pem.as_bytes())?;
        let mut public_keys = vec![signing_key.verifying_key()];
        for path in &settings.verify_key_files {
            let pem = fs::read_to_string(path)
                .with_context(|| format!("reading the verification key {}", path.display()))?;
            let key = VerifyingKey::from_public_key_pem(&pem).map_err(|e| {
                anyhow::anyhow!("{} is not an Ed25519 public key PEM: {e}", path.display())
            })?;
            public_keys.push(key);
        }
        Self::from_keys(signing, &public_keys)
    }

    fn from_keys(signing: EncodingKey, public_keys: &[VerifyingKey]) -> anyhow::Result<Self> {
        let mut verifying = HashMap::new();
        let mut jwks = Vec::new();
        for key in public_keys {
            let x = URL_SAFE_NO_PAD.encode(key.as_bytes());
            let kid = kid_of(key);
            verifying.insert(kid.clone(), DecodingKey::from_ed_components(&x)?);
            jwks.push(Jwk {
                kty: "OKP",
                crv: "Ed25519",
                x,
                kid,
                alg: "EdDSA",
                use_: "sig",
            });
        }
        let signing_kid = kid_of(
            public_keys
                .first()
                .ok_or_else(|| anyhow::anyhow!("no signing key"))?,
        );
        Ok(Self {
            signing,
            signing_kid,
            verifying,
            jwks: Jwks { keys: jwks },
        })
    }

    /// A key set with a fresh random key (tests, tools).
    pub fn generate() -> anyhow::Result<Self> {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let pem = key.to_pkcs8_pem(LineEnding::LF)?;
        Self::from_keys(
            EncodingKey::from_ed_pem(pem.as_bytes())?,
            &[key.verifying_key()],
        )
    }

    pub fn signing(&self) -> (&EncodingKey, &str) {
        (&self.signing, &self.signing_kid)
    }

    pub fn verifying(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.get(kid)
    }

    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }
}

fn kid_of(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A new Ed25519 private key, as PKCS#8 PEM.
pub fn new_key_pem() -> anyhow::Result<Vec<u8>> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    Ok(key.to_pkcs8_pem(LineEnding::LF)?.as_bytes().to_vec())
}

/// Writes a new Ed25519 private key readable by its owner only (tests and
/// key rotation); an existing file is kept.
pub fn write_new_key(path: &Path) -> anyhow::Result<()> {
    write_new(path, &new_key_pem()?)?;
    Ok(())
}
