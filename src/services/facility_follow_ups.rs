//! The follow-up of an orientation per facility: staff address an
//! orientation of an open pathway to facilities (organizations with a
//! FINESS), which then follow the pathway; a facility's partner client, or
//! staff on its behalf, report where the person stands there. Each change
//! commits with its event and its audit record.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use crate::db::facility_follow_ups::{self, FollowUp, NewFollowUp, NewStatus};
use crate::db::versioned::at_version;
use crate::db::{Error, events};
use crate::domain::DecisionKind;
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::events::{self as event, EventData};
use crate::services::change::Change;
use crate::services::pathways::lock_open_for_child;

/// Addresses an orientation of the caller's scope to a facility.
pub async fn address(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    new: &NewFollowUp,
) -> Result<FollowUp, Error> {
    let who = by.who;
    Change::new(by, AuditAction::Create, AuditTarget::FacilityFollowUp)
        .run(
            conn,
            async |tx| {
                let Some((pathway, kind)) =
                    facility_follow_ups::decision_in_scope(tx, who, new.decision_id).await?
                else {
                    return Err(facility_follow_ups::decision_not_found());
                };
                lock_open_for_child(tx, who, pathway).await?;
                if kind != DecisionKind::Orientation {
                    return Err(Error::conflict(
                        "Only an orientation is addressed to facilities; this decision is not one.",
                    ));
                }
                let finess = match facility_follow_ups::finess_of(tx, new.organization_id).await? {
                    None => {
                        return Err(Error::unprocessable(
                            "organization_id",
                            "names no organization",
                        ));
                    }
                    Some(None) => {
                        return Err(Error::unprocessable(
                            "organization_id",
                            "names an organization without a FINESS number: orientations are \
                             addressed to facilities",
                        ));
                    }
                    Some(Some(finess)) => finess,
                };
                let follow_up = facility_follow_ups::insert(tx, new, pathway, &finess).await?;
                facility_follow_ups::refresh_refusals(tx, &[new.decision_id]).await?;
                let data = EventData::FacilityNotified(event::FacilityNotified {
                    follow_up_id: follow_up.id,
                    decision_id: follow_up.decision_id,
                    organization_id: follow_up.organization_id,
                    finess,
                });
                events::record(tx, pathway, who.subject.id(), data).await?;
                Ok(follow_up)
            },
            |follow_up| follow_up.id,
        )
        .await
}

/// Reports a facility's new status for the follow-up `id`, read at
/// `version`: kept in the history, made current, with its event.
pub async fn report(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    new: &NewStatus,
) -> Result<FollowUp, Error> {
    let who = by.who;
    Change::new(by, AuditAction::Update, AuditTarget::FacilityFollowUp)
        .of(id)
        .run(
            conn,
            async |tx| {
                let locked = facility_follow_ups::lock_in_scope(tx, who, id).await?;
                let current = at_version(locked, version)
                    .map_err(|e| e.refused(facility_follow_ups::not_found))?;
                let decided_on = facility_follow_ups::decided_on(tx, current.decision_id).await?;
                if new.status_on < decided_on {
                    return Err(Error::unprocessable(
                        "status_on",
                        "must not be before the decision was taken",
                    ));
                }
                if current.status_on.is_some_and(|on| new.status_on < on) {
                    return Err(Error::unprocessable(
                        "status_on",
                        "must not be before the date of the current status",
                    ));
                }
                let updated =
                    facility_follow_ups::record_status(tx, &current, new, who.subject.id()).await?;
                facility_follow_ups::refresh_refusals(tx, &[current.decision_id]).await?;
                let data = EventData::FacilityStatusChanged(event::FacilityStatusChanged {
                    follow_up_id: id,
                    decision_id: current.decision_id,
                    organization_id: current.organization_id,
                    from: current.status,
                    to: new.status.status.code.to_owned(),
                    reason: new.status.reason.map(str::to_owned),
                    status_on: new.status_on,
                });
                events::record(tx, current.pathway_id, who.subject.id(), data).await?;
                Ok(updated)
            },
            |follow_up| follow_up.id,
        )
        .await
}
