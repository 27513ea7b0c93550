//! Protection of secrets at rest: the NIR is encrypted (AES-256-GCM)
//! and found through a keyed hash (blind index), so a database dump alone
//! reveals neither the number nor who holds it. Webhook signing secrets are
//! encrypted the same way (the API must sign with them, so no hash will do).
//!
//! One 32-byte master key (a file) yields a subkey per purpose, derived with
//! HMAC-SHA256 as a PRF: a leaked index key cannot decrypt, and the other way.

use std::fs;
use std::path::Path;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use uuid::Uuid;

use crate::config::Environment;
use crate::domain::nir::Nir;
use crate::keyfile::KeyFile;

const NONCE_LEN: usize = 12;

pub struct PersonalDataKeys {
    nir_cipher: Aes256Gcm,
    nir_index_key: [u8; 32],
    webhook_secret_cipher: Aes256Gcm,
    pseudonym_key: [u8; 32],
}

impl PersonalDataKeys {
    /// Loads the master key (base64 of 32 bytes) from `file`. In development
    /// a missing key is generated once into the data folder; in production
    /// it stops start-up.
    pub fn load(
        file: Option<&Path>,
        environment: Environment,
        data_dir: &Path,
    ) -> anyhow::Result<Self> {
        let path = KeyFile {
            configured: file,
            development_name: "personal-data-key",
            what: "personal-data key",
            required_in_production: "PARCOURS_PERSONAL_DATA_KEY_FILE is required in production: \
                 a file holding 32 random bytes in base64, which encrypts NIRs at rest. Generate \
                 one with `openssl rand -base64 32 > personal-data-key` and keep it out of the \
                 database backups",
        }
        .path(environment, data_dir, || {
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            Ok(STANDARD.encode(key).into_bytes())
        })?;
        let text = fs::read_to_string(&path)
            .with_context(|| format!("reading the personal-data key {}", path.display()))?;
        let master = STANDARD
            .decode(text.trim())
            .ok()
            .filter(|key| key.len() == 32)
            .with_context(|| {
                format!(
                    "{} must hold 32 bytes in base64 (openssl rand -base64 32)",
                    path.display()
                )
            })?;
        Ok(Self::from_master(&master))
    }

    pub fn from_master(master: &[u8]) -> Self {
        let nir_key = subkey(master, b"parcours nir encryption v1");
        let webhook_key = subkey(master, b"parcours webhook secret v1");
        Self {
            nir_cipher: Aes256Gcm::new((&nir_key).into()),
            nir_index_key: subkey(master, b"parcours nir index v1"),
            webhook_secret_cipher: Aes256Gcm::new((&webhook_key).into()),
            pseudonym_key: subkey(master, b"parcours export pseudonym v1"),
        }
    }

    /// The NIR as the row `owner` stores it: the only way a NIR is
    /// encrypted.
    pub fn seal_nir(&self, owner: Uuid, nir: &Nir) -> SealedNir {
        SealedNir {
            ciphertext: self.encrypt_nir(owner, nir),
            index: self.nir_index(nir),
        }
    }

    /// Encrypted and bound to the row it belongs to, so a ciphertext
    /// copied onto another row does not decrypt.
    fn encrypt_nir(&self, owner: Uuid, nir: &Nir) -> Vec<u8> {
        seal(&self.nir_cipher, owner, nir.expose().as_bytes())
    }

    /// `None` when the ciphertext is damaged, moved or from another key.
    pub fn decrypt_nir(&self, person: Uuid, sealed: &[u8]) -> Option<Nir> {
        let plain = open(&self.nir_cipher, person, sealed)?;
        Nir::parse(std::str::from_utf8(&plain).ok()?).ok()
    }

    /// A webhook's signing secret, encrypted and bound to the webhook: the
    /// API must sign with it, so it cannot be stored as a hash.
    pub fn encrypt_webhook_secret(&self, webhook: Uuid, secret: &[u8]) -> Vec<u8> {
        seal(&self.webhook_secret_cipher, webhook, secret)
    }

    pub fn decrypt_webhook_secret(&self, webhook: Uuid, sealed: &[u8]) -> Option<Vec<u8>> {
        open(&self.webhook_secret_cipher, webhook, sealed)
    }

    /// A stable pseudonym for exports: the same id gives the same value in
    /// every export under this key, and nobody without the key can go back
    /// from it to the id (HMAC-SHA256, 128 bits in hex).
    pub fn pseudonym(&self, kind: &str, id: Uuid) -> String {
        let mut message = kind.as_bytes().to_vec();
        message.extend_from_slice(id.as_bytes());
        keyed_hash(&self.pseudonym_key, &message)
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The key a login throttle counts under (`kind`: a login name with its
    /// address, an address): a keyed hash, so that the table holds no name
    /// or address in clear.
    pub fn throttle_key(&self, kind: &str, value: &str) -> Vec<u8> {
        let mut message = format!("throttle:{kind}:").into_bytes();
        message.extend_from_slice(value.as_bytes());
        keyed_hash(&self.pseudonym_key, &message)
    }

    /// What a search looked for (a name, a birth date, a CAF or MSA
    /// number), as the audit trail keeps it: a keyed hash of the term with
    /// case, accents and spacing folded, so that an auditor who names the
    /// term finds the searches (`GET /v1/audit?searched=`) but the trail
    /// never holds it in clear.
    pub fn search_term(&self, term: &str) -> String {
        let mut message = b"search:".to_vec();
        message.extend_from_slice(fold(term).as_bytes());
        keyed_hash(&self.pseudonym_key, &message)
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The blind index: equal NIRs give equal values under one key.
    pub fn nir_index(&self, nir: &Nir) -> Vec<u8> {
        keyed_hash(&self.nir_index_key, nir.expose().as_bytes())
    }
}

/// A NIR as a row stores it: encrypted for that row, and its blind index
/// (equal NIRs, equal indexes), by which it is found.
#[derive(Debug, Clone)]
pub struct SealedNir {
    pub ciphertext: Vec<u8>,
    pub index: Vec<u8>,
}

impl SealedNir {
    /// The two columns, `nir_ciphertext` and `nir_index`, of a row that may
    /// hold none.
    pub fn columns(sealed: Option<Self>) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        match sealed {
            Some(Self { ciphertext, index }) => (Some(ciphertext), Some(index)),
            None => (None, None),
        }
    }
}

/// nonce ‖ ciphertext ‖ tag, with `owner` as associated data.
fn seal(cipher: &Aes256Gcm, owner: Uuid, message: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let payload = Payload {
        msg: message,
        aad: owner.as_bytes(),
    };
    let mut out = nonce.to_vec();
    // Encryption into a Vec cannot fail for messages this short.
    if let Ok(sealed) = cipher.encrypt(&Nonce::from(nonce), payload) {
        out.extend(sealed);
    }
    out
}

fn open(cipher: &Aes256Gcm, owner: Uuid, sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() <= NONCE_LEN {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: ciphertext,
                aad: owner.as_bytes(),
            },
        )
        .ok()
}

fn subkey(master: &[u8], purpose: &[u8]) -> [u8; 32] {
    let digest = keyed_hash(master, purpose);
    let mut key = [0u8; 32];
    key.copy_from_slice(&digest);
    key
}

/// Lower case, without accents, single spaces: `Éloïse  DUPONT` and
/// `eloise dupont` fold alike (as the database's `parcours_fold` does).
fn fold(term: &str) -> String {
    use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};
    let bare: String = term.nfd().filter(|c| !is_combining_mark(*c)).collect();
    bare.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn keyed_hash(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nir() -> Nir {
        let n: u64 = 1_850_578_006_084;
        Nir::parse(&format!("{n}{:02}", 97 - n % 97)).unwrap()
    }

    #[test]
    fn round_trips_only_for_its_person_and_key() {
        let keys = PersonalDataKeys::from_master(&[7u8; 32]);
        let person = Uuid::now_v7();
        let sealed = keys.encrypt_nir(person, &nir());
        assert!(!sealed.windows(8).any(|w| w == b"18505780"));
        assert_eq!(keys.decrypt_nir(person, &sealed), Some(nir()));
        assert_eq!(keys.decrypt_nir(Uuid::now_v7(), &sealed), None);
        let other = PersonalDataKeys::from_master(&[8u8; 32]);
        assert_eq!(other.decrypt_nir(person, &sealed), None);
    }

    #[test]
    fn the_index_is_stable_and_keyed() {
        let keys = PersonalDataKeys::from_master(&[7u8; 32]);
        assert_eq!(keys.nir_index(&nir()), keys.nir_index(&nir()));
        let other = PersonalDataKeys::from_master(&[8u8; 32]);
        assert_ne!(keys.nir_index(&nir()), other.nir_index(&nir()));
    }

    #[test]
    fn a_search_term_folds_alike_and_is_keyed() {
        let keys = PersonalDataKeys::from_master(&[7u8; 32]);
        let term = keys.search_term("Éloïse  DUPONT ");
        assert_eq!(term, keys.search_term("eloise dupont"));
        assert_ne!(term, keys.search_term("eloise dupond"));
        assert!(!term.contains("dupont") && term.len() == 32);
        let other = PersonalDataKeys::from_master(&[8u8; 32]);
        assert_ne!(term, other.search_term("eloise dupont"));
    }
}
