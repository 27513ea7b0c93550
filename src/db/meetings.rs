//! GOS meetings (groupe opérationnel de synthèse) of a pathway.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Error;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::error::{Violation, violation};
use crate::db::schema::{meeting_organizations, meeting_users, meetings};
use crate::db::{PageRequest, events, pathways};
use crate::domain::events::{self as event, EventData};
use crate::domain::principal::Principal;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meetings, check_for_backend(diesel::pg::Pg))]
pub struct Meeting {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub held_on: NaiveDate,
    pub person_agreed: bool,
    pub outcome: String,
    pub recorded_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A meeting with who took part.
#[derive(Debug, Clone)]
pub struct MeetingWithParticipants {
    pub meeting: Meeting,
    pub organizations: Vec<Uuid>,
    pub users: Vec<Uuid>,
}

pub struct NewMeeting {
    pub pathway_id: Uuid,
    pub held_on: NaiveDate,
    pub person_agreed: bool,
    pub outcome: String,
    pub organizations: Vec<Uuid>,
    pub users: Vec<Uuid>,
}

pub async fn record(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    new: &NewMeeting,
) -> Result<MeetingWithParticipants, Error> {
    conn.transaction(async |conn| {
        pathways::lock_open_for_child(conn, who, new.pathway_id).await?;
        let meeting: Meeting = diesel::insert_into(meetings::table)
            .values((
                meetings::id.eq(Uuid::now_v7()),
                meetings::pathway_id.eq(new.pathway_id),
                meetings::held_on.eq(new.held_on),
                meetings::person_agreed.eq(new.person_agreed),
                meetings::outcome.eq(&new.outcome),
                meetings::recorded_by.eq(who.subject.id()),
            ))
            .returning(Meeting::as_returning())
            .get_result(&mut *conn)
            .await?;
        let organizations: Vec<_> = new
            .organizations
            .iter()
            .map(|o| {
                (
                    meeting_organizations::meeting_id.eq(meeting.id),
                    meeting_organizations::organization_id.eq(*o),
                )
            })
            .collect();
        diesel::insert_into(meeting_organizations::table)
            .values(&organizations)
            .on_conflict_do_nothing()
            .execute(&mut *conn)
            .await
            .map_err(|e| participant_error(e, "organization_ids"))?;
        let users: Vec<_> = new
            .users
            .iter()
            .map(|u| {
                (
                    meeting_users::meeting_id.eq(meeting.id),
                    meeting_users::user_id.eq(*u),
                )
            })
            .collect();
        diesel::insert_into(meeting_users::table)
            .values(&users)
            .on_conflict_do_nothing()
            .execute(&mut *conn)
            .await
            .map_err(|e| participant_error(e, "user_ids"))?;
        events::record(
            conn,
            new.pathway_id,
            who.subject.id(),
            EventData::MeetingHeld(event::MeetingHeld {
                meeting_id: meeting.id,
                held_on: meeting.held_on,
                person_agreed: meeting.person_agreed,
                organization_ids: new.organizations.clone(),
            }),
        )
        .await?;
        Ok(MeetingWithParticipants {
            meeting,
            organizations: new.organizations.clone(),
            users: new.users.clone(),
        })
    })
    .await
}

fn participant_error(error: diesel::result::Error, field: &str) -> Error {
    match violation(&error) {
        Some(Violation::ForeignKey) => {
            Error::unprocessable(field, "names an id that does not exist")
        }
        _ => error.into(),
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
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(meetings::id.gt(after));
    }
    let rows: Vec<Meeting> = query
        .audited_list(record, "id", page.limit)
        .load(conn)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let organizations: Vec<(Uuid, Uuid)> = meeting_organizations::table
        .filter(meeting_organizations::meeting_id.eq_any(&ids))
        .select((
            meeting_organizations::meeting_id,
            meeting_organizations::organization_id,
        ))
        .load(conn)
        .await?;
    let users: Vec<(Uuid, Uuid)> = meeting_users::table
        .filter(meeting_users::meeting_id.eq_any(&ids))
        .select((meeting_users::meeting_id, meeting_users::user_id))
        .load(conn)
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
