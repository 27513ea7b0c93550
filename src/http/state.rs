//! What every handler shares, built once by `crate::server`.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::audit::keys::SealKey;
use crate::config::Environment;
use crate::db::{DbPool, Pools};
use crate::privacy::PersonalDataKeys;

/// What handlers share: one copy per HTTP worker, each with its own pool.
#[derive(Clone)]
pub struct AppState {
    /// This worker's connections.
    pub pool: DbPool,
    /// Every pool of the instance, for the gauges of `/metrics`.
    pub pools: Pools,
    /// Versions of the migrations built into this binary.
    pub migrations: BTreeSet<String>,
    /// Encrypts and indexes NIRs.
    pub privacy: Arc<PersonalDataKeys>,
    /// How long an `Idempotency-Key` is remembered.
    pub idempotency_ttl: chrono::Duration,
    /// How long a request holds its `Idempotency-Key`.
    pub idempotency_lease: std::time::Duration,
    /// Signs the seals of the audit trail.
    pub seal_key: Arc<SealKey>,
    /// Development allows webhooks to plain-HTTP loopback receivers.
    pub environment: Environment,
}
