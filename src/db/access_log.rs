//! A person's access log: who touched their file, as the audit trail
//! records it. Reading it is itself audited.

use diesel::sql_types::{BigInt, Nullable, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::audit::{NewRecord, Record};
use crate::db::audited::AuditedDsl;
use crate::db::personal_data;

/// Who touched one person's file, oldest first: the records naming one of
/// its rows, and the lists and searches that returned one, as the
/// personal-data registry ([`crate::db::personal_data`]) links them.
pub async fn of_person(
    conn: &mut AsyncPgConnection,
    person: Uuid,
    after: Option<i64>,
    limit: i64,
    record: &NewRecord,
) -> diesel::QueryResult<Vec<Record>> {
    let condition = personal_data::access_condition_sql();
    diesel::sql_query(format!(
        "SELECT a.* FROM audit_log a WHERE {condition} \
           AND ($2::bigint IS NULL OR a.seq > $2) ORDER BY a.seq LIMIT $3"
    ))
    .bind::<SqlUuid, _>(person)
    .bind::<Nullable<BigInt>, _>(after)
    .bind::<BigInt, _>(limit + 1)
    .audited(record)
    .load(conn)
    .await
}
