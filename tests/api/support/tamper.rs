//! What a superuser could do to the audit trail behind the triggers' back,
//! for the tests that check a verification finds it.

use diesel_async::AsyncPgConnection;

use crate::support::db::execute;

/// The number a record slipped in is given.
pub const SLIPPED_IN: i64 = 9_000_000;

/// Switches the trail's append-only trigger on or off.
pub async fn append_only(conn: &mut AsyncPgConnection, on: bool) {
    let switch = if on { "ENABLE" } else { "DISABLE" };
    execute(
        conn,
        &format!("ALTER TABLE audit_log {switch} TRIGGER append_only"),
    )
    .await;
}

/// Rewrites one record's purpose (`None`: as the API wrote it).
pub async fn set_purpose(conn: &mut AsyncPgConnection, seq: i64, purpose: Option<&str>) {
    let purpose = purpose.map_or("NULL".to_owned(), |p| format!("'{p}'"));
    execute(
        conn,
        &format!("UPDATE audit_log SET purpose = {purpose} WHERE seq = {seq}"),
    )
    .await;
}

/// Inserts a record numbered [`SLIPPED_IN`] in the transaction and month
/// of record `beside`, as if it had been there when that one was sealed.
pub async fn slip_in_beside(conn: &mut AsyncPgConnection, beside: i64) {
    execute(
        conn,
        &format!(
            "INSERT INTO audit_log (seq, txid, occurred_at, actor_kind, action, outcome) \
             OVERRIDING SYSTEM VALUE \
             SELECT {SLIPPED_IN}, txid, occurred_at, 'user', 'read', 'success' \
             FROM audit_log WHERE seq = {beside}"
        ),
    )
    .await;
}
