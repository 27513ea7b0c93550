//! The retention purge's queries ([`crate::services::retention`]): what is
//! due, and what anonymising does to each table, as the personal-data
//! registry ([`crate::db::personal_data`]) says.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Tx;
use crate::db::personal_data;

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// The persons due, locked for the transaction.
pub async fn persons_due(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
) -> diesel::QueryResult<Vec<Uuid>> {
    let rows: Vec<Due> = diesel::sql_query(
        "SELECT pe.id FROM persons pe \
         WHERE pe.anonymised_at IS NULL \
           AND pe.updated_at < $1 \
           AND EXISTS (SELECT 1 FROM pathways p WHERE p.person_id = pe.id) \
           AND NOT EXISTS (SELECT 1 FROM pathways p WHERE p.person_id = pe.id \
                           AND (p.status <> 'closed' OR p.closed_on >= ($1 AT TIME ZONE 'UTC')::date)) \
           AND NOT EXISTS (SELECT 1 FROM pathway_events e JOIN pathways p ON p.id = e.pathway_id \
                           WHERE p.person_id = pe.id AND e.occurred_at >= $1) \
           AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.person_id = pe.id AND r.received_at >= $1) \
         ORDER BY pe.id \
         FOR UPDATE OF pe",
    )
    .bind::<Timestamptz, _>(cutoff)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}

/// Declined referrals due, locked for the transaction.
pub async fn declined_referrals_due(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
) -> diesel::QueryResult<Vec<Uuid>> {
    let rows: Vec<Due> = diesel::sql_query(personal_data::DECLINED_REFERRALS_DUE)
        .bind::<Timestamptz, _>(cutoff)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}

pub async fn anonymise_declined_referrals(
    tx: &mut Tx<'_>,
    ids: &[Uuid],
) -> diesel::QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::sql_query(personal_data::DECLINED_REFERRALS_PURGE)
        .bind::<Array<SqlUuid>, _>(ids)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// What the purge does to each table is the personal-data registry's.
pub async fn anonymise_persons(tx: &mut Tx<'_>, ids: &[Uuid]) -> diesel::QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    for statement in personal_data::purge_statements() {
        diesel::sql_query(statement)
            .bind::<Array<SqlUuid>, _>(ids)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}
