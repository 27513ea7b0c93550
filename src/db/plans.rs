//! Support plans of a pathway, their versions and their commitments'
//! standing: the queries. The use cases are [`crate::services::plans`].

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Error;
use crate::db::Tx;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::error::{Violation, violation};
use crate::db::schema::{commitments, plan_versions, plans};
use crate::db::scope::plans_visible;
use crate::db::versioned::at_version;
use crate::db::{PageRequest, pathways};
use crate::domain::principal::Principal;
use crate::domain::{CommitmentStatus, ConsentBy, PlanEndReason, PlanKind, PlanStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = plans, check_for_backend(diesel::pg::Pg))]
pub struct Plan {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub kind: PlanKind,
    pub status: PlanStatus,
    pub coordinator_id: Uuid,
    pub objectives: Option<String>,
    pub consent_by: Option<ConsentBy>,
    pub consented_on: Option<NaiveDate>,
    pub activated_on: Option<NaiveDate>,
    pub review_due: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<PlanEndReason>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The version of its content (objectives, commitments) being worked on.
    pub version_number: i32,
    /// The last version the person agreed to.
    pub consented_version_number: Option<i32>,
    /// What changed since that version, until the next consent.
    pub pending_changes: Option<String>,
}

crate::db::versioned::versioned!(Plan);

/// A row of `plan_versions` as stored: a version of a plan the person
/// agreed to.
#[derive(
    Debug, Clone, Queryable, Selectable, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[diesel(table_name = plan_versions, check_for_backend(diesel::pg::Pg))]
#[serde(deny_unknown_fields)]
#[schema(as = PlanVersionRecord)]
pub struct PlanVersion {
    pub plan_id: Uuid,
    pub number: i32,
    pub objectives: Option<String>,
    /// The commitments standing when the person agreed (`AgreedCommitment`).
    #[schema(schema_with = agreed_commitments)]
    pub commitments: serde_json::Value,
    pub changes: Option<String>,
    pub consent_by: ConsentBy,
    pub consented_on: NaiveDate,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

/// `commitments`' schema, by name: the API's view of a commitment agreed.
fn agreed_commitments() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(utoipa::openapi::Ref::from_schema_name("AgreedCommitment"))
        .build()
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = plans, check_for_backend(diesel::pg::Pg))]
pub struct PlanChanges {
    pub objectives: Option<String>,
    pub coordinator_id: Option<Uuid>,
    pub review_due: Option<NaiveDate>,
}

pub fn not_found() -> Error {
    Error::not_found("No such plan in your territories and domains.")
}

pub async fn insert(
    tx: &mut Tx<'_>,
    pathway: Uuid,
    kind: PlanKind,
    coordinator: Uuid,
    objectives: Option<&str>,
) -> QueryResult<Plan> {
    diesel::insert_into(plans::table)
        .values((
            plans::id.eq(Uuid::now_v7()),
            plans::pathway_id.eq(pathway),
            plans::kind.eq(kind),
            plans::coordinator_id.eq(coordinator),
            plans::objectives.eq(objectives),
        ))
        .returning(Plan::as_returning())
        .get_result(tx.conn())
        .await
}

/// The plan, if in the caller's scope: an answer, audited in the same statement,
/// with a `record`; a check without ([`AuditedDsl::audited_one_if`]).
pub async fn find(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
    record: Option<&NewRecord>,
) -> QueryResult<Option<Plan>> {
    plans::table
        .find(id)
        .filter(plans_visible(who))
        .select(Plan::as_select())
        .audited_one_if(record)
        .get_result(conn)
        .await
        .optional()
}

pub async fn of_pathway(
    conn: &mut AsyncPgConnection,
    pathway: Uuid,
    page: PageRequest,
    record: &NewRecord,
) -> QueryResult<Vec<Plan>> {
    let mut query = plans::table
        .filter(plans::pathway_id.eq(pathway))
        .select(Plan::as_select())
        .order(plans::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(plans::id.gt(after));
    }
    query
        .audited_page(record, "id", page.limit)
        .load(conn)
        .await
}

/// The plan and its pathway, both locked, if in scope and at `version`.
pub async fn lock(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
    version: i32,
) -> Result<(Plan, pathways::Pathway), Error> {
    let locked = plans::table
        .find(id)
        .filter(plans_visible(who))
        .select(Plan::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let plan = at_version(locked, version).map_err(|e| e.refused(not_found))?;
    let pathway = pathways::find(conn, who, plan.pathway_id, None)
        .await?
        .ok_or_else(not_found)?;
    Ok((plan, pathway))
}

pub async fn write_changes(
    tx: &mut Tx<'_>,
    id: Uuid,
    version: i32,
    changes: &PlanChanges,
) -> QueryResult<Plan> {
    diesel::update(plans::table.find(id))
        .set((changes, plans::version.eq(version + 1)))
        .returning(Plan::as_returning())
        .get_result(tx.conn())
        .await
}

/// Records that the content of plan `id` changed (`what`: ids and kinds of
/// change, no free text). Before the first consent nothing is numbered;
/// while the plan is in force, the first change after a consent opens the
/// next version, which needs consent again; later changes add to it. An
/// ended plan has no next version.
pub async fn content_changed(tx: &mut Tx<'_>, id: Uuid, what: &str) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE plans SET \
             version_number = CASE WHEN consented_version_number = version_number \
                                   THEN version_number + 1 ELSE version_number END, \
             pending_changes = left(concat_ws('; ', \
                 CASE WHEN consented_version_number = version_number THEN NULL \
                      ELSE pending_changes END, $2), 4000) \
         WHERE id = $1 AND consented_version_number IS NOT NULL \
           AND status IN ('consented', 'active')",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<diesel::sql_types::Text, _>(what)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The commitments of plan `id` and their statuses, under a share lock, so
/// that none is refused while the consent that counted it accepted commits.
pub async fn commitments_share_locked(
    tx: &mut Tx<'_>,
    id: Uuid,
) -> QueryResult<Vec<(Uuid, CommitmentStatus)>> {
    commitments::table
        .filter(commitments::plan_id.eq(id))
        .select((commitments::id, commitments::status))
        .order(commitments::id)
        .for_share()
        .load(tx.conn())
        .await
}

/// The commitments of plan `pl` standing when it is agreed to, as a
/// version holds them: what the person agreed each organization would do.
const COMMITMENTS_AGREED: &str = "coalesce((SELECT jsonb_agg(jsonb_build_object( \
         'id', c.id, 'organization_id', c.organization_id, \
         'description', c.description, 'frequency', c.frequency, \
         'due_on', c.due_on, 'status', c.status) ORDER BY c.id) \
       FROM commitments c WHERE c.plan_id = pl.id AND c.status <> 'cancelled'), '[]')";

/// For `seed-demo`: the plans among `ids` already consented get their
/// first version, as agreed by their coordinator's record.
pub async fn freeze_first_versions(tx: &mut Tx<'_>, ids: &[Uuid]) -> QueryResult<()> {
    diesel::sql_query(format!(
        "WITH frozen AS ( \
             INSERT INTO plan_versions (plan_id, number, objectives, commitments, consent_by, \
                 consented_on, recorded_by, recorded_at) \
             SELECT pl.id, 1, pl.objectives, {COMMITMENTS_AGREED}, pl.consent_by, \
                    pl.consented_on, pl.coordinator_id, pl.consented_on::timestamp AT TIME ZONE 'UTC' \
             FROM plans pl \
             WHERE pl.id = ANY ($1) AND pl.consented_on IS NOT NULL AND pl.consent_by IS NOT NULL \
             RETURNING plan_id) \
         UPDATE plans SET consented_version_number = 1 WHERE id IN (SELECT plan_id FROM frozen)"
    ))
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Freezes the plan's content as its version `number`, agreed by `by` on
/// `on`, as `recorded_by` recorded.
pub async fn freeze_version(
    tx: &mut Tx<'_>,
    plan: &Plan,
    (by, on): (ConsentBy, NaiveDate),
    recorded_by: Uuid,
) -> QueryResult<()> {
    diesel::sql_query(format!(
        "INSERT INTO plan_versions (plan_id, number, objectives, commitments, changes, \
             consent_by, consented_on, recorded_by) \
         SELECT pl.id, pl.version_number, pl.objectives, {COMMITMENTS_AGREED}, \
                pl.pending_changes, $2, $3, $4 \
         FROM plans pl WHERE pl.id = $1"
    ))
    .bind::<diesel::sql_types::Uuid, _>(plan.id)
    .bind::<crate::db::schema::sql_types::ConsentBy, _>(by)
    .bind::<diesel::sql_types::Date, _>(on)
    .bind::<diesel::sql_types::Uuid, _>(recorded_by)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The plan at `version` now agreed to as its current version.
pub async fn write_consent(
    tx: &mut Tx<'_>,
    plan: &Plan,
    (by, on): (ConsentBy, NaiveDate),
) -> QueryResult<Plan> {
    diesel::update(plans::table.find(plan.id))
        .set((
            plans::consent_by.eq(by),
            plans::consented_on.eq(on),
            plans::consented_version_number.eq(plan.version_number),
            plans::pending_changes.eq(None::<String>),
            plans::version.eq(plan.version + 1),
        ))
        .returning(Plan::as_returning())
        .get_result(tx.conn())
        .await
}

/// The versions of a plan the caller was shown to see, oldest first.
pub async fn versions_of(
    conn: &mut AsyncPgConnection,
    plan: Uuid,
    record: &NewRecord,
) -> QueryResult<Vec<PlanVersion>> {
    plan_versions::table
        .filter(plan_versions::plan_id.eq(plan))
        .select(PlanVersion::as_select())
        .order(plan_versions::number)
        .limit(MAX_VERSIONS)
        .audited_list(record, "plan_id", MAX_VERSIONS)
        .load(conn)
        .await
}

/// Versions listed at most (a plan is reviewed yearly: decades of them).
pub const MAX_VERSIONS: i64 = 200;

/// What a status move writes.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = plans, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
pub struct StatusWritten {
    pub status: PlanStatus,
    pub consent_by: Option<ConsentBy>,
    pub consented_on: Option<NaiveDate>,
    pub activated_on: Option<NaiveDate>,
    pub review_due: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<PlanEndReason>,
    pub consented_version_number: Option<i32>,
}

/// One active plan per pathway: a second one is refused as a conflict.
pub async fn write_status(
    tx: &mut Tx<'_>,
    id: Uuid,
    version: i32,
    written: StatusWritten,
) -> Result<Plan, Error> {
    diesel::update(plans::table.find(id))
        .set((written, plans::version.eq(version + 1)))
        .returning(Plan::as_returning())
        .get_result(tx.conn())
        .await
        .map_err(|e| match violation(&e) {
            Some(Violation::Unique) => Error::conflict(
                "The pathway already has an active plan; end it before activating another.",
            ),
            _ => e.into(),
        })
}
