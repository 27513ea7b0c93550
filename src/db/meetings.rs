//! GOS meetings (groupe opérationnel de synthèse) of a pathway: convened
//! for a time with their invitees (the invited organizations follow the
//! pathway and receive the invitation in their feed), then held with their
//! outcome or called off; or recorded once held. The moves are
//! `domain::meeting`'s.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Error;
use crate::db::Tx;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::error::{Violation, violation};
use crate::db::schema::{meeting_organizations, meeting_users, meetings};
use crate::db::scope::meetings_visible;
use crate::db::versioned::at_version;
use crate::db::{PageRequest, events, pathways};
use crate::domain::MeetingStatus;
use crate::domain::events::{self as event, EventData};
use crate::domain::meeting;
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

/// A meeting with its invitees, or who took part once held.
#[derive(Debug, Clone)]
pub struct MeetingWithParticipants {
    pub meeting: Meeting,
    pub organizations: Vec<Uuid>,
    pub users: Vec<Uuid>,
}

/// When a new meeting is: convened for a time, or already held.
#[derive(Debug, Clone)]
pub enum When {
    Planned(DateTime<Utc>),
    Held { on: NaiveDate, outcome: String },
}

pub struct NewMeeting {
    pub pathway_id: Uuid,
    pub when: When,
    pub person_agreed: bool,
    pub plan_id: Option<Uuid>,
    pub organizations: Vec<Uuid>,
    pub users: Vec<Uuid>,
}

/// A move of a convened meeting.
#[derive(Debug, Clone)]
pub enum Move {
    /// Held, with who took part when they differ from the invitees.
    Hold {
        on: NaiveDate,
        outcome: String,
        person_agreed: bool,
        organizations: Option<Vec<Uuid>>,
        users: Option<Vec<Uuid>>,
    },
    Cancel(String),
}

impl Move {
    fn to(&self) -> MeetingStatus {
        match self {
            Move::Hold { .. } => MeetingStatus::Held,
            Move::Cancel(_) => MeetingStatus::Cancelled,
        }
    }
}

pub fn not_found() -> Error {
    Error::not_found("No such meeting in your territories and domains.")
}

/// Records a meeting of an open pathway in scope, convened or held, with
/// its participants and its event. Run in the caller's transaction.
pub async fn record(
    tx: &mut Tx<'_>,
    who: &Principal,
    new: &NewMeeting,
) -> Result<MeetingWithParticipants, Error> {
    pathways::lock_open_for_child(tx, who, new.pathway_id).await?;
    let (status, planned_at, held_on, outcome) = match &new.when {
        When::Planned(at) => (MeetingStatus::Planned, Some(*at), None, None),
        When::Held { on, outcome } => (MeetingStatus::Held, None, Some(*on), Some(outcome)),
    };
    let meeting: Meeting = diesel::insert_into(meetings::table)
        .values((
            meetings::id.eq(Uuid::now_v7()),
            meetings::pathway_id.eq(new.pathway_id),
            meetings::status.eq(status),
            meetings::planned_at.eq(planned_at),
            meetings::plan_id.eq(new.plan_id),
            meetings::held_on.eq(held_on),
            meetings::person_agreed.eq(new.person_agreed),
            meetings::outcome.eq(outcome),
            meetings::recorded_by.eq(who.subject.id()),
        ))
        .returning(Meeting::as_returning())
        .get_result(tx.conn())
        .await
        .map_err(|e| match violation(&e) {
            Some(Violation::ForeignKey) => {
                Error::unprocessable("plan_id", "names no plan of this pathway")
            }
            _ => e.into(),
        })?;
    set_participants(tx, meeting.id, &new.organizations, &new.users).await?;
    let data = match &new.when {
        When::Planned(at) => EventData::MeetingPlanned(event::MeetingPlanned {
            meeting_id: meeting.id,
            // As stored (PostgreSQL keeps microseconds).
            planned_at: meeting.planned_at.unwrap_or(*at),
            organization_ids: new.organizations.clone(),
            plan_id: meeting.plan_id,
        }),
        When::Held { on, .. } => held(&meeting, *on, &new.organizations),
    };
    events::record(tx, new.pathway_id, who.subject.id(), data).await?;
    Ok(MeetingWithParticipants {
        meeting,
        organizations: new.organizations.clone(),
        users: new.users.clone(),
    })
}

fn held(meeting: &Meeting, on: NaiveDate, organizations: &[Uuid]) -> EventData {
    EventData::MeetingHeld(event::MeetingHeld {
        meeting_id: meeting.id,
        held_on: on,
        person_agreed: meeting.person_agreed,
        organization_ids: organizations.to_vec(),
    })
}

/// Replaces who takes part in a meeting.
async fn set_participants(
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

/// Holds or calls off a convened meeting in scope, read at `version`, with
/// its event. Run in the caller's transaction.
pub async fn advance(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
    version: i32,
    change: &Move,
) -> Result<MeetingWithParticipants, Error> {
    let locked = meetings::table
        .find(id)
        .filter(meetings_visible(who))
        .select(Meeting::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?;
    let current = at_version(locked, version).map_err(|e| e.refused(not_found))?;
    // Held: a record of the pathway, which must be open; called off: also
    // once the pathway closed, so that no GOS stays planned forever.
    if matches!(change, Move::Hold { .. }) {
        pathways::lock_open_for_child(tx, who, current.pathway_id).await?;
    }
    let to = change.to();
    let allowed = meeting::allowed_next(current.status);
    Error::unless_allowed("meeting", &current.status, &to, allowed)?;
    let (invited, invited_users) = with_participants(tx, vec![current.clone()])
        .await?
        .pop()
        .map(|m| (m.organizations, m.users))
        .unwrap_or_default();
    let row = meetings::table.find(id);
    let next = (meetings::status.eq(to), meetings::version.eq(version + 1));
    match change {
        Move::Hold {
            on,
            outcome,
            person_agreed,
            organizations,
            users,
        } => {
            let updated: Meeting = diesel::update(row)
                .set((
                    next,
                    meetings::held_on.eq(on),
                    meetings::outcome.eq(outcome),
                    meetings::person_agreed.eq(person_agreed),
                    meetings::recorded_by.eq(who.subject.id()),
                ))
                .returning(Meeting::as_returning())
                .get_result(tx.conn())
                .await?;
            let organizations = organizations.clone().unwrap_or(invited);
            let users = users.clone().unwrap_or(invited_users);
            set_participants(tx, id, &organizations, &users).await?;
            let data = held(&updated, *on, &organizations);
            events::record(tx, updated.pathway_id, who.subject.id(), data).await?;
            Ok(MeetingWithParticipants {
                meeting: updated,
                organizations,
                users,
            })
        }
        Move::Cancel(reason) => {
            let updated: Meeting = diesel::update(row)
                .set((next, meetings::cancel_reason.eq(reason)))
                .returning(Meeting::as_returning())
                .get_result(tx.conn())
                .await?;
            let data = EventData::MeetingCancelled(event::MeetingCancelled {
                meeting_id: id,
                organization_ids: invited.clone(),
            });
            events::record(tx, updated.pathway_id, who.subject.id(), data).await?;
            Ok(MeetingWithParticipants {
                meeting: updated,
                organizations: invited,
                users: invited_users,
            })
        }
    }
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
