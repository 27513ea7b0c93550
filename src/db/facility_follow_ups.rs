//! The follow-up of an orientation in each facility it is addressed to:
//! staff address an orientation to facilities (organizations with a
//! FINESS); the facility's partner client, or staff on its behalf, report
//! where the person stands there, in the national codes
//! ([`crate::domain::facility_status`]). Each status is kept in
//! `facility_statuses` (append-only), the follow-up holds the current one.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Error;
use crate::db::PageRequest;
use crate::db::Tx;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::error::{Violation, violation};
use crate::db::schema::{decisions, facility_follow_ups, facility_statuses, organizations};
use crate::db::scope::{Predicate, decisions_visible, facility_follow_ups_visible};
use crate::domain::facility_status::{self, Outcome, StatusWithReason};
use crate::domain::principal::Principal;
use crate::domain::{DecisionKind, Qualification};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = facility_follow_ups, check_for_backend(diesel::pg::Pg))]
pub struct FollowUp {
    pub id: Uuid,
    pub decision_id: Uuid,
    pub pathway_id: Uuid,
    pub organization_id: Uuid,
    pub finess: String,
    pub unit: Option<String>,
    /// A code of TRE_R357 (JDV_J252), none until the first status.
    pub status: Option<String>,
    /// A code of TRE_R358 (JDV_J251).
    pub reason: Option<String>,
    pub status_on: Option<NaiveDate>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::db::versioned::versioned!(FollowUp);

/// What a facility is told of the decision it is addressed.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = decisions, check_for_backend(diesel::pg::Pg))]
pub struct DecisionSummary {
    pub kind: DecisionKind,
    pub qualification: Qualification,
    pub label: String,
    pub decided_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

/// A follow-up with its decision.
#[derive(Debug, Clone)]
pub struct Addressed {
    pub follow_up: FollowUp,
    pub decision: DecisionSummary,
}

/// A row of `facility_statuses` as stored.
#[derive(
    Debug, Clone, Queryable, Selectable, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[diesel(table_name = facility_statuses, check_for_backend(diesel::pg::Pg))]
#[serde(deny_unknown_fields)]
#[schema(as = FacilityStatusRecord)]
pub struct StatusRecord {
    pub id: Uuid,
    pub follow_up_id: Uuid,
    pub status: String,
    pub reason: Option<String>,
    pub status_on: NaiveDate,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

/// A facility to address an orientation to.
#[derive(Debug)]
pub struct NewFollowUp {
    pub id: Uuid,
    pub decision_id: Uuid,
    pub organization_id: Uuid,
    pub unit: Option<String>,
}

/// A status reported.
#[derive(Debug)]
pub struct NewStatus {
    pub id: Uuid,
    pub status: StatusWithReason,
    pub status_on: NaiveDate,
}

pub fn not_found() -> Error {
    Error::not_found("No such facility follow-up in your scope.")
}

pub fn decision_not_found() -> Error {
    Error::not_found("No such decision in your scope.")
}

/// The decision `id`'s pathway and kind, if the caller sees its pathway.
pub async fn decision_in_scope(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
) -> QueryResult<Option<(Uuid, DecisionKind)>> {
    decisions::table
        .find(id)
        .filter(decisions_visible(who))
        .select((decisions::pathway_id, decisions::kind))
        .first(conn)
        .await
        .optional()
}

/// The FINESS number of organization `id`: `None` if there is no such
/// organization, `Some(None)` if it has none.
pub async fn finess_of(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<Option<String>>> {
    organizations::table
        .find(id)
        .select(organizations::finess)
        .first(conn)
        .await
        .optional()
}

/// One follow-up per decision and facility: a second one is refused as a
/// conflict.
pub async fn insert(
    tx: &mut Tx<'_>,
    new: &NewFollowUp,
    pathway: Uuid,
    finess: &str,
) -> Result<FollowUp, Error> {
    diesel::insert_into(facility_follow_ups::table)
        .values((
            facility_follow_ups::id.eq(new.id),
            facility_follow_ups::decision_id.eq(new.decision_id),
            facility_follow_ups::pathway_id.eq(pathway),
            facility_follow_ups::organization_id.eq(new.organization_id),
            facility_follow_ups::finess.eq(finess),
            facility_follow_ups::unit.eq(new.unit.as_deref()),
        ))
        .returning(FollowUp::as_returning())
        .get_result(tx.conn())
        .await
        .map_err(|e| match violation(&e) {
            Some(Violation::Unique) => Error::conflict(
                "This decision is already addressed to this facility: one follow-up per \
                 decision and facility, whatever its unit (read it in \
                 `GET /v1/decisions/{id}/facilities`).",
            ),
            _ => e.into(),
        })
}

/// The follow-up with its decision, if in the caller's scope; audited in
/// the same statement with a `record`.
pub async fn find(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
    record: Option<&NewRecord>,
) -> QueryResult<Option<Addressed>> {
    let found: Option<FollowUp> = facility_follow_ups::table
        .find(id)
        .filter(facility_follow_ups_visible(who))
        .select(FollowUp::as_select())
        .audited_one_if(record)
        .get_result(conn)
        .await
        .optional()?;
    match found {
        Some(found) => with_decision(conn, found).await.map(Some),
        None => Ok(None),
    }
}

/// A follow-up just written, with its decision (its scope was the write's).
pub async fn with_decision(
    conn: &mut AsyncPgConnection,
    follow_up: FollowUp,
) -> QueryResult<Addressed> {
    let decision = decisions::table
        .find(follow_up.decision_id)
        .select(DecisionSummary::as_select())
        .first(conn)
        .await?;
    Ok(Addressed {
        follow_up,
        decision,
    })
}

/// The follow-ups with their decisions (read once each).
async fn with_decisions(
    conn: &mut AsyncPgConnection,
    rows: Vec<FollowUp>,
) -> QueryResult<Vec<Addressed>> {
    let ids: Vec<Uuid> = rows.iter().map(|f| f.decision_id).collect();
    let summaries: HashMap<Uuid, DecisionSummary> = decisions::table
        .filter(decisions::id.eq_any(&ids))
        .select((decisions::id, DecisionSummary::as_select()))
        .load::<(Uuid, DecisionSummary)>(conn)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|follow_up| {
            let decision = summaries.get(&follow_up.decision_id)?.clone();
            Some(Addressed {
                follow_up,
                decision,
            })
        })
        .collect())
}

/// Every status of a follow-up, oldest first (a handful per facility).
pub async fn history(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Vec<StatusRecord>> {
    facility_statuses::table
        .filter(facility_statuses::follow_up_id.eq(id))
        .select(StatusRecord::as_select())
        .order(facility_statuses::id)
        .load(conn)
        .await
}

/// The follow-ups of a decision the caller was shown to see, in id order.
pub async fn of_decision(
    conn: &mut AsyncPgConnection,
    decision: Uuid,
    page: PageRequest,
    record: &NewRecord,
) -> QueryResult<Vec<Addressed>> {
    let of_it: Predicate<facility_follow_ups::table> =
        Box::new(facility_follow_ups::decision_id.eq(decision));
    page_where(conn, of_it, page, record).await
}

/// The follow-ups addressed to the caller's organization (a partner), in
/// id order; none for any other caller.
pub async fn addressed_to_caller(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    page: PageRequest,
    record: &NewRecord,
) -> QueryResult<Vec<Addressed>> {
    page_where(conn, facility_follow_ups_visible(who), page, record).await
}

/// One page of the follow-ups `filter` keeps, in id order, with their
/// decisions; audited in the same statement.
async fn page_where(
    conn: &mut AsyncPgConnection,
    filter: Predicate<facility_follow_ups::table>,
    page: PageRequest,
    record: &NewRecord,
) -> QueryResult<Vec<Addressed>> {
    let mut query = facility_follow_ups::table
        .filter(filter)
        .select(FollowUp::as_select())
        .order(facility_follow_ups::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(facility_follow_ups::id.gt(after));
    }
    let rows = query
        .audited_page(record, "id", page.limit)
        .load(conn)
        .await?;
    with_decisions(conn, rows).await
}

/// The current status of each follow-up of these decisions.
pub async fn statuses_of_decisions(
    conn: &mut AsyncPgConnection,
    decisions: &[Uuid],
) -> QueryResult<Vec<(Uuid, Option<String>)>> {
    facility_follow_ups::table
        .filter(facility_follow_ups::decision_id.eq_any(decisions))
        .select((
            facility_follow_ups::decision_id,
            facility_follow_ups::status,
        ))
        .load(conn)
        .await
}

/// Records on each of these decisions the day every facility it is
/// addressed to had refused it, or none while one may still admit (or
/// none was addressed): what the `facilities_refused` alert reads. Called
/// in the transaction of every change of follow-ups.
pub async fn refresh_refusals(conn: &mut AsyncPgConnection, decisions: &[Uuid]) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE decisions d SET facilities_refused_on = ( \
             SELECT CASE WHEN bool_and(coalesce(f.status = ANY ($2), false)) \
                         THEN max(f.status_on) END \
             FROM facility_follow_ups f WHERE f.decision_id = d.id) \
         WHERE d.id = ANY ($1)",
    )
    .bind::<Array<SqlUuid>, _>(decisions)
    .bind::<Array<Text>, _>(facility_status::codes_of(Outcome::Refuses))
    .execute(conn)
    .await?;
    Ok(())
}

/// The follow-up `id` if in the caller's scope, locked for a report.
pub async fn lock_in_scope(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
) -> QueryResult<Option<FollowUp>> {
    facility_follow_ups::table
        .find(id)
        .filter(facility_follow_ups_visible(who))
        .select(FollowUp::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()
}

/// The day decision `id` was taken.
pub async fn decided_on(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<NaiveDate> {
    decisions::table
        .find(id)
        .select(decisions::decided_on)
        .first(conn)
        .await
}

/// Keeps the status `new` in the history of follow-up `current` (read at
/// its version) and makes it current, recorded by `by`.
pub async fn record_status(
    tx: &mut Tx<'_>,
    current: &FollowUp,
    new: &NewStatus,
    by: Uuid,
) -> QueryResult<FollowUp> {
    let code = new.status.status.code;
    let reason = new.status.reason;
    diesel::insert_into(facility_statuses::table)
        .values((
            facility_statuses::id.eq(new.id),
            facility_statuses::follow_up_id.eq(current.id),
            facility_statuses::status.eq(code),
            facility_statuses::reason.eq(reason),
            facility_statuses::status_on.eq(new.status_on),
            facility_statuses::recorded_by.eq(by),
        ))
        .execute(tx.conn())
        .await?;
    diesel::update(facility_follow_ups::table.find(current.id))
        .set((
            facility_follow_ups::status.eq(code),
            facility_follow_ups::reason.eq(reason),
            facility_follow_ups::status_on.eq(new.status_on),
            facility_follow_ups::version.eq(current.version + 1),
        ))
        .returning(FollowUp::as_returning())
        .get_result(tx.conn())
        .await
}
