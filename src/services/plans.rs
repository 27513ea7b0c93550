//! A plan's use cases: start one on an open pathway, change it, move its
//! status (consent, activation with its review date, end), and consent to
//! a new version of a plan in force. The moves are
//! [`crate::domain::plan`]'s; each change commits with its event and its
//! audit record.

use chrono::{NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use crate::db::plans::{self, Plan, PlanChanges, StatusWritten};
use crate::db::{Error, Tx, events, pathways};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::commitment::lets_plan_be_consented;
use crate::domain::enums::name_of;
use crate::domain::events::{self as event, EventData};
use crate::domain::plan::{allowed_next, end_reason_allowed, kind_allowed, latest_review};
use crate::domain::principal::Principal;
use crate::domain::refusal::{Refusal, WaitingCommitment};
use crate::domain::{ConsentBy, PathwayStatus, PlanEndReason, PlanKind, PlanStatus};
use crate::services::change::Change;
use crate::services::pathways::lock_open_for_child;

/// What starting a plan asks for, its text already parsed.
pub struct NewPlan {
    pub pathway_id: Uuid,
    pub kind: PlanKind,
    pub coordinator_id: Option<Uuid>,
    pub objectives: Option<String>,
}

/// A requested status change, with what the target status needs.
#[derive(Debug)]
pub struct PlanTransition {
    pub to: PlanStatus,
    pub consent: Option<(ConsentBy, NaiveDate)>,
    pub review_due: Option<NaiveDate>,
    pub end_reason: Option<PlanEndReason>,
}

const NOT_A_COORDINATOR: &str =
    "must be an active coordinator or supervisor of the pathway's territory and domain";

/// Starts a plan, as a draft, on an open pathway of the caller's scope.
pub async fn start(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    new: NewPlan,
) -> Result<Plan, Error> {
    let who = by.who;
    Change::new(by, AuditAction::Create, AuditTarget::Plan)
        .run(
            conn,
            async |tx| {
                let parent = lock_open_for_child(tx, who, new.pathway_id).await?;
                if !kind_allowed(parent.domain, new.kind) {
                    return Err(Error::unprocessable(
                        "kind",
                        format!(
                            "`{}` is not a plan of the `{}` domain; `pag` fits every domain",
                            name_of(&new.kind),
                            name_of(&parent.domain)
                        ),
                    ));
                }
                let coordinator = new
                    .coordinator_id
                    .or(parent.referent_id)
                    .unwrap_or(who.subject.id());
                if !pathways::can_be_referent(tx, coordinator, parent.territory_id, parent.domain)
                    .await?
                {
                    return Err(Error::unprocessable("coordinator_id", NOT_A_COORDINATOR));
                }
                let objectives = new.objectives.as_deref();
                let plan =
                    plans::insert(tx, new.pathway_id, new.kind, coordinator, objectives).await?;
                let data = EventData::PlanCreated(event::PlanCreated {
                    plan_id: plan.id,
                    kind: plan.kind,
                    coordinator_id: coordinator,
                });
                events::record(tx, new.pathway_id, who.subject.id(), data).await?;
                Ok(plan)
            },
            |plan| plan.id,
        )
        .await
}

/// Changes a plan's objectives, coordinator or review date.
pub async fn update(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    changes: &PlanChanges,
) -> Result<Plan, Error> {
    let who = by.who;
    Change::new(by, AuditAction::Update, AuditTarget::Plan)
        .of(id)
        .run(
            conn,
            async |tx| {
                let (plan, pathway) = plans::lock(tx, who, id, version).await?;
                if plan.status == PlanStatus::Ended {
                    return Err(Error::conflict(
                        "The plan has ended; it can no longer change.",
                    ));
                }
                if let Some(review_due) = changes.review_due {
                    check_review(plan.activated_on, review_due)?;
                }
                if let Some(coordinator) = changes.coordinator_id
                    && !pathways::can_be_referent(
                        tx,
                        coordinator,
                        pathway.territory_id,
                        pathway.domain,
                    )
                    .await?
                {
                    return Err(Error::unprocessable("coordinator_id", NOT_A_COORDINATOR));
                }
                if changes.objectives.is_some() {
                    plans::content_changed(tx, id, "objectives changed").await?;
                }
                let updated = plans::write_changes(tx, id, version, changes).await?;
                let data = EventData::PlanUpdated(event::PlanUpdated {
                    plan_id: id,
                    coordinator_id: changes.coordinator_id,
                    review_due: changes.review_due,
                });
                events::record(tx, plan.pathway_id, who.subject.id(), data).await?;
                Ok(updated)
            },
            |plan| plan.id,
        )
        .await
}

/// Moves a plan's status as its state machine allows.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    change: &PlanTransition,
) -> Result<Plan, Error> {
    Change::new(by, AuditAction::Transition, AuditTarget::Plan)
        .of(id)
        .run(
            conn,
            async |tx| move_status(tx, by.who, id, version, change).await,
            |plan| plan.id,
        )
        .await
}

/// The person agrees to the version of a plan in force that changed since
/// its last consent: every commitment standing must be accepted; the
/// version is frozen with who agreed and when.
pub async fn consent_version(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    consent: (ConsentBy, NaiveDate),
) -> Result<Plan, Error> {
    let who = by.who;
    Change::new(by, AuditAction::Update, AuditTarget::Plan)
        .of(id)
        .run(
            conn,
            async |tx| {
                let (plan, _) = plans::lock(tx, who, id, version).await?;
                if !matches!(plan.status, PlanStatus::Consented | PlanStatus::Active) {
                    return Err(Error::conflict(
                        "Only a plan in force (consented or active) takes a new version's \
                         consent; move a draft through `/transitions`.",
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
                plans::freeze_version(tx, &plan, consent, who.subject.id()).await?;
                let updated = plans::write_consent(tx, &plan, consent).await?;
                let data = EventData::PlanVersionConsented(event::PlanVersionConsented {
                    plan_id: id,
                    number: plan.version_number,
                    consent_by: consent.0,
                    consented_on: consent.1,
                });
                events::record(tx, plan.pathway_id, who.subject.id(), data).await?;
                Ok(updated)
            },
            |plan| plan.id,
        )
        .await
}

async fn move_status(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
    version: i32,
    change: &PlanTransition,
) -> Result<Plan, Error> {
    let (plan, pathway) = plans::lock(tx, who, id, version).await?;
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
            plans::freeze_version(tx, &plan, (by, on), who.subject.id()).await?;
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
    let written = StatusWritten {
        status: change.to,
        consent_by: consent.0,
        consented_on: consent.1,
        activated_on,
        review_due,
        ended_on,
        end_reason,
        consented_version_number: consented_version,
    };
    let updated = plans::write_status(tx, id, version, written).await?;
    let data = EventData::PlanStatusChanged(event::PlanStatusChanged {
        plan_id: id,
        from: plan.status,
        to: change.to,
        consent_by: updated.consent_by,
        review_due: updated.review_due,
        end_reason: updated.end_reason,
    });
    events::record(tx, plan.pathway_id, who.subject.id(), data).await?;
    Ok(updated)
}

/// Refuses a consent while a commitment still standing is not accepted by
/// its organization.
async fn check_commitments_accepted(tx: &mut Tx<'_>, id: Uuid) -> Result<(), Error> {
    let waiting: Vec<WaitingCommitment> = plans::commitments_share_locked(tx, id)
        .await?
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
