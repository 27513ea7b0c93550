//! Support plans of a pathway and their status machine.

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
use crate::db::{PageRequest, events, pathways};
use crate::domain::commitment::lets_plan_be_consented;
use crate::domain::enums::name_of;
use crate::domain::events::{self as event, EventData};
use crate::domain::plan::{allowed_next, end_reason_allowed, kind_allowed, latest_review};
use crate::domain::principal::Principal;
use crate::domain::refusal::{Refusal, WaitingCommitment};
use crate::domain::{
    CommitmentStatus, ConsentBy, PathwayStatus, PlanEndReason, PlanKind, PlanStatus,
};

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

/// A version of a plan the person agreed to.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = plan_versions, check_for_backend(diesel::pg::Pg))]
pub struct PlanVersion {
    pub plan_id: Uuid,
    pub number: i32,
    pub objectives: Option<String>,
    pub commitments: serde_json::Value,
    pub changes: Option<String>,
    pub consent_by: ConsentBy,
    pub consented_on: NaiveDate,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = plans, check_for_backend(diesel::pg::Pg))]
pub struct PlanChanges {
    pub objectives: Option<String>,
    pub coordinator_id: Option<Uuid>,
    pub review_due: Option<NaiveDate>,
}

/// A requested status change, with what the target status needs.
#[derive(Debug)]
pub struct PlanTransition {
    pub to: PlanStatus,
    pub consent: Option<(ConsentBy, NaiveDate)>,
    pub review_due: Option<NaiveDate>,
    pub end_reason: Option<PlanEndReason>,
}

pub fn not_found() -> Error {
    Error::not_found("No such plan in your territories and domains.")
}

/// Creates a draft plan on an open pathway in scope.
pub async fn create(
    tx: &mut Tx<'_>,
    who: &Principal,
    pathway: Uuid,
    kind: PlanKind,
    coordinator: Option<Uuid>,
    objectives: Option<String>,
) -> Result<Plan, Error> {
    let parent = pathways::lock_open_for_child(tx, who, pathway).await?;
    if !kind_allowed(parent.domain, kind) {
        return Err(Error::unprocessable(
            "kind",
            format!(
                "`{}` is not a plan of the `{}` domain; `pag` fits every domain",
                name_of(&kind),
                name_of(&parent.domain)
            ),
        ));
    }
    let coordinator = coordinator
        .or(parent.referent_id)
        .unwrap_or(who.subject.id());
    if !pathways::can_be_referent(tx, coordinator, parent.territory_id, parent.domain).await? {
        return Err(Error::unprocessable(
            "coordinator_id",
            "must be an active coordinator or supervisor of the pathway's territory and domain",
        ));
    }
    let plan: Plan = diesel::insert_into(plans::table)
        .values((
            plans::id.eq(Uuid::now_v7()),
            plans::pathway_id.eq(pathway),
            plans::kind.eq(kind),
            plans::coordinator_id.eq(coordinator),
            plans::objectives.eq(objectives),
        ))
        .returning(Plan::as_returning())
        .get_result(tx.conn())
        .await?;
    events::record(
        tx,
        pathway,
        who.subject.id(),
        EventData::PlanCreated(event::PlanCreated {
            plan_id: plan.id,
            kind: plan.kind,
            coordinator_id: coordinator,
        }),
    )
    .await?;
    Ok(plan)
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
async fn lock(
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

pub async fn update(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
    version: i32,
    changes: &PlanChanges,
) -> Result<Plan, Error> {
    let (plan, pathway) = lock(tx, who, id, version).await?;
    if plan.status == PlanStatus::Ended {
        return Err(Error::conflict(
            "The plan has ended; it can no longer change.",
        ));
    }
    if let Some(review_due) = changes.review_due {
        check_review(plan.activated_on, review_due)?;
    }
    if let Some(coordinator) = changes.coordinator_id
        && !pathways::can_be_referent(tx, coordinator, pathway.territory_id, pathway.domain).await?
    {
        return Err(Error::unprocessable(
            "coordinator_id",
            "must be an active coordinator or supervisor of the pathway's territory and domain",
        ));
    }
    if changes.objectives.is_some() {
        content_changed(tx, id, "objectives changed").await?;
    }
    let updated: Plan = diesel::update(plans::table.find(id))
        .set((changes, plans::version.eq(version + 1)))
        .returning(Plan::as_returning())
        .get_result(tx.conn())
        .await?;
    events::record(
        tx,
        plan.pathway_id,
        who.subject.id(),
        EventData::PlanUpdated(event::PlanUpdated {
            plan_id: id,
            coordinator_id: changes.coordinator_id,
            review_due: changes.review_due,
        }),
    )
    .await?;
    Ok(updated)
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

/// Refuses a consent while a commitment still standing is not accepted by
/// its organization; reads them under a share lock, so that none is
/// refused while the consent that counted it accepted commits.
async fn check_commitments_accepted(conn: &mut AsyncPgConnection, id: Uuid) -> Result<(), Error> {
    let statuses: Vec<(Uuid, CommitmentStatus)> = commitments::table
        .filter(commitments::plan_id.eq(id))
        .select((commitments::id, commitments::status))
        .order(commitments::id)
        .for_share()
        .load(&mut *conn)
        .await?;
    let waiting: Vec<WaitingCommitment> = statuses
        .into_iter()
        .filter(|(_, status)| !lets_plan_be_consented(*status))
        .map(|(id, status)| WaitingCommitment { id, status })
        .collect();
    if !waiting.is_empty() {
        return Err(Error::Refused(Refusal::CommitmentsNotAccepted {
            detail: format!(
                "{} commitment(s) of this plan are not accepted by their organization \
                 (proposed or refused; listed in `commitments`): a plan is consented once \
                 every commitment still standing is accepted.",
                waiting.len()
            ),
            waiting,
        }));
    }
    Ok(())
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

/// Freezes the plan's content as version `number`, agreed by `by` on `on`.
async fn freeze_version(
    tx: &mut Tx<'_>,
    who: &Principal,
    plan: &Plan,
    (by, on): (ConsentBy, NaiveDate),
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
    .bind::<diesel::sql_types::Uuid, _>(who.subject.id())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The person agrees to the version of a plan in force that changed since
/// its last consent: every commitment standing must be accepted; the
/// version is frozen with who agreed and when.
pub async fn consent_version(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
    version: i32,
    consent: (ConsentBy, NaiveDate),
) -> Result<Plan, Error> {
    let (plan, _) = lock(tx, who, id, version).await?;
    if !matches!(plan.status, PlanStatus::Consented | PlanStatus::Active) {
        return Err(Error::conflict(
            "Only a plan in force (consented or active) takes a new version's consent; \
             move a draft through `/transitions`.",
        ));
    }
    if plan.consented_version_number == Some(plan.version_number) {
        return Err(Error::conflict(format!(
            "Nothing to consent: version {} is the one agreed to.",
            plan.version_number
        )));
    }
    if consent.1 > Utc::now().date_naive() {
        return Err(Error::unprocessable(
            "given_on",
            "must not be in the future",
        ));
    }
    check_commitments_accepted(tx, id).await?;
    freeze_version(tx, who, &plan, consent).await?;
    let updated: Plan = diesel::update(plans::table.find(id))
        .set((
            plans::consent_by.eq(consent.0),
            plans::consented_on.eq(consent.1),
            plans::consented_version_number.eq(plan.version_number),
            plans::pending_changes.eq(None::<String>),
            plans::version.eq(version + 1),
        ))
        .returning(Plan::as_returning())
        .get_result(tx.conn())
        .await?;
    events::record(
        tx,
        plan.pathway_id,
        who.subject.id(),
        EventData::PlanVersionConsented(event::PlanVersionConsented {
            plan_id: id,
            number: plan.version_number,
            consent_by: consent.0,
            consented_on: consent.1,
        }),
    )
    .await?;
    Ok(updated)
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

/// A review date must come after activation and at most 12 months later.
fn check_review(activated_on: Option<NaiveDate>, review_due: NaiveDate) -> Result<(), Error> {
    let Some(activated_on) = activated_on else {
        return Err(Error::unprocessable(
            "review_due",
            "is set when the plan is activated",
        ));
    };
    let latest = latest_review(activated_on);
    if review_due <= activated_on || review_due > latest {
        return Err(Error::unprocessable(
            "review_due",
            format!("must be after the activation ({activated_on}) and no later than {latest}"),
        ));
    }
    Ok(())
}

pub async fn transition(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
    version: i32,
    change: &PlanTransition,
) -> Result<Plan, Error> {
    let (plan, pathway) = lock(tx, who, id, version).await?;
    Error::unless_allowed("plan", &plan.status, &change.to, allowed_next(plan.status))?;
    if pathway.status == PathwayStatus::Closed && change.to != PlanStatus::Ended {
        return Err(Error::conflict(
            "The pathway is closed: its plans can only end.",
        ));
    }
    let today = Utc::now().date_naive();
    let mut consent = (plan.consent_by, plan.consented_on);
    let mut activated_on = plan.activated_on;
    let mut review_due = plan.review_due;
    let (mut ended_on, mut end_reason) = (None, None);
    let mut consented_version = plan.consented_version_number;
    match change.to {
        PlanStatus::Consented => {
            let Some((by, on)) = change.consent else {
                return Err(Error::unprocessable(
                    "consent",
                    "is required: who agreed (`person` or `legal_representative`) and when",
                ));
            };
            if on > today {
                return Err(Error::unprocessable(
                    "consent.given_on",
                    "must not be in the future",
                ));
            }
            check_commitments_accepted(tx, id).await?;
            freeze_version(tx, who, &plan, (by, on)).await?;
            consented_version = Some(plan.version_number);
            consent = (Some(by), Some(on));
        }
        PlanStatus::Active => {
            let due = change.review_due.unwrap_or_else(|| latest_review(today));
            check_review(Some(today), due)?;
            activated_on = Some(today);
            review_due = Some(due);
        }
        PlanStatus::Ended => {
            let Some(reason) = change.end_reason else {
                return Err(Error::unprocessable(
                    "end_reason",
                    "is required to end a plan",
                ));
            };
            if !end_reason_allowed(plan.kind, reason) {
                return Err(Error::unprocessable(
                    "end_reason",
                    "a PAG ends for a national reason (TRE_R421): target_reached, \
                     alternative_sustained, specific_solution_became_target, \
                     coordination_without_pag, person_request, derogations_ended, new_pag, \
                     moved_out_of_department or deceased",
                ));
            }
            ended_on = Some(today);
            end_reason = Some(reason);
        }
        // Back to draft: the proposal was not agreed.
        PlanStatus::Draft | PlanStatus::Proposed => consent = (None, None),
    }
    let updated: Plan = diesel::update(plans::table.find(id))
        .set((
            plans::status.eq(change.to),
            plans::consent_by.eq(consent.0),
            plans::consented_on.eq(consent.1),
            plans::activated_on.eq(activated_on),
            plans::review_due.eq(review_due),
            plans::ended_on.eq(ended_on),
            plans::end_reason.eq(end_reason),
            plans::consented_version_number.eq(consented_version),
            plans::version.eq(version + 1),
        ))
        .returning(Plan::as_returning())
        .get_result(tx.conn())
        .await
        .map_err(|e| match violation(&e) {
            Some(Violation::Unique) => Error::conflict(
                "The pathway already has an active plan; end it before activating another.",
            ),
            _ => e.into(),
        })?;
    events::record(
        tx,
        plan.pathway_id,
        who.subject.id(),
        EventData::PlanStatusChanged(event::PlanStatusChanged {
            plan_id: id,
            from: plan.status,
            to: change.to,
            consent_by: updated.consent_by,
            review_due: updated.review_due,
            end_reason: updated.end_reason,
        }),
    )
    .await?;
    Ok(updated)
}
