//! GOS meetings (groupe opérationnel de synthèse) of a pathway: convened
//! for a time with their invitees (the invited organizations follow the
//! pathway and receive the invitation in their feed), then held with their
//! outcome or called off; or recorded once held. The use cases are
//! [`crate::services::meetings`].

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Error;
use crate::db::PageRequest;
use crate::db::Tx;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::error::{Violation, violation};
use crate::db::schema::{meeting_organizations, meeting_users, meetings};
use crate::db::scope::meetings_visible;
use crate::domain::MeetingStatus;
use crate::domain::principal::Principal;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meetings, check_for_backend(diesel::pg::Pg))]
pub struct Meeting {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub status: MeetingStatus,
    pub planned_at: Option<DateTime<Utc>>,
    pub plan_id: Option<Uuid>,
    pub held_on: Option<NaiveDate>,
    pub person_agreed: bool,
    pub outcome: Option<String>,
    pub cancel_reason: Option<String>,
    pub recorded_by: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

crate::db::versioned::versioned!(Meeting);

/// A meeting with its invitees, or who took part once held.
#[derive(Debug, Clone)]
pub struct MeetingWithParticipants {
    pub meeting: Meeting,
    pub organizations: Vec<Uuid>,
    pub users: Vec<Uuid>,
}

pub fn not_found() -> Error {
    Error::not_found("No such meeting in your territories and domains.")
}

/// A new meeting's row: convened (`planned_at`) or held (`held_on`,
/// `outcome`).
#[derive(Insertable)]
#[diesel(table_name = meetings, check_for_backend(diesel::pg::Pg))]
pub struct NewMeetingRow<'a> {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub status: MeetingStatus,
    pub planned_at: Option<DateTime<Utc>>,
    pub plan_id: Option<Uuid>,
    pub held_on: Option<NaiveDate>,
    pub person_agreed: bool,
    pub outcome: Option<&'a str>,
    pub recorded_by: Uuid,
}

pub async fn insert(tx: &mut Tx<'_>, row: &NewMeetingRow<'_>) -> Result<Meeting, Error> {
    diesel::insert_into(meetings::table)
        .values(row)
        .returning(Meeting::as_returning())
        .get_result(tx.conn())
        .await
        .map_err(|e| match violation(&e) {
            Some(Violation::ForeignKey) => {
                Error::unprocessable("plan_id", "names no plan of this pathway")
            }
            _ => e.into(),
        })
}

/// Replaces who takes part in a meeting.
pub async fn set_participants(
    tx: &mut Tx<'_>,
    meeting: Uuid,
    organizations: &[Uuid],
    users: &[Uuid],
) -> Result<(), Error> {
    diesel::delete(
        meeting_organizations::table.filter(meeting_organizations::meeting_id.eq(meeting)),
    )
    .execute(tx.conn())
    .await?;
    diesel::delete(meeting_users::table.filter(meeting_users::meeting_id.eq(meeting)))
        .execute(tx.conn())
        .await?;
    let organizations: Vec<_> = organizations
        .iter()
        .map(|o| {
            (
                meeting_organizations::meeting_id.eq(meeting),
                meeting_organizations::organization_id.eq(*o),
            )
        })
        .collect();
    diesel::insert_into(meeting_organizations::table)
        .values(&organizations)
        .on_conflict_do_nothing()
        .execute(tx.conn())
        .await
        .map_err(|e| participant_error(e, "organization_ids"))?;
    let users: Vec<_> = users
        .iter()
        .map(|u| {
            (
                meeting_users::meeting_id.eq(meeting),
                meeting_users::user_id.eq(*u),
            )
        })
        .collect();
    diesel::insert_into(meeting_users::table)
        .values(&users)
        .on_conflict_do_nothing()
        .execute(tx.conn())
        .await
        .map_err(|e| participant_error(e, "user_ids"))?;
    Ok(())
}

fn participant_error(error: diesel::result::Error, field: &str) -> Error {
    match violation(&error) {
        Some(Violation::ForeignKey) => {
            Error::unprocessable(field, "names an id that does not exist")
        }
        _ => error.into(),
    }
}

/// The meeting `id` if in the caller's scope, locked for a move.
pub async fn lock_in_scope(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
) -> QueryResult<Option<Meeting>> {
    meetings::table
        .find(id)
        .filter(meetings_visible(who))
        .select(Meeting::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()
}

/// Who was invited to, or took part in, `meeting`: organizations, users.
pub async fn participants(
    conn: &mut AsyncPgConnection,
    meeting: &Meeting,
) -> QueryResult<(Vec<Uuid>, Vec<Uuid>)> {
    Ok(with_participants(conn, vec![meeting.clone()])
        .await?
        .pop()
        .map(|m| (m.organizations, m.users))
        .unwrap_or_default())
}

/// Marks the meeting at `version` held, by `by`.
pub async fn hold(
    tx: &mut Tx<'_>,
    id: Uuid,
    version: i32,
    on: NaiveDate,
    outcome: &str,
    person_agreed: bool,
    by: Uuid,
) -> QueryResult<Meeting> {
    diesel::update(meetings::table.find(id))
        .set((
            meetings::status.eq(MeetingStatus::Held),
            meetings::version.eq(version + 1),
            meetings::held_on.eq(on),
            meetings::outcome.eq(outcome),
            meetings::person_agreed.eq(person_agreed),
            meetings::recorded_by.eq(by),
        ))
        .returning(Meeting::as_returning())
        .get_result(tx.conn())
        .await
}

/// Marks the meeting at `version` called off, for `reason`.
pub async fn cancel(tx: &mut Tx<'_>, id: Uuid, version: i32, reason: &str) -> QueryResult<Meeting> {
    diesel::update(meetings::table.find(id))
        .set((
            meetings::status.eq(MeetingStatus::Cancelled),
            meetings::version.eq(version + 1),
            meetings::cancel_reason.eq(reason),
        ))
        .returning(Meeting::as_returning())
        .get_result(tx.conn())
        .await
}

/// Meetings with who takes part in each (invitees, then participants once
/// held), in the same order; each list in id order.
async fn with_participants(
    conn: &mut AsyncPgConnection,
    rows: Vec<Meeting>,
) -> QueryResult<Vec<MeetingWithParticipants>> {
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let organizations: Vec<(Uuid, Uuid)> = meeting_organizations::table
        .filter(meeting_organizations::meeting_id.eq_any(&ids))
        .select((
            meeting_organizations::meeting_id,
            meeting_organizations::organization_id,
        ))
        .order(meeting_organizations::organization_id)
        .load(&mut *conn)
        .await?;
    let users: Vec<(Uuid, Uuid)> = meeting_users::table
        .filter(meeting_users::meeting_id.eq_any(&ids))
        .select((meeting_users::meeting_id, meeting_users::user_id))
        .order(meeting_users::user_id)
        .load(&mut *conn)
        .await?;
    let of = |pairs: &[(Uuid, Uuid)], id: Uuid| -> Vec<Uuid> {
        pairs
            .iter()
            .filter(|(m, _)| *m == id)
            .map(|(_, x)| *x)
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|meeting| MeetingWithParticipants {
            organizations: of(&organizations, meeting.id),
            users: of(&users, meeting.id),
            meeting,
        })
        .collect())
}

/// The meeting with its participants, if in the caller's scope; audited in
/// the same statement with a `record`.
pub async fn find(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
    record: Option<&NewRecord>,
) -> QueryResult<Option<MeetingWithParticipants>> {
    let found: Option<Meeting> = meetings::table
        .find(id)
        .filter(meetings_visible(who))
        .select(Meeting::as_select())
        .audited_one_if(record)
        .get_result(conn)
        .await
        .optional()?;
    match found {
        Some(meeting) => Ok(with_participants(conn, vec![meeting]).await?.pop()),
        None => Ok(None),
    }
}

pub async fn of_pathway(
    conn: &mut AsyncPgConnection,
    pathway: Uuid,
    page: PageRequest,
    record: &NewRecord,
) -> QueryResult<Vec<MeetingWithParticipants>> {
    let mut query = meetings::table
        .filter(meetings::pathway_id.eq(pathway))
        .select(Meeting::as_select())
        .order(meetings::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(meetings::id.gt(after));
    }
    let rows: Vec<Meeting> = query
        .audited_page(record, "id", page.limit)
        .load(conn)
        .await?;
    with_participants(conn, rows).await
}
