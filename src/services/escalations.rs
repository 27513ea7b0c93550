//! Critical situations escalated to a named organization: staff who steer
//! the pathway send one; the recipient (its partner client, or staff
//! recording what it said) acknowledges and answers it; the département
//! closes it. The moves are [`crate::domain::escalation`]'s; each change
//! commits with its event, which the recipient also reads in its feed, and
//! its audit record.

use chrono::{NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use crate::db::escalations::{self, Escalation, NewEscalationRow};
use crate::db::versioned::at_version;
use crate::db::{Error, events, pathways};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::escalation::{self, side_of};
use crate::domain::events::{self as event, EventData};
use crate::domain::policy::may_move_escalation;
use crate::domain::{EscalationClosure, EscalationStatus};
use crate::services::change::Change;
use crate::services::pathways::lock_open_to_steer;

/// An escalation to send.
#[derive(Debug)]
pub struct NewEscalation {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub organization_id: Uuid,
    pub summary: String,
    pub due_on: NaiveDate,
}

/// A move of an escalation, with what it records.
#[derive(Debug, Clone)]
pub enum Move {
    Acknowledge,
    Answer(String),
    Close(EscalationClosure),
}

impl Move {
    pub fn to(&self) -> EscalationStatus {
        match self {
            Move::Acknowledge => EscalationStatus::Acknowledged,
            Move::Answer(_) => EscalationStatus::Answered,
            Move::Close(_) => EscalationStatus::Closed,
        }
    }
}

/// Sends the critical situation of a pathway the caller steers to an
/// organization (which follows the pathway from then on).
pub async fn send(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    new: &NewEscalation,
) -> Result<Escalation, Error> {
    let who = by.who;
    Change::new(by, AuditAction::Create, AuditTarget::Escalation)
        .run(
            conn,
            async |tx| {
                let pathway = lock_open_to_steer(tx, who, new.pathway_id).await?;
                let Some(level) = pathway.critical_level else {
                    return Err(Error::conflict(
                        "The situation is not flagged critical: flag it first \
                         (PUT /v1/pathways/{id}/critical), then escalate it.",
                    ));
                };
                if escalations::sharing_objected(tx, pathway.person_id).await? {
                    return Err(Error::conflict(
                        "The person objected to sharing with partners: nothing of the \
                         situation may be sent to another organization.",
                    ));
                }
                if !escalations::organization_exists(tx, new.organization_id).await? {
                    return Err(Error::unprocessable(
                        "organization_id",
                        "names no organization",
                    ));
                }
                let row = NewEscalationRow {
                    id: new.id,
                    pathway_id: new.pathway_id,
                    organization_id: new.organization_id,
                    level,
                    summary: &new.summary,
                    due_on: new.due_on,
                    sent_by: who.subject.id(),
                };
                let sent = escalations::insert(tx, &row).await?;
                let data = EventData::EscalationSent(event::EscalationSent {
                    escalation_id: sent.id,
                    organization_id: sent.organization_id,
                    level,
                    due_on: sent.due_on,
                });
                events::record(tx, sent.pathway_id, who.subject.id(), data).await?;
                Ok(sent)
            },
            |sent| sent.id,
        )
        .await
}

/// Acknowledges, answers or closes the escalation `id`, read at `version`.
pub async fn advance(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    change: &Move,
) -> Result<Escalation, Error> {
    let who = by.who;
    Change::new(by, AuditAction::Transition, AuditTarget::Escalation)
        .of(id)
        .run(
            conn,
            async |tx| {
                let locked = escalations::lock_in_scope(tx, who, id).await?;
                let current =
                    at_version(locked, version).map_err(|e| e.refused(escalations::not_found))?;
                let to = change.to();
                let allowed = escalation::allowed_next(current.status);
                Error::unless_allowed("escalation", &current.status, &to, allowed)?;
                let referent = pathways::referent_of(tx, current.pathway_id).await?;
                if !may_move_escalation(who.role, who.subject.id(), referent, side_of(to)) {
                    return Err(pathways::not_steering());
                }
                let actor = who.subject.id();
                let now = Utc::now();
                let updated = match change {
                    Move::Acknowledge => escalations::acknowledge(tx, &current, actor, now).await?,
                    Move::Answer(text) => {
                        escalations::answer(tx, &current, text, actor, now).await?
                    }
                    Move::Close(closure) => {
                        escalations::close(tx, &current, *closure, actor, now).await?
                    }
                };
                let data = EventData::EscalationStatusChanged(event::EscalationStatusChanged {
                    escalation_id: id,
                    organization_id: current.organization_id,
                    from: current.status,
                    to,
                    closure: updated.closure,
                });
                events::record(tx, current.pathway_id, actor, data).await?;
                Ok(updated)
            },
            |moved| moved.id,
        )
        .await
}
