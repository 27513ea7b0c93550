//! Access tokens: short-lived EdDSA JWTs, issued here and verified by the
//! principal extractor. Verification pins the algorithm, the key (`kid`),
//! the issuer, the audience and the leeway; nothing else is accepted.

use std::time::Duration;

use chrono::Utc;
use dashmap::DashMap;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::keys::KeySet;
use crate::config::AuthSettings;
use crate::domain::{Domain, Role};

/// Clock skew tolerated between API instances, in seconds.
const LEEWAY_SECS: u64 = 30;

/// Who the token was issued to.
pub use crate::domain::principal::SubjectKind;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user's or client's id.
    pub sub: Uuid,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: Uuid,
    pub kind: SubjectKind,
    pub role: Role,
    #[serde(default)]
    pub territories: Vec<Uuid>,
    #[serde(default)]
    pub domains: Vec<Domain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Uuid>,
    /// The login (session) the token belongs to: revoking it refuses the
    /// token. Staff logins only (the refresh token family).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

/// What a token says about its holder, before issuing.
#[derive(Debug, Clone)]
pub struct Grant {
    pub subject: Uuid,
    pub kind: SubjectKind,
    pub role: Role,
    pub territories: Vec<Uuid>,
    pub domains: Vec<Domain>,
    pub organization: Option<Uuid>,
    pub session: Option<Uuid>,
}

/// Why a token was refused; said to the client in `error_description`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidToken(pub &'static str);

/// Verified tokens remembered at most; past it the memory starts afresh.
const VERIFIED_LIMIT: usize = 100_000;

pub struct TokenService {
    keys: KeySet,
    /// Tokens already verified, by the SHA-256 of their text: a token's
    /// signature is checked once per instance, then only its time window.
    verified: DashMap<[u8; 32], Claims>,
    issuer: String,
    audience: String,
    ttl: Duration,
    validation: Validation,
}

impl TokenService {
    pub fn new(keys: KeySet, settings: &AuthSettings) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.algorithms = vec![Algorithm::EdDSA];
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        Self {
            keys,
            verified: DashMap::new(),
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl: settings.access_ttl(),
            validation,
        }
    }

    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// Lifetime of the tokens issued, in seconds.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl.as_secs()
    }

    pub fn issue(&self, grant: &Grant) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: grant.subject,
            exp: now + i64::try_from(self.ttl.as_secs())?,
            iat: now,
            nbf: now,
            jti: Uuid::now_v7(),
            kind: grant.kind,
            role: grant.role,
            territories: grant.territories.clone(),
            domains: grant.domains.clone(),
            organization: grant.organization,
            sid: grant.session,
        };
        let (key, kid) = self.keys.signing();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_owned());
        Ok(jsonwebtoken::encode(&header, &claims, key)?)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Cloned out before anything else touches the map (a held entry locks its shard).
        let remembered = self.verified.get(&digest).map(|entry| entry.clone());
        if let Some(claims) = remembered {
            let now = Utc::now().timestamp();
            let leeway = i64::try_from(LEEWAY_SECS).unwrap_or(0);
            if claims.exp >= now - leeway {
                return Ok(claims);
            }
            self.verified.remove(&digest);
            return Err(InvalidToken("the token has expired"));
        }
        let claims = self.verify_signature(token)?;
        if self.verified.len() >= VERIFIED_LIMIT {
            self.verified.clear();
        }
        self.verified.insert(digest, claims.clone());
        Ok(claims)
    }

    fn verify_signature(&self, token: &str) -> Result<Claims, InvalidToken> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| InvalidToken("the token is malformed"))?;
        if header.alg != Algorithm::EdDSA {
            return Err(InvalidToken("the token is not signed with EdDSA"));
        }
        let kid = header.kid.ok_or(InvalidToken("the token names no key"))?;
        let key = self
            .keys
            .verifying(&kid)
            .ok_or(InvalidToken("the token was signed by an unknown key"))?;
        jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| {
                use jsonwebtoken::errors::ErrorKind;
                InvalidToken(match error.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired",
                    ErrorKind::ImmatureSignature => "the token is not valid yet",
                    ErrorKind::InvalidIssuer => "the token was issued by someone else",
                    ErrorKind::InvalidAudience => "the token is meant for another service",
                    ErrorKind::InvalidSignature => "the token's signature is wrong",
                    _ => "the token is invalid",
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> TokenService {
        let settings = crate::config::Settings::for_tests(String::new(), "./var".into()).auth;
        TokenService::new(KeySet::generate().unwrap(), &settings)
    }

    fn grant() -> Grant {
        Grant {
            session: None,
            subject: Uuid::now_v7(),
            kind: SubjectKind::User,
            role: Role::Coordinator,
            territories: vec![Uuid::now_v7()],
            domains: vec![Domain::Childhood],
            organization: None,
        }
    }

    #[test]
    fn a_token_is_verified_once_then_remembered() {
        let tokens = service();
        let token = tokens.issue(&grant()).unwrap();
        let first = tokens.verify(&token).unwrap();
        assert_eq!(tokens.verified.len(), 1);
        let again = tokens.verify(&token).unwrap();
        assert_eq!(first.jti, again.jti);
        assert_eq!(tokens.verified.len(), 1);
    }

    #[test]
    fn a_refused_token_is_not_remembered() {
        let tokens = service();
        let other = service();
        let foreign = other.issue(&grant()).unwrap();
        for _ in 0..2 {
            assert!(tokens.verify(&foreign).is_err());
        }
        assert_eq!(tokens.verified.len(), 0);
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let tokens = service();
        let mut claims = tokens.verify(&tokens.issue(&grant()).unwrap()).unwrap();
        claims.exp = Utc::now().timestamp() - 3600;
        let stale = "remembered-but-expired";
        let digest: [u8; 32] = Sha256::digest(stale.as_bytes()).into();
        tokens.verified.insert(digest, claims);
        assert_eq!(
            tokens.verify(stale).unwrap_err(),
            InvalidToken("the token has expired")
        );
        assert!(tokens.verified.get(&digest).is_none());
    }
}
