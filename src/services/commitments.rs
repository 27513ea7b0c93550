//! A commitment's use cases: a commitment is proposed to an organization;
//! staff change it, its organization's partner answers it and moves only
//! its status.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use chrono::{NaiveDate, Utc};

use crate::db::commitments::{self, Commitment, NewCommitment, Written};
use crate::db::versioned::at_version;
use crate::db::{Error, Tx, events, plans};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::commitment::{
    OnBehalf, after_new_terms, allowed_next, check_on_behalf, is_answer,
};
use crate::domain::events::{self as event, EventData};
use crate::domain::policy::{changes_only_commitment_status, may_set_commitment_status};
use crate::domain::principal::Principal;
use crate::domain::{CommitmentRefusalReason, CommitmentStatus, PlanStatus};
use crate::services::change::Change;

/// What a caller asks to change.
#[derive(Debug, Default)]
pub struct CommitmentChanges {
    pub description: Option<String>,
    pub frequency: Option<Option<String>>,
    pub due_on: Option<Option<NaiveDate>>,
    pub status: Option<CommitmentStatus>,
    pub refusal_reason: Option<CommitmentRefusalReason>,
    /// Staff recording the organization's answer, received another way.
    pub on_behalf_of: Option<OnBehalf>,
}

impl CommitmentChanges {
    /// Whether the terms change (description, frequency, due date).
    pub fn changes_terms(&self) -> bool {
        self.description.is_some() || self.frequency.is_some() || self.due_on.is_some()
    }
}

/// Adds a commitment to a plan of the caller's scope.
pub async fn add(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    new: &NewCommitment,
) -> Result<Commitment, Error> {
    Change::new(by, AuditAction::Create, AuditTarget::Commitment)
        .run(
            conn,
            async |tx| {
                let Some((pathway, status)) =
                    commitments::lock_plan(tx, by.who, new.plan_id).await?
                else {
                    return Err(plans::not_found());
                };
                if status == PlanStatus::Ended {
                    return Err(Error::conflict(
                        "The plan has ended; add commitments to a current plan.",
                    ));
                }
                let commitment = commitments::insert(tx, new).await?;
                let what = format!("commitment {} added", commitment.id);
                plans::content_changed(tx, new.plan_id, &what).await?;
                let data = EventData::CommitmentAdded(event::CommitmentAdded {
                    plan_id: new.plan_id,
                    commitment_id: commitment.id,
                    organization_id: commitment.organization_id,
                    due_on: commitment.due_on,
                });
                events::record(tx, pathway, by.who.subject.id(), data).await?;
                Ok(commitment)
            },
            |commitment| commitment.id,
        )
        .await
}

/// Changes a commitment; a partner may change only its status (403).
pub async fn update(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    changes: &CommitmentChanges,
) -> Result<Commitment, Error> {
    if changes_only_commitment_status(by.who.role) && changes.changes_terms() {
        return Err(Error::forbidden(
            "Partners change only the `status` of their commitments.",
        ));
    }
    let on_behalf = changes.on_behalf_of.is_some();
    if let Some(to) = changes.status
        && !may_set_commitment_status(by.who.role, to, on_behalf)
    {
        return Err(Error::forbidden(
            if changes_only_commitment_status(by.who.role) {
                "Cancelling a commitment or proposing it again is the referent's, and a partner \
             answers as itself: answer it (`accepted`, `refused`), carry it out or report it \
             `breached`."
            } else {
                "Only the organization a commitment is proposed to answers it. To record an \
             answer it gave another way (by phone, by letter…), send it in `on_behalf_of`."
            },
        ));
    }
    // An answer recorded for the organization is an act of its own in the
    // audit trail.
    let action = if on_behalf {
        AuditAction::RecordAnswer
    } else {
        AuditAction::Update
    };
    Change::new(by, action, AuditTarget::Commitment)
        .of(id)
        .run(
            conn,
            async |tx| apply(tx, by.who, id, version, changes).await,
            |commitment| commitment.id,
        )
        .await
}

/// Applies `changes` to a commitment in scope, at `version`, with its event.
async fn apply(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
    version: i32,
    changes: &CommitmentChanges,
) -> Result<Commitment, Error> {
    let locked = commitments::lock_in_scope(tx, who, id).await?;
    let current = at_version(locked, version).map_err(|e| e.refused(commitments::not_found))?;
    let status = next_status(&current, changes)?;
    if let Some(on_behalf) = &changes.on_behalf_of {
        check_on_behalf(
            current.status,
            status,
            current.organization_id,
            on_behalf,
            Utc::now().date_naive(),
        )?;
    }
    let answered = is_answer(status) && status != current.status;
    // A new answer replaces how the last one was received.
    let (received_via, received_on) = match (answered, &changes.on_behalf_of) {
        (true, Some(on_behalf)) => (Some(on_behalf.received_via), Some(on_behalf.received_on)),
        (true, None) => (None, None),
        (false, _) => (current.answer_received_via, current.answer_received_on),
    };
    let refusal_reason = match status {
        CommitmentStatus::Refused => changes.refusal_reason.or(current.refusal_reason),
        _ => None,
    };
    let written = Written {
        description: changes.description.as_deref(),
        frequency: changes.frequency.as_ref().map(Option::as_deref),
        due_on: changes.due_on,
        status,
        refusal_reason,
        answered_at: if answered {
            Some(Utc::now())
        } else {
            current.answered_at
        },
        answered_by: if answered {
            Some(who.subject.id())
        } else {
            current.answered_by
        },
        answer_received_via: received_via,
        answer_received_on: received_on,
    };
    let pathway = commitments::pathway_of_plan(tx, current.plan_id).await?;
    // New terms or a cancellation change what the person agreed to.
    let content_change = if changes.changes_terms() {
        Some(format!("commitment {id}: new terms"))
    } else if status == CommitmentStatus::Cancelled && current.status != status {
        Some(format!("commitment {id} cancelled"))
    } else {
        None
    };
    if let Some(what) = content_change {
        plans::content_changed(tx, current.plan_id, &what).await?;
    }
    let updated = commitments::write(tx, id, version, written).await?;
    let data = EventData::CommitmentUpdated(event::CommitmentUpdated {
        plan_id: current.plan_id,
        commitment_id: id,
        organization_id: current.organization_id,
        from: current.status,
        to: updated.status,
        refusal_reason: updated.refusal_reason,
        on_behalf_of: changes.on_behalf_of,
    });
    events::record(tx, pathway, who.subject.id(), data).await?;
    Ok(updated)
}

/// The status a change leads to, by the commitment's rules
/// ([`crate::domain::commitment`]), or why not.
fn next_status(
    current: &Commitment,
    changes: &CommitmentChanges,
) -> Result<CommitmentStatus, Error> {
    if changes.changes_terms() {
        if changes.status.is_some() {
            return Err(Error::unprocessable(
                "status",
                "change the terms and the status in two requests: new terms are proposed again",
            ));
        }
        return after_new_terms(current.status).ok_or_else(|| {
            Error::conflict(
                "A commitment under way or over keeps its terms: cancel it and add another.",
            )
        });
    }
    let to = changes.status.unwrap_or(current.status);
    if to != current.status {
        Error::unless_allowed(
            "commitment",
            &current.status,
            &to,
            allowed_next(current.status),
        )?;
    }
    match (to, changes.refusal_reason) {
        (CommitmentStatus::Refused, None) if current.status != CommitmentStatus::Refused => Err(
            Error::unprocessable("refusal_reason", "is required to refuse a commitment"),
        ),
        (to, Some(_)) if to != CommitmentStatus::Refused => Err(Error::unprocessable(
            "refusal_reason",
            "goes only with the status `refused`",
        )),
        _ => Ok(to),
    }
}
