//! Identity and access: keys and tokens, passwords, the principal extractor,
//! the live standing of every account, and the permission policy.

pub mod keys;
pub mod passwords;
pub mod principal;
pub mod secrets;
pub mod standing;
pub mod tokens;

pub use crate::domain::policy;
pub use crate::domain::principal::{Principal, Subject};
pub use policy::Action;

use std::sync::Arc;

/// What the authentication code shares across requests.
pub struct AuthContext {
    pub tokens: tokens::TokenService,
    pub passwords: passwords::PasswordHasherPool,
    pub standings: Arc<standing::Standings>,
    pub refresh_ttl: chrono::Duration,
    /// Token requests per client address.
    pub rate_limiter: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
}
