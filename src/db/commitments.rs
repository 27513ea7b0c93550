//! Commitments: what one organization commits to in a plan. Staff manage
//! them; a partner changes the status of its own organization's.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Error;
use crate::db::Tx;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::error::{Violation, violation};
use crate::db::schema::{commitments, plans};
use crate::db::scope::{commitments_visible, plans_visible};
use crate::db::versioned::at_version;
use crate::db::{PageRequest, events};
use crate::domain::commitment::{
    OnBehalf, after_new_terms, allowed_next, check_on_behalf, is_answer,
};
use crate::domain::events::{self as event, EventData};
use crate::domain::principal::Principal;
use crate::domain::{AnswerChannel, CommitmentRefusalReason, CommitmentStatus, PlanStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = commitments, check_for_backend(diesel::pg::Pg))]
pub struct Commitment {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub organization_id: Uuid,
    pub description: String,
    pub frequency: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub status: CommitmentStatus,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub refusal_reason: Option<CommitmentRefusalReason>,
    /// When and by whom (a user or partner client) the proposal was answered.
    pub answered_at: Option<DateTime<Utc>>,
    pub answered_by: Option<Uuid>,
    /// How and when the answer was received, when staff recorded it on the
    /// organization's behalf.
    pub answer_received_via: Option<AnswerChannel>,
    pub answer_received_on: Option<NaiveDate>,
}

impl Commitment {
    /// The answer recorded on the organization's behalf, if it was.
    pub fn on_behalf_of(&self) -> Option<OnBehalf> {
        Some(OnBehalf {
            organization_id: self.organization_id,
            received_via: self.answer_received_via?,
            received_on: self.answer_received_on?,
        })
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = commitments, check_for_backend(diesel::pg::Pg))]
pub struct NewCommitment {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub organization_id: Uuid,
    pub description: String,
    pub frequency: Option<String>,
    pub due_on: Option<NaiveDate>,
}

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

/// What is written, once the commitment's rules have been applied.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = commitments, check_for_backend(diesel::pg::Pg))]
struct Written<'a> {
    description: Option<&'a str>,
    frequency: Option<Option<&'a str>>,
    due_on: Option<Option<NaiveDate>>,
    status: CommitmentStatus,
    #[diesel(treat_none_as_null = true)]
    refusal_reason: Option<CommitmentRefusalReason>,
    answered_at: Option<DateTime<Utc>>,
    answered_by: Option<Uuid>,
    #[diesel(treat_none_as_null = true)]
    answer_received_via: Option<AnswerChannel>,
    #[diesel(treat_none_as_null = true)]
    answer_received_on: Option<NaiveDate>,
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

pub fn not_found() -> Error {
    Error::not_found("No such commitment in your scope.")
}

/// Adds a commitment to a plan in scope that has not ended.
pub async fn add(
    tx: &mut Tx<'_>,
    who: &Principal,
    new: &NewCommitment,
) -> Result<Commitment, Error> {
    let plan: Option<(Uuid, PlanStatus)> = plans::table
        .find(new.plan_id)
        .filter(plans_visible(who))
        .select((plans::pathway_id, plans::status))
        .for_update()
        .first(tx.conn())
        .await
        .optional()?;
    let Some((pathway, status)) = plan else {
        return Err(crate::db::plans::not_found());
    };
    if status == PlanStatus::Ended {
        return Err(Error::conflict(
            "The plan has ended; add commitments to a current plan.",
        ));
    }
    let commitment: Commitment = diesel::insert_into(commitments::table)
        .values(new)
        .returning(Commitment::as_returning())
        .get_result(tx.conn())
        .await
        .map_err(|e| match violation(&e) {
            Some(Violation::ForeignKey) => {
                Error::unprocessable("organization_id", "names no organization")
            }
            _ => e.into(),
        })?;
    crate::db::plans::content_changed(
        tx,
        new.plan_id,
        &format!("commitment {} added", commitment.id),
    )
    .await?;
    events::record(
        tx,
        pathway,
        who.subject.id(),
        EventData::CommitmentAdded(event::CommitmentAdded {
            plan_id: new.plan_id,
            commitment_id: commitment.id,
            organization_id: commitment.organization_id,
            due_on: commitment.due_on,
        }),
    )
    .await?;
    Ok(commitment)
}

/// The commitment, if in the caller's scope: an answer, audited in the same statement,
/// with a `record`; a check without ([`AuditedDsl::audited_one_if`]).
pub async fn find(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
    record: Option<&NewRecord>,
) -> QueryResult<Option<Commitment>> {
    commitments::table
        .find(id)
        .filter(commitments_visible(who))
        .select(Commitment::as_select())
        .audited_one_if(record)
        .get_result(conn)
        .await
        .optional()
}

pub async fn of_plan(
    conn: &mut AsyncPgConnection,
    plan: Uuid,
    page: PageRequest,
    record: &NewRecord,
) -> QueryResult<Vec<Commitment>> {
    let mut query = commitments::table
        .filter(commitments::plan_id.eq(plan))
        .select(Commitment::as_select())
        .order(commitments::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(commitments::id.gt(after));
    }
    query
        .audited_page(record, "id", page.limit)
        .load(conn)
        .await
}

/// Applies `changes` to a commitment in scope, at `version`, with its event.
pub async fn update(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
    version: i32,
    changes: &CommitmentChanges,
) -> Result<Commitment, Error> {
    let locked = commitments::table
        .find(id)
        .filter(commitments_visible(who))
        .select(Commitment::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?;
    let current = at_version(locked, version).map_err(|e| e.refused(not_found))?;
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
    let pathway: Uuid = plans::table
        .find(current.plan_id)
        .select(plans::pathway_id)
        .first(tx.conn())
        .await?;
    // New terms or a cancellation change what the person agreed to.
    let content_change = if changes.changes_terms() {
        Some(format!("commitment {id}: new terms"))
    } else if status == CommitmentStatus::Cancelled && current.status != status {
        Some(format!("commitment {id} cancelled"))
    } else {
        None
    };
    if let Some(what) = content_change {
        crate::db::plans::content_changed(tx, current.plan_id, &what).await?;
    }
    let updated: Commitment = diesel::update(commitments::table.find(id))
        .set((written, commitments::version.eq(version + 1)))
        .returning(Commitment::as_returning())
        .get_result(tx.conn())
        .await?;
    events::record(
        tx,
        pathway,
        who.subject.id(),
        EventData::CommitmentUpdated(event::CommitmentUpdated {
            plan_id: current.plan_id,
            commitment_id: id,
            organization_id: current.organization_id,
            from: current.status,
            to: updated.status,
            refusal_reason: updated.refusal_reason,
            on_behalf_of: changes.on_behalf_of,
        }),
    )
    .await?;
    Ok(updated)
}
