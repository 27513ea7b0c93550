//! Stored responses for `Idempotency-Key`, and the claims that guard them.
//!
//! A claim is a lease held by one request (`claim`, `claimed_until`). The
//! write's own transaction marks the key committed ([`commit`]), and only
//! while the claim is still its own: a request whose lease was taken over
//! rolls back. So after a crash a retry either runs (nothing committed) or
//! learns the committed outcome — never both, never neither.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::idempotency_keys;

/// The claim one request holds on a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub subject: Uuid,
    pub key: String,
    pub token: Uuid,
}

/// A key already seen.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys, check_for_backend(diesel::pg::Pg))]
pub struct Seen {
    pub fingerprint: Vec<u8>,
    /// `None` while the first request is still running, or when its
    /// response could not be stored.
    pub status: Option<i16>,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub body: Option<Vec<u8>>,
    pub expires_at: DateTime<Utc>,
    pub claimed_until: DateTime<Utc>,
    /// The write committed (in its own transaction), changing this resource.
    pub committed_at: Option<DateTime<Utc>>,
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
}

/// What claiming a key found.
#[derive(Debug, Clone)]
pub enum Claimed {
    /// This request runs: the key is new, or the request that held it
    /// died before committing anything.
    Run(Claim),
    /// Another request has the key: its stored response, its committed
    /// outcome, or its claim still running.
    Seen(Seen),
}

/// Claims `key` for `subject` for `lease_secs`. Expired keys of anyone are
/// removed on the way.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    subject: Uuid,
    key: &str,
    fingerprint: &[u8],
    expires_at: DateTime<Utc>,
    lease_secs: f64,
) -> QueryResult<Claimed> {
    diesel::delete(
        idempotency_keys::table.filter(idempotency_keys::expires_at.lt(diesel::dsl::now)),
    )
    .execute(conn)
    .await?;
    let token = Uuid::now_v7();
    let lease =
        diesel::dsl::sql::<diesel::sql_types::Timestamptz>("now() + make_interval(secs => ")
            .bind::<diesel::sql_types::Double, _>(lease_secs)
            .sql(")");
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::subject_id.eq(subject),
            idempotency_keys::key.eq(key),
            idempotency_keys::fingerprint.eq(fingerprint),
            idempotency_keys::expires_at.eq(expires_at),
            idempotency_keys::claim.eq(token),
            idempotency_keys::claimed_until.eq(lease.clone()),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    let mine = || Claim {
        subject,
        key: key.to_owned(),
        token,
    };
    if inserted == 1 {
        return Ok(Claimed::Run(mine()));
    }
    // The holder's lease ran out with nothing committed: it died.
    let taken_over = diesel::update(idempotency_keys::table.find((subject, key)))
        .filter(idempotency_keys::fingerprint.eq(fingerprint))
        .filter(idempotency_keys::status.is_null())
        .filter(idempotency_keys::committed_at.is_null())
        .filter(idempotency_keys::claimed_until.lt(diesel::dsl::now))
        .set((
            idempotency_keys::claim.eq(token),
            idempotency_keys::claimed_until.eq(lease),
        ))
        .execute(conn)
        .await?;
    if taken_over == 1 {
        return Ok(Claimed::Run(mine()));
    }
    let seen = idempotency_keys::table
        .find((subject, key))
        .select(Seen::as_select())
        .first(conn)
        .await?;
    Ok(Claimed::Seen(seen))
}

/// Marks the key committed, inside the write's transaction, with the first
/// resource it changed. `false` when the claim is no longer this request's
/// (its lease was taken over): the write must then roll back.
pub async fn commit(
    conn: &mut AsyncPgConnection,
    claim: &Claim,
    resource_type: &str,
    resource_id: Option<Uuid>,
) -> QueryResult<bool> {
    let marked = diesel::update(idempotency_keys::table.find((claim.subject, &claim.key)))
        .filter(idempotency_keys::claim.eq(claim.token))
        .set((
            idempotency_keys::committed_at.eq(diesel::dsl::now),
            idempotency_keys::resource_type.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
            >("coalesce(resource_type, ")
            .bind::<diesel::sql_types::Text, _>(resource_type)
            .sql(")")),
            idempotency_keys::resource_id.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Uuid>,
            >("CASE WHEN resource_type IS NULL THEN ")
            .bind::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(resource_id)
            .sql(" ELSE resource_id END")),
        ))
        .execute(conn)
        .await?;
    Ok(marked == 1)
}

/// A response to keep for the retries.
pub struct Stored<'a> {
    pub status: i16,
    pub content_type: Option<&'a str>,
    pub location: Option<&'a str>,
    pub etag: Option<&'a str>,
    pub body: &'a [u8],
}

pub async fn store(
    conn: &mut AsyncPgConnection,
    claim: &Claim,
    response: &Stored<'_>,
) -> QueryResult<()> {
    diesel::update(idempotency_keys::table.find((claim.subject, &claim.key)))
        .filter(idempotency_keys::claim.eq(claim.token))
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

/// Ends the claim's lease now: its holder is done, without a stored
/// response (a retry is then sent to the committed outcome).
pub async fn end_lease(conn: &mut AsyncPgConnection, claim: &Claim) -> QueryResult<()> {
    diesel::update(idempotency_keys::table.find((claim.subject, &claim.key)))
        .filter(idempotency_keys::claim.eq(claim.token))
        .set(idempotency_keys::claimed_until.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets a key whose request failed with nothing committed, so that a
/// retry runs again.
pub async fn release(conn: &mut AsyncPgConnection, claim: &Claim) -> QueryResult<()> {
    diesel::delete(idempotency_keys::table.find((claim.subject, &claim.key)))
        .filter(idempotency_keys::claim.eq(claim.token))
        .filter(idempotency_keys::committed_at.is_null())
        .execute(conn)
        .await?;
    Ok(())
}

/// Where a committed outcome can be read, for a retry whose response was
/// lost: the resource, or the list under the pathway of a child resource.
pub async fn location_of(
    conn: &mut AsyncPgConnection,
    resource_type: &str,
    id: Uuid,
) -> QueryResult<Option<String>> {
    use crate::db::schema::{decisions, notes};
    let under_pathway = |pathway: Option<Uuid>, list: &str| {
        pathway.map(|pathway| format!("/v1/pathways/{pathway}/{list}"))
    };
    use crate::domain::audit::AuditTarget as T;
    let Some(target) = T::parse(resource_type) else {
        return Ok(None);
    };
    // Every target is named: a new one must say where its outcome is read.
    Ok(match target {
        T::Person => Some(format!("/v1/persons/{id}")),
        T::Pathway => Some(format!("/v1/pathways/{id}")),
        T::Plan => Some(format!("/v1/plans/{id}")),
        T::Commitment => Some(format!("/v1/commitments/{id}")),
        T::FacilityFollowUp => Some(format!("/v1/facility-follow-ups/{id}")),
        T::Escalation => Some(format!("/v1/escalations/{id}")),
        T::Referral => Some(format!("/v1/referrals/{id}")),
        T::Decision => under_pathway(
            decisions::table
                .find(id)
                .select(decisions::pathway_id)
                .first(conn)
                .await
                .optional()?,
            "decisions",
        ),
        T::Meeting => Some(format!("/v1/meetings/{id}")),
        T::Note => under_pathway(
            notes::table
                .find(id)
                .select(notes::pathway_id)
                .first(conn)
                .await
                .optional()?,
            "notes",
        ),
        // Not created by a POST the Idempotency-Key covers.
        T::Alert
        | T::AlertRule
        | T::Audit
        | T::Client
        | T::Commune
        | T::Domain
        | T::Feed
        | T::IdempotentResponse
        | T::Organization
        | T::Territory
        | T::Timeline
        | T::User
        | T::Webhook => None,
    })
}
