//! The partners' change feed: events of the pathways a partner follows,
//! from the moment it was given them (an accepted referral, a commitment,
//! an orientation addressed to it as a facility; never a person who
//! objected to sharing), and the decisions on its own
//! referrals; oldest first, resumable from any point, missing none.
//!
//! Event sequence numbers are taken when a row is written, not when its
//! transaction commits, so reading "after the last number seen" could skip
//! the event of a slow transaction that commits later. The feed therefore
//! reads only events of transactions older than every transaction still
//! running (`pg_snapshot_xmin`), in (transaction, sequence) order: any event
//! that becomes visible later belongs to a newer transaction and sorts
//! after everything already read.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Jsonb, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::schema::sql_types::{Domain as SqlDomain, EventKind as SqlEventKind};
use crate::domain::{Domain, EventKind};

#[derive(Debug, Clone, QueryableByName)]
pub struct FeedRow {
    #[diesel(sql_type = BigInt)]
    pub txid: i64,
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub pathway_id: Option<Uuid>,
    #[diesel(sql_type = SqlDomain)]
    pub domain: Domain,
    #[diesel(sql_type = SqlEventKind)]
    pub kind: EventKind,
    #[diesel(sql_type = Timestamptz)]
    pub occurred_at: DateTime<Utc>,
    #[diesel(sql_type = Jsonb)]
    pub data: serde_json::Value,
}

/// Up to `limit` events after `after` (a transaction id and sequence).
pub async fn after(
    conn: &mut AsyncPgConnection,
    organization: Uuid,
    after: Option<(i64, i64)>,
    limit: i64,
    record: &NewRecord,
) -> diesel::QueryResult<Vec<FeedRow>> {
    // What a partner may read, and from when, is the SQL view
    // `partner_events`, shared with the webhook outbox.
    diesel::sql_query(
        "SELECT e.txid, e.seq, e.pathway_id, \
                coalesce(p.domain, (e.data->>'domain')::domain) AS domain, \
                e.kind, e.occurred_at, e.data \
         FROM partner_events pe \
         JOIN pathway_events e ON e.seq = pe.seq \
         LEFT JOIN pathways p ON p.id = e.pathway_id \
         WHERE pe.organization_id = $1 \
           AND pe.txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
           AND ($2::bigint IS NULL OR (pe.txid, pe.seq) > ($2, $3)) \
         ORDER BY pe.txid, pe.seq \
         LIMIT $4",
    )
    .bind::<SqlUuid, _>(organization)
    .bind::<Nullable<BigInt>, _>(after.map(|(txid, _)| txid))
    .bind::<BigInt, _>(after.map(|(_, seq)| seq).unwrap_or_default())
    .bind::<BigInt, _>(limit)
    .audited_list(record, "pathway_id", limit)
    .load(conn)
    .await
}
