//! Critical situations escalated to a named organization: staff who steer
//! a pathway flagged critical send it, with a short summary and a day the
//! answer is due; the recipient (its partner client, or staff recording
//! what it said) acknowledges and answers; the département closes it. The
//! moves are `domain::escalation`'s; each one writes its event, which the
//! recipient also reads in its feed.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Tx;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::error::{Violation, violation};
use crate::db::schema::{escalations, organizations, pathways, persons, territories, users};
use crate::db::scope::escalations_visible;
use crate::db::versioned::at_version;
use crate::db::{Error, PageRequest, events, pathways as pathway_rows};
use crate::domain::escalation::{self, side_of};
use crate::domain::events::{self as event, EventData};
use crate::domain::policy::may_move_escalation;
use crate::domain::principal::Principal;
use crate::domain::{Domain, EscalationClosure, EscalationLevel, EscalationStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = escalations, check_for_backend(diesel::pg::Pg))]
pub struct Escalation {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub organization_id: Uuid,
    pub level: EscalationLevel,
    pub summary: String,
    pub due_on: NaiveDate,
    pub status: EscalationStatus,
    pub sent_by: Uuid,
    pub sent_at: DateTime<Utc>,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub closure: Option<EscalationClosure>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// An escalation with what its reader is told around it: the pathway's
/// domain and service, the recipient's name, and who sent it (the person
/// to call).
#[derive(Debug, Clone)]
pub struct Shown {
    pub escalation: Escalation,
    pub domain: Domain,
    pub territory_id: Uuid,
    pub territory_name: String,
    pub organization_name: String,
    pub sender_name: String,
    pub sender_email: String,
}

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

/// What the listing keeps.
#[derive(Debug, Default, Clone, Copy)]
pub struct Filters {
    pub pathway: Option<Uuid>,
    pub status: Option<EscalationStatus>,
    /// Only those whose answer is overdue today.
    pub overdue: bool,
}

pub fn not_found() -> Error {
    Error::not_found("No such escalation in your scope.")
}

/// Sends the critical situation of a pathway the caller steers to an
/// organization, with its event (the recipient follows the pathway from
/// then on). Run in the caller's transaction.
pub async fn send(
    tx: &mut Tx<'_>,
    who: &Principal,
    new: &NewEscalation,
) -> Result<Escalation, Error> {
    let pathway = pathway_rows::lock_open_to_steer(tx, who, new.pathway_id).await?;
    let Some(level) = pathway.critical_level else {
        return Err(Error::conflict(
            "The situation is not flagged critical: flag it first \
             (PUT /v1/pathways/{id}/critical), then escalate it.",
        ));
    };
    let objected: bool = persons::table
        .find(pathway.person_id)
        .select(persons::sharing_objection)
        .first(tx.conn())
        .await?;
    if objected {
        return Err(Error::conflict(
            "The person objected to sharing with partners: nothing of the situation may be \
             sent to another organization.",
        ));
    }
    let known: Option<Uuid> = organizations::table
        .find(new.organization_id)
        .select(organizations::id)
        .first(tx.conn())
        .await
        .optional()?;
    if known.is_none() {
        return Err(Error::unprocessable(
            "organization_id",
            "names no organization",
        ));
    }
    let sent: Escalation = diesel::insert_into(escalations::table)
        .values((
            escalations::id.eq(new.id),
            escalations::pathway_id.eq(new.pathway_id),
            escalations::organization_id.eq(new.organization_id),
            escalations::level.eq(level),
            escalations::summary.eq(&new.summary),
            escalations::due_on.eq(new.due_on),
            escalations::sent_by.eq(who.subject.id()),
        ))
        .returning(Escalation::as_returning())
        .get_result(tx.conn())
        .await
        .map_err(|e| match violation(&e) {
            Some(Violation::Unique) => Error::conflict(
                "This situation is already escalated to this organization and not closed yet.",
            ),
            _ => e.into(),
        })?;
    events::record(
        tx,
        sent.pathway_id,
        who.subject.id(),
        EventData::EscalationSent(event::EscalationSent {
            escalation_id: sent.id,
            organization_id: sent.organization_id,
            level,
            due_on: sent.due_on,
        }),
    )
    .await?;
    Ok(sent)
}

/// Moves an escalation in scope, read at `version`, as `change` says, with
/// its event. Run in the caller's transaction.
pub async fn advance(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
    version: i32,
    change: &Move,
) -> Result<Escalation, Error> {
    let locked = escalations::table
        .find(id)
        .filter(escalations_visible(who))
        .select(Escalation::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?;
    let current = at_version(locked, version).map_err(|e| e.refused(not_found))?;
    let to = change.to();
    let allowed = escalation::allowed_next(current.status);
    Error::unless_allowed("escalation", &current.status, &to, allowed)?;
    let referent: Option<Uuid> = pathways::table
        .find(current.pathway_id)
        .select(pathways::referent_id)
        .first(tx.conn())
        .await?;
    if !may_move_escalation(who.role, who.subject.id(), referent, side_of(to)) {
        return Err(pathway_rows::not_steering());
    }
    let by = who.subject.id();
    let now = Utc::now();
    let row = escalations::table.find(id);
    let next = (
        escalations::status.eq(to),
        escalations::version.eq(version + 1),
    );
    let updated: Escalation = match change {
        Move::Acknowledge => {
            diesel::update(row)
                .set((
                    next,
                    escalations::acknowledged_by.eq(by),
                    escalations::acknowledged_at.eq(now),
                ))
                .returning(Escalation::as_returning())
                .get_result(tx.conn())
                .await?
        }
        Move::Answer(answer) => {
            // Answering acknowledges, when that was not done first.
            diesel::update(row)
                .set((
                    next,
                    escalations::acknowledged_by.eq(current.acknowledged_by.unwrap_or(by)),
                    escalations::acknowledged_at.eq(current.acknowledged_at.unwrap_or(now)),
                    escalations::answer.eq(answer),
                    escalations::answered_by.eq(by),
                    escalations::answered_at.eq(now),
                ))
                .returning(Escalation::as_returning())
                .get_result(tx.conn())
                .await?
        }
        Move::Close(closure) => {
            diesel::update(row)
                .set((
                    next,
                    escalations::closure.eq(closure),
                    escalations::closed_by.eq(by),
                    escalations::closed_at.eq(now),
                ))
                .returning(Escalation::as_returning())
                .get_result(tx.conn())
                .await?
        }
    };
    events::record(
        tx,
        current.pathway_id,
        by,
        EventData::EscalationStatusChanged(event::EscalationStatusChanged {
            escalation_id: id,
            organization_id: current.organization_id,
            from: current.status,
            to,
            closure: updated.closure,
        }),
    )
    .await?;
    Ok(updated)
}

/// The escalation with what its reader is told, if in the caller's scope;
/// audited in the same statement with a `record`.
pub async fn find(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
    record: Option<&NewRecord>,
) -> QueryResult<Option<Shown>> {
    let found: Option<Escalation> = escalations::table
        .find(id)
        .filter(escalations_visible(who))
        .select(Escalation::as_select())
        .audited_one_if(record)
        .get_result(conn)
        .await
        .optional()?;
    match found {
        Some(found) => Ok(shown(conn, vec![found]).await?.pop()),
        None => Ok(None),
    }
}

/// An escalation just written, with what its reader is told around it.
pub async fn shown_one(conn: &mut AsyncPgConnection, row: Escalation) -> Result<Shown, Error> {
    shown(conn, vec![row]).await?.pop().ok_or_else(not_found)
}

/// Escalations already read in scope (or just written), each with what its
/// reader is told around it, in the same order.
async fn shown(conn: &mut AsyncPgConnection, rows: Vec<Escalation>) -> QueryResult<Vec<Shown>> {
    let ids: Vec<Uuid> = rows.iter().map(|e| e.id).collect();
    let mut around: Vec<(Uuid, Domain, Uuid, String, String, String, String)> = escalations::table
        .inner_join(pathways::table.inner_join(territories::table))
        .inner_join(organizations::table)
        .inner_join(users::table)
        .filter(escalations::id.eq_any(&ids))
        .select((
            escalations::id,
            pathways::domain,
            pathways::territory_id,
            territories::name,
            organizations::name,
            users::display_name,
            users::email,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|escalation| {
            let at = around.iter().position(|a| a.0 == escalation.id)?;
            let (_, domain, territory_id, territory_name, organization_name, name, email) =
                around.swap_remove(at);
            Some(Shown {
                escalation,
                domain,
                territory_id,
                territory_name,
                organization_name,
                sender_name: name,
                sender_email: email,
            })
        })
        .collect())
}

/// One page of the escalations in the caller's scope that `filters` keep,
/// in id order (oldest first); audited in the same statement.
pub async fn list(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    filters: Filters,
    today: NaiveDate,
    page: PageRequest,
    record: &NewRecord,
) -> QueryResult<Vec<Shown>> {
    let mut query = escalations::table
        .filter(escalations_visible(who))
        .select(Escalation::as_select())
        .order(escalations::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(escalations::id.gt(after));
    }
    if let Some(pathway) = filters.pathway {
        query = query.filter(escalations::pathway_id.eq(pathway));
    }
    if let Some(status) = filters.status {
        query = query.filter(escalations::status.eq(status));
    }
    if filters.overdue {
        query = query
            .filter(escalations::status.eq_any(escalation::UNANSWERED))
            .filter(escalations::due_on.lt(today));
    }
    let rows = query
        .audited_page(record, "id", page.limit)
        .load(conn)
        .await?;
    shown(conn, rows).await
}
