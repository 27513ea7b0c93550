//! Support plans of a pathway and their status machine.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Error;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::error::{Violation, violation};
use crate::db::schema::{commitments, plans};
use crate::db::scope::plans_visible;
use crate::db::versioned::at_version;
use crate::db::{PageRequest, events, pathways};
use crate::domain::commitment::lets_plan_be_consented;
use crate::domain::enums::name_of;
use crate::domain::events::{self as event, EventData};
use crate::domain::plan::{allowed_next, end_reason_allowed, kind_allowed, latest_review};
use crate::domain::principal::Principal;
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
    conn: &mut AsyncPgConnection,
    who: &Principal,
    pathway: Uuid,
    kind: PlanKind,
    coordinator: Option<Uuid>,
    objectives: Option<String>,
) -> Result<Plan, Error> {
    conn.transaction(async |conn| {
        let parent = pathways::lock_open_for_child(conn, who, pathway).await?;
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
        if !pathways::can_be_referent(conn, coordinator, parent.territory_id, parent.domain).await?
        {
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
            .get_result(&mut *conn)
            .await?;
        events::record(
            conn,
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
    })
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
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(plans::id.gt(after));
    }
    query
        .audited_list(record, "id", page.limit)
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
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
    version: i32,
    changes: &PlanChanges,
) -> Result<Plan, Error> {
    conn.transaction(async |conn| {
        let (plan, pathway) = lock(conn, who, id, version).await?;
        if plan.status == PlanStatus::Ended {
            return Err(Error::conflict(
                "The plan has ended; it can no longer change.",
            ));
        }
        if let Some(review_due) = changes.review_due {
            check_review(plan.activated_on, review_due)?;
        }
        if let Some(coordinator) = changes.coordinator_id
            && !pathways::can_be_referent(conn, coordinator, pathway.territory_id, pathway.domain)
                .await?
        {
            return Err(Error::unprocessable(
                "coordinator_id",
                "must be an active coordinator or supervisor of the pathway's territory and domain",
            ));
        }
        let updated: Plan = diesel::update(plans::table.find(id))
            .set((changes, plans::version.eq(version + 1)))
            .returning(Plan::as_returning())
            .get_result(&mut *conn)
            .await?;
        events::record(
            conn,
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
    })
    .await
}

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
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
    version: i32,
    change: &PlanTransition,
) -> Result<Plan, Error> {
    conn.transaction(async |conn| {
        let (plan, pathway) = lock(conn, who, id, version).await?;
        let allowed = allowed_next(plan.status);
        if !allowed.contains(&change.to) {
            return Err(Error::forbidden_transition(
                "plan",
                &name_of(&plan.status),
                &name_of(&change.to),
                allowed.iter().map(name_of).collect(),
            ));
        }
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
                // Read under a share lock: no commitment is refused while
                // the consent that counted it accepted commits.
                let statuses: Vec<CommitmentStatus> = commitments::table
                    .filter(commitments::plan_id.eq(id))
                    .select(commitments::status)
                    .for_share()
                    .load(&mut *conn)
                    .await?;
                let waiting = statuses
                    .iter()
                    .filter(|s| !lets_plan_be_consented(**s))
                    .count();
                if waiting > 0 {
                    return Err(Error::conflict(format!(
                        "{waiting} commitment(s) of this plan are not accepted by their \
                         organization (proposed or refused): a plan is consented once every \
                         commitment still standing is accepted."
                    )));
                }
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
                plans::version.eq(version + 1),
            ))
            .returning(Plan::as_returning())
            .get_result(&mut *conn)
            .await
            .map_err(|e| match violation(&e) {
                Some(Violation::Unique) => Error::conflict(
                    "The pathway already has an active plan; end it before activating another.",
                ),
                _ => e.into(),
            })?;
        events::record(
            conn,
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
    })
    .await
}
