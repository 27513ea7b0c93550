//! Critical situations escalated to a named organization: staff who steer
//! a pathway flagged critical send it, with a short summary and a day the
//! answer is due; the recipient (its partner client, or staff recording
//! what it said) acknowledges and answers; the département closes it. The
//! use cases are [`crate::services::escalations`].

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
use crate::db::{Error, PageRequest};
use crate::domain::escalation::{self};
use crate::domain::principal::Principal;
use crate::domain::{Domain, EscalationClosure, EscalationLevel, EscalationStatus};

/// A row of `escalations` as stored: what was sent to which organization,
/// and its answer.
#[derive(
    Debug, Clone, Queryable, Selectable, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[diesel(table_name = escalations, check_for_backend(diesel::pg::Pg))]
#[serde(deny_unknown_fields)]
#[schema(as = EscalationRecord)]
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
    pub answered_by: Option<Uuid>,
    pub answered_at: Option<DateTime<Utc>>,
    pub closure: Option<EscalationClosure>,
    pub closed_by: Option<Uuid>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::db::versioned::versioned!(Escalation);

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

/// Whether the person objected to sharing with partners.
pub async fn sharing_objected(conn: &mut AsyncPgConnection, person: Uuid) -> QueryResult<bool> {
    persons::table
        .find(person)
        .select(persons::sharing_objection)
        .first(conn)
        .await
}

pub async fn organization_exists(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    let known: Option<Uuid> = organizations::table
        .find(id)
        .select(organizations::id)
        .first(conn)
        .await
        .optional()?;
    Ok(known.is_some())
}

/// A new escalation's row.
pub struct NewEscalationRow<'a> {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub organization_id: Uuid,
    pub level: EscalationLevel,
    pub summary: &'a str,
    pub due_on: NaiveDate,
    pub sent_by: Uuid,
}

/// One open escalation per pathway and organization: a second one is
/// refused as a conflict.
pub async fn insert(tx: &mut Tx<'_>, row: &NewEscalationRow<'_>) -> Result<Escalation, Error> {
    diesel::insert_into(escalations::table)
        .values((
            escalations::id.eq(row.id),
            escalations::pathway_id.eq(row.pathway_id),
            escalations::organization_id.eq(row.organization_id),
            escalations::level.eq(row.level),
            escalations::summary.eq(row.summary),
            escalations::due_on.eq(row.due_on),
            escalations::sent_by.eq(row.sent_by),
        ))
        .returning(Escalation::as_returning())
        .get_result(tx.conn())
        .await
        .map_err(|e| match violation(&e) {
            Some(Violation::Unique) => Error::conflict(
                "This situation is already escalated to this organization and not closed yet.",
            ),
            _ => e.into(),
        })
}

/// The escalation `id` if in the caller's scope, locked for a move.
pub async fn lock_in_scope(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
) -> QueryResult<Option<Escalation>> {
    escalations::table
        .find(id)
        .filter(escalations_visible(who))
        .select(Escalation::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()
}

/// Acknowledged by `by` at `at`.
pub async fn acknowledge(
    tx: &mut Tx<'_>,
    current: &Escalation,
    by: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<Escalation> {
    diesel::update(escalations::table.find(current.id))
        .set((
            escalations::status.eq(EscalationStatus::Acknowledged),
            escalations::version.eq(current.version + 1),
            escalations::acknowledged_by.eq(by),
            escalations::acknowledged_at.eq(at),
        ))
        .returning(Escalation::as_returning())
        .get_result(tx.conn())
        .await
}

/// Answered by `by` at `at`; acknowledged too, when it was not first.
pub async fn answer(
    tx: &mut Tx<'_>,
    current: &Escalation,
    answer: &str,
    by: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<Escalation> {
    diesel::update(escalations::table.find(current.id))
        .set((
            escalations::status.eq(EscalationStatus::Answered),
            escalations::version.eq(current.version + 1),
            escalations::acknowledged_by.eq(current.acknowledged_by.unwrap_or(by)),
            escalations::acknowledged_at.eq(current.acknowledged_at.unwrap_or(at)),
            escalations::answer.eq(answer),
            escalations::answered_by.eq(by),
            escalations::answered_at.eq(at),
        ))
        .returning(Escalation::as_returning())
        .get_result(tx.conn())
        .await
}

/// Closed by `by` at `at`, as `closure` says.
pub async fn close(
    tx: &mut Tx<'_>,
    current: &Escalation,
    closure: EscalationClosure,
    by: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<Escalation> {
    diesel::update(escalations::table.find(current.id))
        .set((
            escalations::status.eq(EscalationStatus::Closed),
            escalations::version.eq(current.version + 1),
            escalations::closure.eq(closure),
            escalations::closed_by.eq(by),
            escalations::closed_at.eq(at),
        ))
        .returning(Escalation::as_returning())
        .get_result(tx.conn())
        .await
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
