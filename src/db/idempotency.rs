//! Stored responses for `Idempotency-Key`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::idempotency_keys;

/// A key already seen.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys, check_for_backend(diesel::pg::Pg))]
pub struct Seen {
    pub fingerprint: Vec<u8>,
    /// `None` while the first request is still running.
    pub status: Option<i16>,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub body: Option<Vec<u8>>,
    pub expires_at: DateTime<Utc>,
}

/// A response to keep for the retries.
pub struct Stored<'a> {
    pub status: i16,
    pub content_type: Option<&'a str>,
    pub location: Option<&'a str>,
    pub etag: Option<&'a str>,
    pub body: &'a [u8],
}

/// Claims `key` for `subject`: `Ok(None)` when this request is the first
/// (or the earlier one expired), else what was stored. Expired keys of
/// anyone are removed on the way.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    subject: Uuid,
    key: &str,
    fingerprint: &[u8],
    expires_at: DateTime<Utc>,
) -> QueryResult<Option<Seen>> {
    diesel::delete(
        idempotency_keys::table.filter(idempotency_keys::expires_at.lt(diesel::dsl::now)),
    )
    .execute(conn)
    .await?;
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::subject_id.eq(subject),
            idempotency_keys::key.eq(key),
            idempotency_keys::fingerprint.eq(fingerprint),
            idempotency_keys::expires_at.eq(expires_at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 1 {
        return Ok(None);
    }
    idempotency_keys::table
        .find((subject, key))
        .select(Seen::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn store(
    conn: &mut AsyncPgConnection,
    subject: Uuid,
    key: &str,
    response: &Stored<'_>,
) -> QueryResult<()> {
    diesel::update(idempotency_keys::table.find((subject, key)))
        .set((
            idempotency_keys::status.eq(response.status),
            idempotency_keys::content_type.eq(response.content_type),
            idempotency_keys::location.eq(response.location),
            idempotency_keys::etag.eq(response.etag),
            idempotency_keys::body.eq(response.body),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets a key whose request failed, so that a retry runs again.
pub async fn release(conn: &mut AsyncPgConnection, subject: Uuid, key: &str) -> QueryResult<()> {
    diesel::delete(idempotency_keys::table.find((subject, key)))
        .execute(conn)
        .await?;
    Ok(())
}
