//! Identity and access: keys and tokens, passwords, the principal extractor,
//! revocation of deactivated accounts, and the permission policy.

pub mod keys;
pub mod passwords;
pub mod policy;
pub mod principal;
pub mod revocation;
pub mod secrets;
pub mod tokens;

pub use policy::Action;
pub use principal::{Authorized, Principal, Subject};

use std::sync::Arc;

/// What the authentication code shares across requests.
pub struct AuthContext {
    pub tokens: tokens::TokenService,
    pub passwords: passwords::PasswordHasherPool,
    pub revocations: Arc<revocation::Revocations>,
    pub refresh_ttl: chrono::Duration,
    /// Token requests per client address.
    pub rate_limiter: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
}
