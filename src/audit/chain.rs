//! The hash chain and what a seal signs: pure functions, so that sealing
//! and verification cannot disagree on a byte.

use chrono::SecondsFormat;
use sha2::{Digest, Sha256};

use crate::db::audit::Record;
use crate::domain::enums::name_of;

/// The hash before the first link.
pub const GENESIS: [u8; 32] = [0; 32];

/// A record as bytes: its fields in a fixed order, as a JSON array (jsonb
/// comes back from PostgreSQL with its keys sorted).
pub fn canonical(record: &Record) -> Vec<u8> {
    let fields = serde_json::json!([
        record.seq,
        record.txid,
        record
            .occurred_at
            .to_rfc3339_opts(SecondsFormat::Micros, true),
        record.actor_kind,
        record.actor_id,
        record.actor_role.map(|role| name_of(&role)),
        record.action,
        record.resource_type,
        record.resource_id,
        record.query,
        record.result_ids,
        name_of(&record.outcome),
        record.request_id,
        record.source_address,
        record.user_agent,
        record.purpose,
    ]);
    fields.to_string().into_bytes()
}

/// The next link: SHA-256(previous ‖ canonical record).
pub fn link(previous: &[u8], record: &Record) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(canonical(record));
    hasher.finalize().into()
}

/// What a seal's signature covers: the position and hash of its last link.
pub fn seal_message(position: i64, hash: &[u8]) -> Vec<u8> {
    let mut message = format!("parcours audit seal v1 {position} ").into_bytes();
    message.extend_from_slice(hash);
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AuditOutcome;

    fn record() -> Record {
        Record {
            seq: 7,
            occurred_at: chrono::DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap(),
            txid: 42,
            actor_kind: "user".into(),
            actor_id: Some(uuid::Uuid::nil()),
            actor_role: Some(crate::domain::Role::Supervisor),
            action: "read".into(),
            resource_type: Some("pathway".into()),
            resource_id: Some(uuid::Uuid::nil()),
            query: Some(serde_json::json!({"b": 1, "a": "x"})),
            result_ids: None,
            outcome: AuditOutcome::Success,
            request_id: Some("req".into()),
            source_address: Some("127.0.0.1".into()),
            user_agent: None,
            purpose: Some("instruction".into()),
        }
    }

    #[test]
    fn every_field_changes_the_link() {
        let base = link(&GENESIS, &record());
        assert_eq!(base, link(&GENESIS, &record()), "deterministic");
        let mut changed = record();
        changed.action = "update".into();
        assert_ne!(base, link(&GENESIS, &changed));
        let mut changed = record();
        changed.purpose = None;
        assert_ne!(base, link(&GENESIS, &changed));
        let mut changed = record();
        changed.occurred_at += chrono::Duration::microseconds(1);
        assert_ne!(base, link(&GENESIS, &changed));
        assert_ne!(base, link(&[1; 32], &record()), "the previous link counts");
    }
}
