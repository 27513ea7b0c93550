//! What is waiting behind the requests, for `/metrics`: webhook deliveries
//! not yet made, audit records not yet sealed, idempotency keys in flight.
//! One statement, each part on an index.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Default, QueryableByName)]
pub struct Backlog {
    /// Deliveries not yet attempted.
    #[diesel(sql_type = BigInt)]
    pub webhooks_pending: i64,
    /// Deliveries attempted and failed, waiting for their next attempt.
    #[diesel(sql_type = BigInt)]
    pub webhooks_failing: i64,
    /// Deliveries that gave up (dead-lettered).
    #[diesel(sql_type = BigInt)]
    pub webhooks_dead: i64,
    /// Age of the oldest delivery not yet made (0 when none).
    #[diesel(sql_type = Double)]
    pub webhooks_oldest_pending_seconds: f64,
    /// Audit records after the last seal.
    #[diesel(sql_type = BigInt)]
    pub audit_unsealed: i64,
    /// Age of the oldest of them (0 when none).
    #[diesel(sql_type = Double)]
    pub audit_unsealed_seconds: f64,
    /// Idempotency keys whose request is running (claimed, no response yet).
    #[diesel(sql_type = BigInt)]
    pub idempotency_in_flight: i64,
}

const SQL: &str = "
WITH seal AS (
    SELECT coalesce((SELECT upto_txid FROM audit_seals ORDER BY id DESC LIMIT 1), -1) AS txid,
           coalesce((SELECT upto_seq FROM audit_seals ORDER BY id DESC LIMIT 1), -1) AS seq
), unsealed AS (
    SELECT a.occurred_at FROM audit_log a, seal WHERE (a.txid, a.seq) > (seal.txid, seal.seq)
)
SELECT
    (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND attempts = 0)
        AS webhooks_pending,
    (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND attempts > 0)
        AS webhooks_failing,
    (SELECT count(*) FROM webhook_deliveries WHERE status = 'dead') AS webhooks_dead,
    coalesce((SELECT extract(epoch FROM now() - min(created_at))::float8
              FROM webhook_deliveries WHERE status = 'pending'), 0) AS webhooks_oldest_pending_seconds,
    (SELECT count(*) FROM unsealed) AS audit_unsealed,
    coalesce((SELECT extract(epoch FROM now() - min(occurred_at))::float8 FROM unsealed), 0)
        AS audit_unsealed_seconds,
    (SELECT count(*) FROM idempotency_keys WHERE status IS NULL AND claimed_until > now())
        AS idempotency_in_flight";

pub async fn measure(conn: &mut AsyncPgConnection) -> diesel::QueryResult<Backlog> {
    diesel::sql_query(SQL).get_result(conn).await
}
