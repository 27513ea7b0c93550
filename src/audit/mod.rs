//! The audit trail: who read or changed what, from where and why.
//!
//! Records are appended to `audit_log` (the database refuses UPDATE, DELETE
//! and TRUNCATE). Behind the requests, [`seal`] chains them by hash and
//! signs the chain's head with an Ed25519 key; [`verify`] recomputes it and
//! names the first record altered, removed or inserted out of place.

pub mod chain;
pub mod keys;
pub mod record;
pub mod verify;

pub use record::{Acting, Actor, AuditContext, Entry};
